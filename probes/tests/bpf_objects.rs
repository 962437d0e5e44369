//! The committed BPF objects must be byte-identical to what their sources
//! compile to (checked when clang is installed; the script says so and
//! passes when it is not). Regenerate with `probes/bpf/check-objects.sh --update`.

use std::path::Path;
use std::process::Command;

#[test]
fn committed_objects_match_sources() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf/check-objects.sh");
    let out = Command::new("sh")
        .arg(&script)
        .output()
        .expect("run check-objects.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprint!("{text}");
    assert!(out.status.success(), "{text}");
}
