//! "Did you mean": the nearest known name to a misspelt one (strsim's
//! Damerau-Levenshtein distance), and the D names for other tracers'
//! habits (bpftrace's `comm`, `nsecs`, `kstack` …).

/// Names users bring from bpftrace and other tools, and their D spelling.
const HABITS: &[(&str, &str)] = &[
    ("comm", "execname"),
    ("nsecs", "timestamp"),
    ("elapsed", "timestamp - start (set in BEGIN)"),
    ("kstack", "stack()"),
    ("ustack", "ustack()"),
    ("curtask", "curpsinfo / curlwpsinfo"),
    ("retval", "arg1 (in a return probe)"),
    ("arg", "arg0, arg1 … or args[0], args[1] …"),
    ("username", "uid"),
    ("cgroup", "curpsinfo"),
    ("func", "probefunc"),
    ("probe", "probeprov, probemod, probefunc, probename"),
];

/// The D name for another tool's `name`.
pub(crate) fn habit(name: &str) -> Option<&'static str> {
    HABITS.iter().find(|(n, _)| *n == name).map(|(_, d)| *d)
}

/// The candidate nearest to `name`, when near enough to be a typo.
pub(crate) fn nearest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, c)| *d <= limit && *d < c.chars().count())
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// A help line: the habit's D name, else the nearest candidate.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    if let Some(d) = habit(name) {
        return Some(format!("D calls it {d}"));
    }
    nearest(name, candidates).map(|c| format!("did you mean {c}?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_and_habits() {
        assert_eq!(
            nearest("recieve", ["send", "receive", "state-change"]),
            Some("receive")
        );
        assert_eq!(nearest("TH_SYNN", ["TH_SYN", "TH_FIN"]), Some("TH_SYN"));
        assert_eq!(nearest("x", ["y", "ab"]), None);
        assert_eq!(nearest("quux", ["execname", "timestamp"]), None);
        assert_eq!(
            did_you_mean("comm", ["pid"]).as_deref(),
            Some("D calls it execname")
        );
        assert_eq!(
            did_you_mean("execnme", ["execname"]).as_deref(),
            Some("did you mean execname?")
        );
    }
}
