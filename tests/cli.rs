//! The command line as dtrace(1) users meet it: exit statuses, diagnostics,
//! listings, options, and the non-quiet output layout.

mod common;

use common::{rdtrace, stderr, stdout};

fn run(args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    rdtrace()
        .current_dir(dir.path())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn bundled_tcpio_compiles_from_an_empty_directory() {
    let o = run(&["-e", "-s", "tcpio.d"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn unknown_member_names_it_and_lists_the_members() {
    let o = run(&[
        "-e",
        "-n",
        r#"tcp:::send { printf("%d\n", args[4]->tcp_bogus); }"#,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("tcp_bogus is not a member of tcpinfo_t"), "{e}");
    assert!(e.contains("tcp_sport, tcp_dport, tcp_seq"), "{e}");
    assert!(e.contains("────┬────"), "label under the span: {e}");
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn printf_argument_must_match_its_conversion() {
    let o = run(&["-e", "-n", r#"tcp:::send { printf("%d\n", "x"); }"#]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("printf( ) argument #2 is incompatible with conversion #1 prototype"),
        "{}",
        stderr(&o)
    );
}

/// As dtrace's usage() (cmd/dtrace.c): the summary of flags on stderr,
/// E_USAGE (2); an unknown flag is named first.
#[test]
fn no_arguments_or_a_bad_flag_print_dtraces_usage_summary() {
    let usage = std::fs::read_to_string(common::repo_file("tests/cli/usage.txt")).unwrap();
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o), usage);
    assert!(stdout(&o).is_empty());
    let o = run(&["--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        format!("rdtrace: unexpected argument '--no-such-flag' found\n{usage}")
    );
    let o = run(&["-s"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("rdtrace: a value is required for '-s <FILE>'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn usage_errors_exit_2_and_unknown_options_exit_1() {
    assert_eq!(run(&["--no-such-flag"]).status.code(), Some(2));
    let o = run(&["-x", "nosuch", "-n", "BEGIN { exit(0); }"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("failed to set option 'nosuch': Invalid option name"),
        "{}",
        stderr(&o)
    );
    let o = run(&["-x", "aggpack", "-n", "BEGIN { exit(0); }"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("not supported by rdtrace"),
        "{}",
        stderr(&o)
    );
    let o = run(&["-h", "-s", "x.d"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("not supported by rdtrace"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unknown_pragma_option_points_at_the_pragma() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("p.d");
    std::fs::write(&script, "#pragma D option nosuch\nBEGIN { exit(0); }\n").unwrap();
    let o = rdtrace().arg("-s").arg(&script).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("failed to set option 'nosuch'") && e.contains("#pragma D option nosuch"),
        "{e}"
    );
}

#[test]
fn missing_script_is_a_clear_error() {
    let o = run(&["-s", "no-such-script.d"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o).trim(),
        "rdtrace: failed to open no-such-script.d: No such file or directory"
    );
}

#[test]
fn listing_has_dtrace_layout() {
    let o = run(&["-l"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("   ID   PROVIDER            MODULE                          FUNCTION NAME")
    );
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("4 ")
            && l.contains(" tcp ")
            && l.ends_with(" send")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains(" tcp ") && l.ends_with(" receive")),
        "{text}"
    );
    let o = run(&["-l", "-n", "tcp:::send"]);
    let filtered = stdout(&o);
    assert_eq!(filtered.lines().count(), 2, "{filtered}");
    assert!(filtered.lines().nth(1).unwrap().ends_with(" send"));
}

/// Without quiet: the notice on stderr, the column heading, the per-clause
/// prefix `%3d %6d %32s ` and a newline after each recording clause, and
/// dtrace's newline at exit.
#[test]
fn non_quiet_output_has_dtrace_layout() {
    let o = run(&[
        "-n",
        r#"BEGIN { printf("hello"); } BEGIN { x = 1; } BEGIN { exit(0); }"#,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "dtrace: description 'BEGIN ' matched 3 probes\n"
    );
    let cpu_free: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            if l.len() > 3 {
                l[3..].to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    assert_eq!(
        cpu_free,
        [
            "     ID                    FUNCTION:NAME",
            "      1                           :BEGIN hello",
            "      1                           :BEGIN ",
            "",
        ]
    );
    assert!(stdout(&o).starts_with("CPU     ID                    FUNCTION:NAME\n"));
    assert!(stdout(&o).ends_with(":BEGIN \n\n"));
}

#[test]
fn quiet_drops_notice_heading_and_prefixes() {
    let o = run(&["-q", "-n", r#"BEGIN { printf("a\tb\n"); exit(7); }"#]);
    assert_eq!(o.status.code(), Some(7));
    assert_eq!(stderr(&o), "");
    assert_eq!(stdout(&o), "a\tb\n\n");
}

#[test]
fn output_file_is_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.txt");
    std::fs::write(&file, "before\n").unwrap();
    for _ in 0..2 {
        let o = rdtrace()
            .args(["-q", "-o"])
            .arg(&file)
            .args(["-n", r#"BEGIN { printf("x\n"); exit(0); }"#])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o), "");
    }
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "before\nx\n\nx\n\n"
    );
}

#[test]
fn macro_arguments_fill_dollar_variables() {
    let o = run(&[
        "-q",
        "-n",
        r#"BEGIN { printf("%d %s\n", $1, $$2); exit(0); }"#,
        "42",
        "word",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "42 word\n\n");
}

#[test]
fn runtime_division_by_zero_drops_the_clause_and_goes_on() {
    let o = run(&[
        "-q",
        "-n",
        r#"BEGIN { z = 0; } BEGIN { printf("lost"); printf("%d", 1 / z); } BEGIN { printf("kept\n"); exit(0); }"#,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "kept\n\n");
    assert_eq!(
        stderr(&o),
        "dtrace: error on enabled probe ID 2 (ID 1: dtrace:::BEGIN): divide-by-zero in action #2\n"
    );
}

#[test]
fn dash_c_traces_while_the_command_runs_and_target_is_its_pid() {
    let o = run(&[
        "-n",
        r#"BEGIN { printf("target=%d", $target); }"#,
        "-c",
        "sleep 0.2",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let pid: u32 = out
        .split("target=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(pid > 0);
    assert!(
        stderr(&o).ends_with(&format!("dtrace: pid {pid} has exited\n")),
        "{}",
        stderr(&o)
    );
}

#[test]
fn dash_p_watches_a_process_and_refuses_a_missing_one() {
    let mut sleeper = std::process::Command::new("sleep")
        .arg("0.3")
        .spawn()
        .unwrap();
    let pid = sleeper.id().to_string();
    let waiter = std::thread::spawn(move || sleeper.wait());
    let o = run(&[
        "-q",
        "-p",
        &pid,
        "-n",
        r#"BEGIN { printf("%d\n", $target); } END { printf("end\n"); }"#,
    ]);
    waiter.join().unwrap().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{pid}\nend\n\n"));
    let o = run(&["-p", "999999999", "-n", "BEGIN {}"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("failed to grab pid 999999999"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_closed_pipe_ends_rdtrace_quietly_like_other_filters() {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let mut child = rdtrace()
        .args([
            "-q",
            "-n",
            r#"tick-1ms { printf("%s\n", "a line of output to fill the pipe"); }"#,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGPIPE), "{status:?}");
    assert_eq!(err, "");
}

/// A capture cut off while being written (tcpdump stopped by ^C) still gets
/// END and the aggregations for what precedes the cut, then the error.
#[test]
fn a_truncated_capture_still_ends_in_order() {
    use common::capture::{seg, write_pcap, Conversation, From::*};
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("cut.pcap");
    let conv = Conversation {
        client: ("192.0.2.40".parse().unwrap(), 40000),
        server: ("192.0.2.8".parse().unwrap(), 22),
        start: std::time::Duration::from_secs(1_764_380_000),
        step: std::time::Duration::from_millis(1),
        segments: vec![
            seg(Client, "S", 0),
            seg(Server, "SA", 0),
            seg(Client, "A", 0),
            seg(Client, "PA", 100),
        ],
    };
    write_pcap(&conv, &pcap);
    let bytes = std::fs::read(&pcap).unwrap();
    std::fs::write(&pcap, &bytes[..bytes.len() - 50]).unwrap();
    let o = rdtrace()
        .args([
            "-q",
            "-n",
            r#"tcp:::receive { @ = count(); } END { printf("end\n"); }"#,
            "--replay",
        ])
        .arg(&pcap)
        .args(["--local", "192.0.2.8"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "end\n\n                2\n");
    assert!(
        stderr(&o).contains("corrupt capture at record 4: the file ends in the middle of a record"),
        "{}",
        stderr(&o)
    );
}

/// With several `-s`, each script's notice counts the probes its own clauses
/// enable in the program as a whole (each clause's enablings, as dtrace:
/// 1 + 2 + 1): b.d uses an inline that a.d defines (checking b.d on its
/// own once reported "matched 0 probes").
#[test]
fn matched_notice_counts_each_script_in_the_whole_program() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.d"), "inline int ANSWER = 42;\n").unwrap();
    std::fs::write(
        dir.path().join("b.d"),
        "BEGIN { printf(\"%d\\n\", ANSWER); }\nBEGIN, END { }\nBEGIN { exit(0); }\n",
    )
    .unwrap();
    let o = rdtrace()
        .current_dir(dir.path())
        .args(["-s", "a.d", "-s", "b.d"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "dtrace: script 'a.d' matched 0 probes\ndtrace: script 'b.d' matched 4 probes\n"
    );
    assert!(stdout(&o).contains("42\n"), "{}", stdout(&o));
}

/// Runs `rdtrace -e -s a.d -s b.d` over the two texts.
fn compile_two(a: &str, b: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.d"), a).unwrap();
    std::fs::write(dir.path().join("b.d"), b).unwrap();
    rdtrace()
        .current_dir(dir.path())
        .args(["-e", "-s", "a.d", "-s", "b.d"])
        .output()
        .unwrap()
}

#[test]
fn a_bad_pragma_is_shown_in_its_own_script() {
    // Both scripts have `strsize` at the same place: only the span's
    // source can tell which one is wrong.
    let o = compile_two(
        "#pragma D option strsize=100\nBEGIN { exit(0); }\n",
        "#pragma D option strsize=abc\nBEGIN { }\n",
    );
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("[b.d:1:1]"), "{e}");
    assert!(e.contains("strsize=abc"), "{e}");
    assert!(!e.contains("a.d"), "{e}");
}

#[test]
fn an_error_in_an_inline_points_into_the_script_that_defines_it() {
    // The inline is checked again where b.d uses it; its args[0] is out of
    // range for BEGIN, and the error is in a.d's text.
    let o = compile_two("inline int P = args[0]->cs_pid;\n", "BEGIN { trace(P); }\n");
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("out of range for dtrace:::BEGIN"), "{e}");
    assert!(!e.contains("[b.d:"), "{e}");
    assert_eq!(e.matches("[a.d:1:16]").count(), 2, "{e}");
}

#[test]
fn probe_flags_name_probes_as_dtrace_does() {
    let listed = |args: &[&str]| -> Vec<String> {
        let o = run(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        stdout(&o).lines().skip(1).map(str::to_string).collect()
    };
    let tcp = listed(&["-l", "-P", "tcp"]);
    assert_eq!(tcp.len(), 8, "{tcp:?}");
    assert!(tcp
        .iter()
        .all(|l| l.split_whitespace().nth(1) == Some("tcp")));
    // -f fills the provider and module from the left, -m the provider.
    let openat = listed(&["-l", "-f", "openat"]);
    assert_eq!(openat.len(), 2, "{openat:?}");
    assert_eq!(listed(&["-l", "-f", "syscall:vmlinux:openat"]), openat);
    let id: &str = openat[0].split_whitespace().next().unwrap();
    assert_eq!(listed(&["-l", "-i", id]), openat[..1]);
    let vmlinux = listed(&["-l", "-m", "vmlinux"]);
    let kernel: usize = ["syscall", "proc", "sched", "io", "tcp", "ip", "udp"]
        .iter()
        .map(|p| listed(&["-l", "-P", p]).len())
        .sum();
    assert_eq!(vmlinux.len(), kernel);
    // Enabling: dtrace's notice names the argument.
    let o = run(&["-P", "dtrace", "-n", "BEGIN { exit(0); }"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("dtrace: description 'dtrace' matched 3 probes\n"),
        "{}",
        stderr(&o)
    );
    let o = run(&["-l", "-i", "99999"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "rdtrace: invalid probe identifier 99999\n");
}

#[test]
fn version_long_and_short() {
    for flag in ["-V", "--version"] {
        let o = run(&[flag]);
        assert_eq!(o.status.code(), Some(0));
        assert!(
            stdout(&o).starts_with("rdtrace: D 1.13 (rdtrace "),
            "{}",
            stdout(&o)
        );
    }
}

#[test]
fn dtrace_flags_without_meaning_here_are_accepted_or_refused_by_name() {
    for flag in ["-32", "-64"] {
        let o = run(&[flag, "-q", "-n", "BEGIN { trace(1); exit(0); }"]);
        assert_eq!(o.status.code(), Some(0), "{flag}: {}", stderr(&o));
        assert_eq!(stdout(&o), "1\n", "{flag}");
    }
    let o = run(&["-X", "a", "-e", "-n", "BEGIN { }"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for (flag, what) in [
        ("-A", "-A (anonymous tracing"),
        ("-a", "-a (claiming anonymous"),
        ("-G", "-G (generating an ELF file"),
    ] {
        let o = run(&[flag, "-n", "BEGIN { }"]);
        assert_eq!(o.status.code(), Some(1), "{flag}");
        let e = stderr(&o);
        assert!(e.starts_with(&format!("rdtrace: {what}")), "{flag}: {e}");
        assert!(e.contains("not supported by rdtrace"), "{flag}: {e}");
    }
}

#[test]
fn dash_cap_c_runs_the_c_preprocessor_first() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("inc")).unwrap();
    std::fs::write(
        dir.path().join("inc/greet.h"),
        "#define GREETING \"hello from an include\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("cpp.d"),
        "#!/usr/sbin/dtrace -Cs\n#include \"greet.h\"\n#define TWICE(x) ((x) * 2)\n\
         #pragma D option quiet\n\nBEGIN\n{\n#if defined(EXTRA)\n\tprintf(\"extra %d\\n\", EXTRA);\n\
         #endif\n\tprintf(\"%s %d\\n\", GREETING, TWICE(21));\n\texit(0);\n}\n",
    )
    .unwrap();
    let o = rdtrace()
        .current_dir(dir.path())
        .args(["-C", "-I", "inc", "-D", "EXTRA=7", "-s", "cpp.d"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "extra 7\nhello from an include 42\n\n");
    // -U takes a definition back; errors point at the script's own lines.
    std::fs::write(
        dir.path().join("err.d"),
        "#define N 1\nBEGIN\n{\n\n  trace(nope);\n}\n",
    )
    .unwrap();
    let o = rdtrace()
        .current_dir(dir.path())
        .args(["-C", "-e", "-s", "err.d"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("[err.d:5:9]"), "{}", stderr(&o));
    let o = rdtrace()
        .current_dir(dir.path())
        .args([
            "-C", "-I", "inc", "-U", "EXTRA", "-D", "EXTRA=7", "-s", "cpp.d",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Without -C a directive says that -C exists.
    let o = rdtrace()
        .current_dir(dir.path())
        .args(["-e", "-s", "err.d"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("run with -C"), "{}", stderr(&o));
    // A missing include is cpp's error, named.
    std::fs::write(
        dir.path().join("miss.d"),
        "#include \"nonexistent.h\"\nBEGIN { }\n",
    )
    .unwrap();
    let o = rdtrace()
        .current_dir(dir.path())
        .args(["-C", "-e", "-s", "miss.d"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("rdtrace: failed to preprocess miss.d: ")
            && stderr(&o).contains("nonexistent.h: No such file or directory"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn scripts_with_a_dtrace_shebang_run_through_a_link() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let dtrace = dir.path().join("dtrace");
    symlink(env!("CARGO_BIN_EXE_rdtrace"), &dtrace).unwrap();
    let script = dir.path().join("hello.d");
    std::fs::write(
        &script,
        format!(
            "#!{} -Cqs\n#define TIMES 2\nBEGIN {{ printf(\"hello %s x%d\\n\", $$1, TIMES); exit(0); }}\n",
            dtrace.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = std::process::Command::new(&script)
        .arg("world")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hello world x2\n\n");
}

/// `--man` prints a roff manual page of every flag; `--completions` each
/// shell's script; `--help` ends with examples.
#[test]
fn manual_page_completions_and_examples() {
    let o = run(&["--man"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let man = stdout(&o);
    assert!(man.contains(".TH rdtrace 1"), "{man}");
    for flag in ["\\-s", "\\-n", "\\-\\-replay", "\\-x"] {
        assert!(man.contains(flag), "{flag} missing from the manual page");
    }
    for (shell, marker) in [
        ("bash", "complete -F _rdtrace"),
        ("zsh", "#compdef rdtrace"),
        ("fish", "complete -c rdtrace"),
    ] {
        let o = run(&["--completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        assert!(stdout(&o).contains(marker), "{shell}: {}", stdout(&o));
    }
    let o = run(&["--completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    let help = stdout(&run(&["--help"]));
    assert!(help.contains("Examples:\n  rdtrace -s tcpio.d"), "{help}");
}

/// `-S` shows each clause's intermediate code on stderr, as dtrace shows
/// its DIF, and changes nothing else.
#[test]
fn dash_s_shows_each_clause_intermediate_code() {
    let o = run(&[
        "-S",
        "-e",
        "-n",
        "BEGIN { x = 1; }",
        "-n",
        "END { trace(x); }",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("\nClause 0 (dtrace:::BEGIN), Cranelift IR:\nfunction "),
        "{e}"
    );
    assert!(
        e.contains("\nClause 1 (dtrace:::END), Cranelift IR:\nfunction "),
        "{e}"
    );
    assert!(stdout(&o).is_empty());
}

/// `-F`: dtrace's flow heading and `=>`/`<=` lines for syscall entries
/// and returns.
#[test]
fn dash_f_indents_entries_and_returns() {
    if !common::netns::live_tests_possible() {
        return;
    }
    let o = run(&[
        "-F",
        "-n",
        "syscall::openat:entry, syscall::openat:return /pid == $target/ { }",
        "-c",
        "/bin/cat /etc/hostname",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(&format!("{:>3} {:<41}\n", "CPU", "FUNCTION")),
        "{out}"
    );
    let flow: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("openat"))
        .map(|l| l[4..].trim_end())
        .collect();
    assert!(!flow.is_empty() && flow.len().is_multiple_of(2), "{out}");
    for pair in flow.chunks(2) {
        assert_eq!(pair, [" => openat", " <= openat"], "{out}");
    }
}

/// `-lv` as dtrace-utils prints it: its test/unittest/ip/tst.lv-send.r
/// (whose PROBE line is the probe row with the ID and function dropped).
#[test]
fn dash_lv_prints_the_attribute_blocks_of_dtrace_utils() {
    let expected = std::fs::read_to_string(common::repo_file("tests/cli/lv-ip-send.r")).unwrap();
    let o = run(&["-lv", "-n", "ip:::send"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let mut lines = out.lines().skip(1);
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let rest: String = lines.map(|l| format!("{l}\n")).collect();
    let got = format!("PROBE {} {} {}\n{rest}", row[1], row[2], row[row.len() - 1]);
    assert_eq!(got, expected);
}

/// dtrace counts each clause's enablings: Oracle's countdown.d demo (three
/// clauses, two probes; counting from 1 here) "matched 3 probes".
#[test]
fn matched_counts_every_clause_as_dtrace_does() {
    let o = run(&[
        "-s",
        common::repo_file("tests/cli/countdown.d").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).ends_with("countdown.d' matched 3 probes\n"),
        "{}",
        stderr(&o)
    );
}

/// `rdtrace --test DIR`: one line per case, the first differing line of a
/// failure with both texts, a summary, exit 1 on a failure; `--bless`
/// records what the scripts print.
#[test]
fn dash_dash_test_runs_and_blesses_golden_cases() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("hello.d"),
        "BEGIN { printf(\"hello %s\\n\", $$1); exit(0); }\n",
    )
    .unwrap();
    std::fs::write(d.join("hello.args"), "-q\n--\nworld\n").unwrap();
    std::fs::write(d.join("hello.out"), "hello world\n\n").unwrap();
    std::fs::write(
        d.join("sum.d"),
        "#pragma D option quiet\nBEGIN { printf(\"%d\\n\", 1 + 1); exit(3); }\n",
    )
    .unwrap();
    std::fs::write(d.join("sum.out"), "3\n\n").unwrap();
    let o = rdtrace().arg("--test").arg(d).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "ok   hello\nFAIL sum\n  stdout line 1:\n    expected: \"3\"\n    got:      \"2\"\n  \
         exit status 3, expected 0\n1 passed, 1 failed\n"
    );
    let o = rdtrace()
        .arg("--test")
        .arg(d)
        .arg("--bless")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(std::fs::read_to_string(d.join("sum.out")).unwrap(), "2\n\n");
    assert_eq!(
        std::fs::read_to_string(d.join("sum.status")).unwrap(),
        "3\n"
    );
    assert!(!d.join("hello.err").exists());
    let o = rdtrace().arg("--test").arg(d).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).ends_with("2 passed, 0 failed\n"),
        "{}",
        stdout(&o)
    );
    // A capture needs the traced host's addresses.
    std::fs::write(d.join("sum.pcap"), b"").unwrap();
    let o = rdtrace().arg("--test").arg(d).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("sum.args must give --local ADDR"),
        "{}",
        stdout(&o)
    );
    // No cases: a usage problem.
    let empty = tempfile::tempdir().unwrap();
    let o = rdtrace().arg("--test").arg(empty.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no test cases"), "{}", stderr(&o));
}

/// Compile errors: dtrace's first line (`failed to compile script x.d:
/// line N:`, `invalid probe specifier`), a bracket left open reported where
/// it was opened, one error for an unknown probe (no cascade), `-n` text
/// shown as typed under a `-n` header, and a warning for `/x = 1/`.
#[test]
fn diagnostics_read_like_dtraces_and_point_at_the_cause() {
    let d = common::repo_file("tests/cli");
    let o = rdtrace()
        .current_dir(&d)
        .args(["-e", "-s", "unclosed_brace.d"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let want = std::fs::read_to_string(d.join("unclosed_brace.err")).unwrap();
    assert_eq!(
        stderr(&o),
        want.replace("tests/cli/unclosed_brace.d", "unclosed_brace.d")
    );

    let o = run(&["-e", "-n", "tcp:::recieve { trace(args[2]->ip_saddr); }"]);
    let e = stderr(&o);
    assert!(
        e.starts_with(
            "dtrace: invalid probe specifier tcp:::recieve { trace(args[2]->ip_saddr); }: \
         probe description tcp:::recieve does not match any probes\n"
        ),
        "{e}"
    );
    assert_eq!(e.matches('×').count(), 1, "{e}");
    assert!(e.contains("did you mean tcp:::receive?"), "{e}");

    let o = run(&["-e", "-n", "tcp:::nosuch"]);
    let e = stderr(&o);
    assert!(e.contains("╭─[-n:1:1]\n 1 │ tcp:::nosuch\n"), "{e}");

    let o = run(&["-e", "-n", "BEGIN { trace((1 + 2); }"]);
    let e = stderr(&o);
    assert!(e.contains("× unclosed `(`\n   ╭─[-n:1:14]"), "{e}");

    let o = run(&[
        "-q",
        "-n",
        r#"BEGIN /x = 1/ { printf("%d\n", x); exit(0); }"#,
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "1\n\n");
    assert!(
        stderr(&o).contains("⚠ assignment in a predicate"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("help: write `==` to compare"),
        "{}",
        stderr(&o)
    );
}

/// The anonymous aggregation is `@` in messages, as written (not `@_`).
#[test]
fn messages_name_the_anonymous_aggregation_as_written() {
    let o = run(&["-e", "-n", "BEGIN { @ = count(); @ = sum(1); }"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("× @: aggregating function sum( ) differs from the earlier use count( )"),
        "{e}"
    );
    assert!(!e.contains("@_"), "{e}");
}
