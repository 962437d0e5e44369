//! The `/metrics` endpoint: tiny_http on a listener bound before tracing
//! starts (so a bad address or a port in use is an error, not a late
//! surprise), one thread answering scrapes from the [`Hub`].

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::exposition::{encode, CONTENT_TYPE};
use super::Hub;

pub struct MetricsServer {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `addr` now; nothing is served until [`MetricsServer::serve`].
    pub fn bind(addr: SocketAddr) -> Result<MetricsServer, String> {
        let listener =
            TcpListener::bind(addr).map_err(|e| format!("cannot serve metrics on {addr}: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))?;
        let server = tiny_http::Server::from_listener(listener, None)
            .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))?;
        Ok(MetricsServer {
            server: Arc::new(server),
            addr,
            thread: None,
        })
    }

    /// The address bound (the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answers scrapes until dropped; a scrape waits up to `wait` for the
    /// consumer's next snapshot.
    pub fn serve(&mut self, hub: Arc<Hub>, wait: Duration) -> std::io::Result<()> {
        let server = Arc::clone(&self.server);
        let thread = std::thread::Builder::new()
            .name("rdtrace-metrics".into())
            .spawn(move || {
                for request in server.incoming_requests() {
                    // A client that hangs up mid-answer is its own problem.
                    let _ = answer(request, &hub, wait);
                }
            })?;
        self.thread = Some(thread);
        Ok(())
    }
}

fn answer(request: tiny_http::Request, hub: &Hub, wait: Duration) -> std::io::Result<()> {
    let path = request.url().split('?').next().unwrap_or("");
    let get = matches!(
        request.method(),
        tiny_http::Method::Get | tiny_http::Method::Head
    );
    let (status, body, content_type) = match (get, path) {
        (true, "/metrics") => (200, encode(&hub.fetch(wait)), CONTENT_TYPE),
        (true, "/") => (200, "rdtrace: the metrics are at /metrics\n".into(), TEXT),
        (true, _) => (404, "not found: the metrics are at /metrics\n".into(), TEXT),
        (false, _) => (405, "only GET is served\n".into(), TEXT),
    };
    let mut response = tiny_http::Response::from_string(body).with_status_code(status);
    if let Ok(h) = tiny_http::Header::from_bytes(&b"Content-Type"[..], content_type.as_bytes()) {
        response = response.with_header(h);
    }
    request.respond(response)
}

const TEXT: &str = "text/plain; charset=utf-8";

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
