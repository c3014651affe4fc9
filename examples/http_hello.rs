//! A minimal HTTP server on hyper: `GET` and `HEAD` get "Hello from weft",
//! anything else `405`, one task per connection. hyper does the HTTP
//! (keep-alive, pipelining, HTTP/1.0, `Connection: close`, chunked bodies),
//! weft the tasks, sockets and timers, through `weft::compat::hyper`. Point
//! curl or a load generator (`ab`, `wrk`, `oha`) at it.
//!
//! ```text
//! cargo run --release --example http_hello --features hyper                      # on 127.0.0.1:3000
//! cargo run --release --example http_hello --features hyper -- --listen 127.0.0.1:8080
//! curl http://127.0.0.1:3000/
//! ```

#[path = "common/cli.rs"]
mod cli;

use cli::cannot_listen;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use weft::compat::hyper::{WeftIo, WeftTimer};
use weft::net::TcpListener;

const USAGE: &str = "\
usage: http_hello [--listen ADDR]

Serves \"Hello from weft\" over HTTP/1.x (hyper on weft) until killed: to
GET and HEAD, and 405 to the rest. With no argument on 127.0.0.1:3000,
with --listen ADDR (such as 127.0.0.1:0 for a free port) on ADDR.";

/// Where it serves with no argument.
const DEFAULT_ADDR: &str = "127.0.0.1:3000";

fn main() -> ExitCode {
    cli::main("http_hello", USAGE, || listen(DEFAULT_ADDR), Some(&listen))
}

/// Serves on `addr` until the process is killed.
fn listen(addr: &str) -> io::Result<()> {
    weft::Runtime::new()?.block_on(async {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| cannot_listen(addr, e))?;
        writeln!(
            io::stdout(),
            "listening on http://{}/ (Ctrl-C to stop)",
            listener.local_addr()?
        )?;
        serve(listener, u64::MAX).await;
        Ok(())
    })
}

/// The answer to one request: hello to `GET` and `HEAD` (hyper leaves out
/// the body of a `HEAD` answer), `405` to the rest.
async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"Hello from weft\n")));
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        *response.body_mut() = Full::new(Bytes::from_static(b"only GET here\n"));
        response.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET, HEAD"),
        );
    }
    Ok(response)
}

/// Serves until `limit` requests were answered (or the listener fails).
pub(crate) async fn serve(listener: TcpListener, limit: u64) {
    let answered = Arc::new(AtomicU64::new(0));
    let done = Arc::new(weft::sync::Notify::new());
    let accept = async {
        while let Ok((stream, _)) = listener.accept().await {
            let (answered, done) = (answered.clone(), done.clone());
            let service = hyper::service::service_fn(move |request| {
                if answered.fetch_add(1, Ordering::Relaxed) + 1 == limit {
                    done.notify_one();
                }
                hello(request)
            });
            drop(weft::spawn(async move {
                // An error here is the client's (a malformed request, a
                // reset): hyper has answered what it could.
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(WeftTimer::new())
                    .serve_connection(WeftIo::new(stream), service)
                    .await;
            }));
        }
    };
    let finished = done.notified();
    let mut accept = std::pin::pin!(accept);
    let mut finished = std::pin::pin!(finished);
    std::future::poll_fn(|cx| {
        if finished.as_mut().poll(cx).is_ready() || accept.as_mut().poll(cx).is_ready() {
            return std::task::Poll::Ready(());
        }
        std::task::Poll::Pending
    })
    .await;
}
