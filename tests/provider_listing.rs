//! `rdtrace -lv` lists every tcp, ip and udp probe with its argument types
//! (the illumos/Oracle translated structs).

mod common;

/// The argument types `-lv` shows for the probe whose line ends with
/// `provider … function name`.
fn args_of(listing: &str, provider: &str, name: &str) -> Vec<String> {
    let mut lines = listing.lines();
    let found = lines.by_ref().any(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        // ID provider vmlinux [function] name
        (4..=5).contains(&w.len())
            && w[1] == provider
            && w[2] == "vmlinux"
            && w.last() == Some(&name)
    });
    assert!(found, "{provider}:::{name} is not listed:\n{listing}");
    lines
        .skip_while(|l| !l.contains("Argument Types"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn every_network_probe_is_listed_with_its_argument_types() {
    let out = common::rdtrace().arg("-lv").output().unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let listing = common::stdout(&out);
    let tcp = [
        "pktinfo_t *",
        "csinfo_t *",
        "ipinfo_t *",
        "tcpsinfo_t *",
        "tcpinfo_t *",
    ];
    let args = |types: &[&str]| -> Vec<String> {
        types
            .iter()
            .enumerate()
            .map(|(i, t)| format!("args[{i}]: {t}"))
            .collect()
    };
    for name in [
        "send",
        "receive",
        "connect-request",
        "connect-established",
        "connect-refused",
        "accept-established",
        "accept-refused",
    ] {
        assert_eq!(args_of(&listing, "tcp", name), args(&tcp), "tcp:::{name}");
    }
    assert_eq!(
        args_of(&listing, "tcp", "state-change"),
        args(&[
            "pktinfo_t *",
            "csinfo_t *",
            "void",
            "tcpsinfo_t *",
            "void",
            "tcplsinfo_t *"
        ])
    );
    let ip = [
        "pktinfo_t *",
        "csinfo_t *",
        "ipinfo_t *",
        "ifinfo_t *",
        "ipv4info_t *",
        "ipv6info_t *",
    ];
    let udp = [
        "pktinfo_t *",
        "csinfo_t *",
        "ipinfo_t *",
        "udpsinfo_t *",
        "udpinfo_t *",
    ];
    for name in ["send", "receive"] {
        assert_eq!(args_of(&listing, "ip", name), args(&ip), "ip:::{name}");
        assert_eq!(args_of(&listing, "udp", name), args(&udp), "udp:::{name}");
    }
}

#[test]
fn connection_probes_compile_with_every_member() {
    // Every tcpsinfo_t member the issue lists, and tcplsinfo_t, resolve.
    let members = [
        "tcps_addr",
        "tcps_local",
        "tcps_active",
        "tcps_lport",
        "tcps_rport",
        "tcps_laddr",
        "tcps_raddr",
        "tcps_state",
        "tcps_iss",
        "tcps_irs",
        "tcps_suna",
        "tcps_snxt",
        "tcps_rnxt",
        "tcps_swnd",
        "tcps_snd_ws",
        "tcps_rwnd",
        "tcps_rcv_ws",
        "tcps_cwnd",
        "tcps_cwnd_ssthresh",
        "tcps_sack_snxt",
        "tcps_rto",
        "tcps_mss",
        "tcps_retransmit",
        "tcps_rtt",
        "tcps_rtt_sd",
    ];
    let body: String = members
        .iter()
        .map(|m| format!("trace(args[3]->{m});"))
        .collect();
    let script = format!(
        "tcp:::state-change {{ {body} trace(args[5]->tcps_state); trace(args[1]->cs_pid); }} \
         ip:::receive {{ trace(args[3]->if_name); trace(args[4]->ipv4_protostr); trace(args[5]->ipv6_nextstr); }} \
         udp:::send {{ trace(args[4]->udp_length); trace(args[3]->udps_raddr); }}"
    );
    let out = common::rdtrace()
        .args(["-e", "-n", &script])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    // state-change has no segment: args[2] and args[4] are refused.
    let out = common::rdtrace()
        .args([
            "-e",
            "-n",
            "tcp:::state-change { trace(args[4]->tcp_flags); }",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// The proc, sched and io probes are illumos's names, with illumos's
/// argument types; those Linux has no tracepoint for are not listed.
#[test]
fn proc_sched_and_io_probes_are_illumos_ones() {
    let names = |provider: &str| -> Vec<String> {
        let out = common::rdtrace()
            .args(["-l", "-P", provider])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", common::stderr(&out));
        common::stdout(&out)
            .lines()
            .skip(1)
            .map(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                assert_eq!((w[1], w[2]), (provider, "vmlinux"), "{l}");
                w[3].to_string()
            })
            .collect()
    };
    assert_eq!(
        names("proc"),
        [
            "exec",
            "exec-success",
            "exec-failure",
            "exit",
            "create",
            "start",
            "lwp-create",
            "lwp-start",
            "lwp-exit",
            "signal-send",
            "signal-handle",
            "signal-discard"
        ]
    );
    assert_eq!(
        names("sched"),
        [
            "on-cpu",
            "off-cpu",
            "sleep",
            "preempt",
            "wakeup",
            "change-pri"
        ]
    );
    assert_eq!(names("io"), ["start", "done"]);
    let out = common::rdtrace()
        .args(["-lv", "-P", "proc", "-P", "sched", "-P", "io"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    let listing = common::stdout(&out);
    let shown = |p: &str, n: &str| args_of(&listing, p, n).join("; ");
    assert_eq!(
        shown("proc", "signal-send"),
        "args[0]: lwpsinfo_t *; args[1]: psinfo_t *; args[2]: int"
    );
    assert_eq!(shown("proc", "exec"), "args[0]: string");
    assert_eq!(shown("proc", "exit"), "args[0]: int");
    assert_eq!(shown("proc", "create"), "args[0]: psinfo_t *");
    assert_eq!(
        shown("sched", "off-cpu"),
        "args[0]: lwpsinfo_t *; args[1]: psinfo_t *"
    );
    assert_eq!(
        shown("io", "done"),
        "args[0]: bufinfo_t *; args[1]: devinfo_t *; args[2]: fileinfo_t *"
    );
}

/// Every documented use compiles; what Linux cannot give is refused with
/// the reason, and a wider description just leaves it out.
#[test]
fn task_probe_scripts_compile_and_missing_probes_say_why() {
    let compiles = |src: &str| {
        let out = common::rdtrace().args(["-e", "-n", src]).output().unwrap();
        assert!(out.status.success(), "{src}: {}", common::stderr(&out));
        common::stderr(&out)
    };
    for src in [
        r#"proc:::exec-success { printf("%d %s\n", pid, curpsinfo->pr_psargs); }"#,
        r#"proc:::exit { printf("%s %d\n", execname, args[0]); }"#,
        r#"proc:::signal-send { printf("%d -> %d sig %d\n", pid, args[1]->pr_pid, args[2]); }"#,
        "sched:::on-cpu { self->ts = timestamp; }",
        "sched:::off-cpu /self->ts/ { @[execname] = sum(timestamp - self->ts); self->ts = 0; }",
        r#"io:::start { @[args[1]->dev_statname, args[0]->b_flags & B_READ ? "R" : "W"] = sum(args[0]->b_bcount); }"#,
        "proc:::exec-success { trace(curpsinfo->pr_psargs); }",
        "sched:::on-cpu { @[cpu] = count(); }",
        "io:::start { @[execname] = sum(args[0]->b_bcount); }",
        "sched:::on-cpu { @[curcpu->cpu_id, curcpu->cpu_chip, curlwpsinfo->pr_clname] = count(); }",
        "proc:::exit { trace(vtimestamp); trace(zonename); trace(curlwpsinfo->pr_sname == 'O'); }",
    ] {
        compiles(src);
    }
    compiles("sched::: { @[probename] = count(); }");
    let out = common::rdtrace()
        .args(["-l", "-n", "sched:::"])
        .output()
        .unwrap();
    assert_eq!(common::stdout(&out).lines().count(), 1 + 6);
    let out = common::rdtrace()
        .args(["-e", "-n", "sched:::remain-cpu { trace(1); }"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = common::stderr(&out);
    assert!(
        err.contains("sched:::remain-cpu: the kernel fires no tracepoint"),
        "{err}"
    );
    // User memory is copied for syscall probes only: copyin elsewhere is
    // refused, not a fault at run time.
    let out = common::rdtrace()
        .args(["-e", "-n", "proc:::exec { trace(copyinstr(arg0)); }"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        common::stderr(&out).contains("no user memory is copied when this probe fires"),
        "{}",
        common::stderr(&out)
    );
    let out = common::rdtrace()
        .args(["-e", "-n", "proc:::exit { trace(curthread); }"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stderr(&out).contains("curthread is not supported"));
}
