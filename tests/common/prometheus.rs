//! A real Prometheus server for the metrics tests: started on a free
//! loopback port with a short scrape interval, scraping one target,
//! queried through its HTTP API, killed (and its data removed) on drop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::netns::{required, DEADLINE};

pub struct Prometheus {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

/// Whether the prometheus binary is here; CI (RDTRACE_REQUIRE_BPF=1)
/// installs it, so there its absence fails the test.
pub fn available() -> bool {
    let found = Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            !required(),
            "RDTRACE_REQUIRE_BPF=1 but prometheus is not installed"
        );
        eprintln!("skipping: prometheus is not installed");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Prometheus {
    /// Starts Prometheus scraping `target` every 500 ms and waits until
    /// it is ready.
    pub fn start(target: SocketAddr) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 500ms\n  scrape_timeout: 450ms\n\
                 scrape_configs:\n  - job_name: rdtrace\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("log")).unwrap())
            .spawn()
            .expect("prometheus starts");
        let p = Prometheus {
            child,
            addr,
            _dir: dir,
        };
        let end = Instant::now() + DEADLINE;
        while Instant::now() < end {
            if p.get("/-/ready").is_some_and(|(status, _)| status == 200) {
                return p;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("prometheus did not become ready: {}", p.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("log")).unwrap_or_default()
    }

    /// A GET over HTTP/1.0: (status, body), None if not connected.
    fn get(&self, path: &str) -> Option<(u16, String)> {
        let mut s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        write!(s, "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr).ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        let (head, body) = text.split_once("\r\n\r\n")?;
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        Some((status, body.to_string()))
    }

    /// The instant vector of a PromQL query: (labels without `__name__`,
    /// `instance`, `job`; value).
    pub fn query(&self, promql: &str) -> Vec<(Vec<(String, String)>, f64)> {
        let (status, body) = self
            .get(&format!("/api/v1/query?query={}", url_encode(promql)))
            .unwrap_or_else(|| panic!("prometheus unreachable: {}", self.log()));
        assert_eq!(status, 200, "{promql}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        let mut out = Vec::new();
        for r in v["data"]["result"].as_array().expect("a vector") {
            let mut labels: Vec<(String, String)> = r["metric"]
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "__name__" | "instance" | "job"))
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            labels.sort();
            let value = r["value"][1].as_str().unwrap().parse::<f64>().unwrap();
            out.push((labels, value));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Polls `promql` until `done` holds for its result (bounded).
    pub fn wait_for(
        &self,
        promql: &str,
        done: impl Fn(&[(Vec<(String, String)>, f64)]) -> bool,
    ) -> Vec<(Vec<(String, String)>, f64)> {
        let end = Instant::now() + DEADLINE;
        loop {
            let r = self.query(promql);
            if done(&r) {
                return r;
            }
            assert!(
                Instant::now() < end,
                "{promql} never held; last {r:?}; targets: {:?}",
                self.get("/api/v1/targets")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
