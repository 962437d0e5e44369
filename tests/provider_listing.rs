//! `rdtrace -lv` lists every tcp, ip and udp probe with its argument types
//! (the illumos/Oracle translated structs).

mod common;

/// The argument types `-lv` shows for the probe whose line ends with
/// `provider … function name`.
fn args_of(listing: &str, provider: &str, name: &str) -> Vec<String> {
    let mut lines = listing.lines();
    let found = lines.by_ref().any(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        w.len() == 4 && w[1] == provider && w[3] == name
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
