//! Rough timing of parse+check on a ~200-line script (tcpio.d repeated),
//! against a one-probe catalog made up here. Not a benchmark: the numbers
//! that count come from the release benchmark under bench/.
use rdtrace_lang::catalog::*;
use rdtrace_lang::types::{IntType, Type};

fn main() {
    // With a path: time parsing that file only (its probes may not be in
    // the made-up catalog below).
    if let Some(path) = std::env::args().nth(1) {
        let src = std::fs::read_to_string(&path).expect("readable script");
        let n = 200;
        let t = std::time::Instant::now();
        for _ in 0..n {
            rdtrace_lang::parser::parse(&src).expect("parses");
        }
        println!(
            "{path}: {} lines, {:?} per parse",
            src.lines().count(),
            t.elapsed() / n
        );
        return;
    }
    let tcpio = include_str!("../../scripts/tcpio.d");
    let body: String = tcpio.lines().skip(3).collect::<Vec<_>>().join("\n");
    let src = format!("#pragma D option quiet\n{}", [body.as_str(); 5].join("\n"));
    let m = |n: &str, t: Type| MemberDef {
        name: n.into(),
        ty: t,
    };
    let u = |s, sg| {
        Type::Int(IntType {
            size: s,
            signed: sg,
        })
    };
    let arg = |s: &str| ArgDef {
        ty: Type::StructPtr(s.into()),
        display: s.into(),
        source: None,
    };
    let probe = |id, name: &str, kind| ProbeDef {
        id,
        provider: if id < 4 { "dtrace" } else { "tcp" }.into(),
        module: "".into(),
        function: "".into(),
        name: name.into(),
        kind,
        args: [
            "pktinfo_t",
            "csinfo_t",
            "ipinfo_t",
            "tcpsinfo_t",
            "tcpinfo_t",
        ]
        .iter()
        .map(|s| arg(s))
        .collect(),
        unavailable: None,
    };
    let cat = Catalog {
        probes: vec![
            probe(1, "BEGIN", ProbeKind::Begin),
            probe(4, "send", ProbeKind::Event { layout: 1 }),
            probe(5, "receive", ProbeKind::Event { layout: 1 }),
        ],
        structs: vec![
            StructDef {
                name: "ipinfo_t".into(),
                members: vec![
                    m("ip_plength", u(4, false)),
                    m("ip_saddr", Type::String),
                    m("ip_daddr", Type::String),
                ],
            },
            StructDef {
                name: "tcpinfo_t".into(),
                members: vec![
                    m("tcp_sport", u(2, false)),
                    m("tcp_dport", u(2, false)),
                    m("tcp_offset", u(1, false)),
                    m("tcp_flags", u(1, false)),
                ],
            },
        ],
        layouts: vec![
            Layout {
                id: 0,
                members: vec![],
                builtins: vec![(
                    "cpu".into(),
                    FieldSource::Load {
                        offset: 0,
                        int: IntType::INT,
                    },
                )],
                captures: None,
            },
            Layout {
                id: 1,
                members: vec![
                    (
                        "ipinfo_t".into(),
                        "ip_plength".into(),
                        FieldSource::Load {
                            offset: 8,
                            int: IntType::UINT32,
                        },
                    ),
                    (
                        "ipinfo_t".into(),
                        "ip_saddr".into(),
                        FieldSource::InetAddr {
                            addr: 12,
                            version: 4,
                        },
                    ),
                    (
                        "ipinfo_t".into(),
                        "ip_daddr".into(),
                        FieldSource::InetAddr {
                            addr: 28,
                            version: 4,
                        },
                    ),
                    (
                        "tcpinfo_t".into(),
                        "tcp_sport".into(),
                        FieldSource::Load {
                            offset: 44,
                            int: IntType::UINT16,
                        },
                    ),
                    (
                        "tcpinfo_t".into(),
                        "tcp_dport".into(),
                        FieldSource::Load {
                            offset: 46,
                            int: IntType::UINT16,
                        },
                    ),
                    (
                        "tcpinfo_t".into(),
                        "tcp_offset".into(),
                        FieldSource::Load {
                            offset: 48,
                            int: IntType::UINT8,
                        },
                    ),
                    (
                        "tcpinfo_t".into(),
                        "tcp_flags".into(),
                        FieldSource::Load {
                            offset: 49,
                            int: IntType::UINT8,
                        },
                    ),
                ],
                builtins: vec![(
                    "cpu".into(),
                    FieldSource::Load {
                        offset: 0,
                        int: IntType::INT,
                    },
                )],
                captures: None,
            },
        ],
        constants: [
            "TH_FIN", "TH_SYN", "TH_RST", "TH_PUSH", "TH_ACK", "TH_URG", "TH_ECE", "TH_CWR",
        ]
        .iter()
        .enumerate()
        .map(|(i, n)| ConstDef {
            name: n.to_string(),
            value: 1 << i,
            ty: u(4, true),
        })
        .collect(),
        param_probes: ["tick-", "profile-"]
            .into_iter()
            .zip([ParamKind::Tick, ParamKind::Profile])
            .map(|(prefix, kind)| ParamProbe {
                provider: "profile".into(),
                prefix: prefix.into(),
                kind,
                layout: 0,
            })
            .collect(),
        string_tables: vec![],
    };
    println!("{} lines", src.lines().count());
    let opts = Default::default();
    rdtrace_lang::compile("t.d", &src, &cat, &opts).expect("compiles");
    let n: u32 = std::env::var("ITER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let t = std::time::Instant::now();
    for _ in 0..n {
        rdtrace_lang::compile("t.d", &src, &cat, &opts).unwrap();
    }
    println!("{:?} per parse+check", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        rdtrace_lang::parser::parse(&src).unwrap();
    }
    println!("{:?} per parse", t.elapsed() / n);
}
