//! An HTTP/1.1 server on hyper and weft (`weft::compat::hyper`):
//! `GET /` says hello, `POST /echo` streams the request body back as it
//! comes (chunked), anything else is `404`. One task per connection;
//! keep-alive, pipelining, `HEAD`, HTTP/1.0 and `Connection: close` as
//! hyper does them, and a connection whose request head does not come
//! within 30 seconds (on weft's clock) is closed.
//!
//! ```text
//! cargo run --example http_server --features hyper                 # on 127.0.0.1:3000
//! cargo run --example http_server --features hyper -- 0.0.0.0:8080
//! curl http://127.0.0.1:3000/
//! curl --data-binary @Cargo.toml http://127.0.0.1:3000/echo
//! ```

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;
use weft::compat::hyper::{WeftIo, WeftTimer};
use weft::net::TcpListener;

const USAGE: &str = "\
usage: http_server [ADDRESS]

Serves HTTP/1.1 on ADDRESS (default 127.0.0.1:3000):
  GET /        Hello from weft
  POST /echo   the request body, streamed back
";

fn main() -> ExitCode {
    let addr = match std::env::args().nth(1) {
        Some(arg) if arg == "--help" || arg == "-h" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(arg) => arg,
        None => "127.0.0.1:3000".to_owned(),
    };
    match run(&addr) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("http_server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Listens on `addr` and serves until the process is stopped.
fn run(addr: &str) -> io::Result<()> {
    weft::Runtime::new()?.block_on(async {
        let listener = TcpListener::bind(addr).await.map_err(|e| {
            let why = match e.kind() {
                io::ErrorKind::AddrInUse => "the address is in use (is another server running?)".to_owned(),
                _ => e.to_string(),
            };
            io::Error::new(e.kind(), format!("cannot listen on {addr}: {why}"))
        })?;
        writeln!(io::stdout(), "listening on http://{}/", listener.local_addr()?)?;
        serve(listener).await
    })
}

// ANCHOR: serve
/// Accepts connections and serves each in a task of its own.
async fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        drop(weft::spawn(async move {
            let served = hyper::server::conn::http1::Builder::new()
                .timer(WeftTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(WeftIo::new(stream), hyper::service::service_fn(route))
                .await;
            if let Err(e) = served {
                eprintln!("{peer}: {e}");
            }
        }));
    }
}
// ANCHOR_END: serve

// ANCHOR: route
type Body = BoxBody<Bytes, hyper::Error>;

/// The answer to one request.
async fn route(request: Request<Incoming>) -> Result<Response<Body>, hyper::Error> {
    Ok(match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/") => Response::new(text("Hello from weft\n")),
        // The request body, frame by frame, back to the client: its length
        // is unknown up front, so hyper sends it chunked.
        (&Method::POST, "/echo") => Response::new(request.into_body().boxed()),
        _ => {
            let mut response = Response::new(text("try GET / or POST /echo\n"));
            *response.status_mut() = StatusCode::NOT_FOUND;
            response
        }
    })
}

/// A whole body of text.
fn text(text: &'static str) -> Body {
    Full::new(Bytes::from_static(text.as_bytes()))
        .map_err(|never| match never {})
        .boxed()
}
// ANCHOR_END: route
