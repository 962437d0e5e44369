//! `-l` / `-lv`: the probe listing in dtrace's layout.

use std::fmt::Write;

use rdtrace_lang::catalog::{Catalog, ProbeDef};
use rdtrace_probes::providers::stability::{class_name, stability_name};

/// dtrace's header line for `-l`.
pub fn header() -> String {
    format!(
        "{:>5} {:>10} {:>17} {:>33} {}\n",
        "ID", "PROVIDER", "MODULE", "FUNCTION", "NAME"
    )
}

/// One probe as `-l` prints it; with `verbose`, its argument types as `-lv` does.
pub fn probe_line(p: &ProbeDef, verbose: bool) -> String {
    let mut s = format!(
        "{:>5} {:>10} {:>17} {:>33} {}\n",
        p.id, p.provider, p.module, p.function, p.name
    );
    if verbose {
        // dtrace's print_probe_info(): attributes, then argument types.
        let attrs = rdtrace_probes::providers::provider_named(&p.provider).map(|prov| {
            let a = prov.attributes();
            (a.description(&p.module, &p.function, &p.name), a.args)
        });
        if let Some((desc, args)) = attrs {
            for (title, a) in [
                ("Probe Description Attributes", desc),
                ("Argument Attributes", args),
            ] {
                let _ = write!(
                    s,
                    "\n\t{title}\n\t\tIdentifier Names: {}\n\t\tData Semantics:   {}\n\t\tDependency Class: {}\n",
                    stability_name(a.0),
                    stability_name(a.1),
                    class_name(a.2)
                );
            }
        }
        s.push_str("\n\tArgument Types\n");
        if p.args.is_empty() {
            s.push_str("\t\tNone\n");
        }
        for (i, a) in p.args.iter().enumerate() {
            let _ = writeln!(s, "\t\targs[{i}]: {}", a.display);
        }
        s.push('\n');
    }
    s
}

/// The listing of the given probes (all when `ids` is None), in ID order.
pub fn listing(catalog: &Catalog, ids: Option<&[u32]>, verbose: bool) -> String {
    let mut probes: Vec<&ProbeDef> = catalog
        .probes
        .iter()
        .filter(|p| ids.is_none_or(|ids| ids.contains(&p.id)))
        .collect();
    probes.sort_by_key(|p| p.id);
    let mut out = header();
    for p in probes {
        out.push_str(&probe_line(p, verbose));
    }
    out
}
