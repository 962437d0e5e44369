//! `-x oformat=json|xml`: FreeBSD dtrace's structured output (dtrace(1),
//! STRUCTURED OUTPUT): one document, a `probes` element per clause firing
//! with its header and `output` items (printf's message then its
//! arguments' values, trace's value, printa's aggregation-data), and DROP
//! elements. Checked with a JSON parser, with jq and xmllint (FreeBSD's
//! own oformat tests check validity with them), and field by field.

mod common;

use common::netns::required;
use common::{rdtrace, stderr, stdout};

const SCRIPT: &str = r#"BEGIN {
    printf("hello %s %d\n", "world", 42);
    trace(7);
    @c["a"] = count(); @c["a"] = count(); @c["b"] = count();
    @q = quantize(5);
    printa(@c);
    printa(@q);
}
BEGIN { x = 1; }
BEGIN { exit(0); }
"#;

fn run(format: &str, script: &str, extra: &[&str]) -> std::process::Output {
    let o = rdtrace()
        .args(["-x", &format!("oformat={format}"), "-n", script])
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

#[test]
fn json_is_one_document_in_freebsds_schema() {
    let o = run("json", SCRIPT, &[]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    let probes = doc["dtrace"]["probes"].as_array().expect("probes");
    // The clause that records nothing (x = 1) is no element; exit() records
    // (its status), so its clause is one, with no output items.
    assert_eq!(probes.len(), 2, "{doc:#}");
    assert_eq!(probes[1]["output"], serde_json::json!([]));
    let p = &probes[0];
    for (k, v) in [
        ("provider", "dtrace"),
        ("module", ""),
        ("function", ""),
        ("name", "BEGIN"),
    ] {
        assert_eq!(p[k], v, "{p:#}");
    }
    assert_eq!(p["id"], 1);
    assert!(p["cpu"].is_i64());
    let ts = p["timestamp"].as_str().unwrap();
    assert!(
        ts.split_once('.')
            .is_some_and(|(s, us)| s.len() >= 10 && us.len() == 6),
        "{ts}"
    );
    let out = p["output"].as_array().unwrap();
    assert_eq!(out[0], serde_json::json!({"message": "hello world 42\n"}));
    assert_eq!(out[1], serde_json::json!({"value": "world"}));
    assert_eq!(out[2], serde_json::json!({"value": 42}));
    assert_eq!(out[3], serde_json::json!({"value": 7}));
    assert_eq!(
        out[4],
        serde_json::json!({"aggregation-data": [
            {"keys": ["b"], "count": 1},
            {"keys": ["a"], "count": 2}
        ], "aggregation-name": "c"})
    );
    assert_eq!(
        out[5]["aggregation-data"][0]["buckets"],
        serde_json::json!([{"value": 2, "count": 0}, {"value": 4, "count": 1}, {"value": 8, "count": 0}])
    );
    // Aggregations are printed by printa only: nothing after the document.
    assert!(stdout(&o).ends_with("]}}\n"));
}

#[test]
fn drops_are_dtraces_drop_elements() {
    let o = run(
        "json",
        "BEGIN { @[1] = count(); @[2] = count(); @[3] = count(); exit(0); }",
        &["-x", "aggsize=300"],
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    let drop = doc["dtrace"]["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "DROP")
        .cloned()
        .unwrap_or_else(|| panic!("no DROP element: {doc:#}"));
    for (k, v) in [
        ("provider", "dtrace"),
        ("module", "INTERNAL"),
        ("function", "INTERNAL"),
    ] {
        assert_eq!(drop[k], v);
    }
    assert_eq!(drop["cpu"], -1);
    assert_eq!(drop["id"], -1);
    assert_eq!(drop["kind"], 1, "DTRACEDROP_AGGREGATION");
    assert!(drop["count"].as_u64().unwrap() >= 1);
    let msg = drop["msg"].as_str().unwrap();
    assert!(
        msg.contains("aggregation drop") && msg.ends_with('\n'),
        "{msg:?}"
    );
}

fn tool(name: &str) -> bool {
    let found = std::process::Command::new(name)
        .arg("--version")
        .output()
        .is_ok();
    if !found {
        assert!(
            !required(),
            "RDTRACE_REQUIRE_BPF=1 but {name} is not installed"
        );
        eprintln!("skipping: {name} is not installed");
    }
    found
}

/// FreeBSD's oformat tests pass the output through jq and xmllint.
#[test]
fn jq_and_xmllint_take_the_documents() {
    let dir = tempfile::tempdir().unwrap();
    if tool("jq") {
        let path = dir.path().join("o.json");
        std::fs::write(&path, run("json", SCRIPT, &[]).stdout).unwrap();
        let o = std::process::Command::new("jq")
            .args(["-e", ".dtrace.probes[0].output | length == 6"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    }
    if tool("xmllint") {
        let path = dir.path().join("o.xml");
        let text = run("xml", SCRIPT, &[]).stdout;
        let s = String::from_utf8_lossy(&text).into_owned();
        assert!(
            s.contains("<message>hello world 42\n</message><value>world</value><value>42</value>"),
            "{s}"
        );
        std::fs::write(&path, &text).unwrap();
        let o = std::process::Command::new("xmllint")
            .args(["--noout"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    }
}

#[test]
fn a_bad_oformat_is_refused() {
    let o = rdtrace()
        .args(["-x", "oformat=yaml", "-n", "BEGIN { exit(0); }"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("failed to set option 'oformat' to 'yaml'"),
        "{}",
        stderr(&o)
    );
}

/// Probe elements of a replay carry the probe's own header.
#[test]
fn replayed_events_are_elements_with_their_probe() {
    use common::capture::{seg, write_pcap, Conversation, From::*};
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("c.pcap");
    write_pcap(
        &Conversation {
            client: ("192.0.2.61".parse().unwrap(), 40611),
            server: ("192.0.2.62".parse().unwrap(), 6161),
            start: std::time::Duration::from_secs(1_700_000_000),
            step: std::time::Duration::from_millis(1),
            segments: vec![
                seg(Client, "S", 0),
                seg(Server, "SA", 0),
                seg(Client, "A", 0),
            ],
        },
        &pcap,
    );
    let o = rdtrace()
        .args([
            "-x",
            "oformat=json",
            "-n",
            "tcp:::send { printf(\"%d\", args[4]->tcp_dport); }",
        ])
        .arg("--replay")
        .arg(&pcap)
        .args(["--local", "192.0.2.61"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    let probes = doc["dtrace"]["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 2, "{doc:#}");
    for p in probes {
        assert_eq!(
            (
                p["provider"].as_str(),
                p["module"].as_str(),
                p["name"].as_str()
            ),
            (Some("tcp"), Some("vmlinux"), Some("send"))
        );
        assert_eq!(p["output"][0]["message"], "6161");
        assert_eq!(p["output"][1]["value"], 6161);
        assert_eq!(p["cpu"], 0);
    }
}
