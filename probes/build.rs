//! Builds the BPF objects in bpf/ with clang when it is available (through
//! bpf/compile.sh, which also check-objects.sh uses, so flags agree);
//! otherwise, or when BPF_PREBUILT is set, copies the committed objects, so
//! that `cargo build` works on a machine without clang or libbpf-dev.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

const OBJECTS: [&str; 1] = ["net"];

fn have_clang() -> bool {
    if env::var_os("BPF_CLANG").is_some() {
        return true;
    }
    ["clang-19", "clang"].into_iter().any(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn compile(bpf_dir: &Path, name: &str, out: &Path) -> Result<(), String> {
    let output = Command::new("sh")
        .arg(bpf_dir.join("compile.sh"))
        .arg(name)
        .arg(out)
        .output()
        .map_err(|e| format!("cannot run compile.sh: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr)
            .lines()
            .take(5)
            .collect::<Vec<_>>()
            .join(" | "))
    }
}

fn main() {
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let bpf_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR")).join("bpf");
    for file in [
        "compile.sh",
        "event.h",
        "vmlinux_min.h",
        "packet.h",
        "sockstate.h",
        "protocols.h",
        "syscall.h",
        "task.h",
        "stacks.h",
        "filter.h",
        "kagg.h",
        "taskinfo.h",
    ] {
        println!("cargo:rerun-if-changed=bpf/{file}");
    }
    println!("cargo:rerun-if-env-changed=BPF_CLANG");
    println!("cargo:rerun-if-env-changed=BPF_PREBUILT");
    let use_clang = env::var_os("BPF_PREBUILT").is_none() && have_clang();
    for name in OBJECTS {
        println!("cargo:rerun-if-changed=bpf/{name}.bpf.c");
        println!("cargo:rerun-if-changed=bpf/{name}.bpf.o");
        let out = out_dir.join(format!("{name}.bpf.o"));
        if use_clang {
            match compile(&bpf_dir, name, &out) {
                Ok(()) => continue,
                Err(e) => println!("cargo:warning=bpf/{name}.bpf.c did not compile ({e}); using the committed object"),
            }
        }
        fs::copy(bpf_dir.join(format!("{name}.bpf.o")), &out)
            .unwrap_or_else(|e| panic!("committed object bpf/{name}.bpf.o: {e}"));
    }
}
