//! A minimal HTTP/1.1 server: every `GET` gets "Hello from weft", over
//! keep-alive connections, one task per connection. Point curl or a load
//! generator at it.
//!
//! ```text
//! cargo run --release --example http_hello                      # on 127.0.0.1:3000
//! cargo run --release --example http_hello -- 127.0.0.1:8080
//! curl http://127.0.0.1:3000/
//! ```

#[path = "common/http.rs"]
#[allow(dead_code)] // the client half is for the other examples
pub(crate) mod http;

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use weft::net::TcpListener;

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    weft::Runtime::new()?.block_on(async {
        let listener = TcpListener::bind(addr.as_str())
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
        writeln!(
            io::stdout(),
            "listening on http://{}/ (Ctrl-C to stop)",
            listener.local_addr()?
        )?;
        serve(listener, u64::MAX).await;
        Ok(())
    })
}

/// Serves until `limit` requests were answered (or the listener fails).
pub(crate) async fn serve(listener: TcpListener, limit: u64) {
    let answered = Arc::new(AtomicU64::new(0));
    let done = Arc::new(weft::sync::Notify::new());
    let accept = async {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (answered, done) = (answered.clone(), done.clone());
            drop(weft::spawn(async move {
                let mut reader = http::Reader::new();
                loop {
                    let (status, body) = match reader.request(&mut stream).await {
                        Ok(Some(request)) if request.method == "GET" => ("200 OK", "Hello from weft\n"),
                        Ok(Some(_)) => ("405 Method Not Allowed", "only GET here\n"),
                        Ok(None) => break,
                        Err(_) => ("400 Bad Request", "could not parse that request\n"),
                    };
                    let failed = http::respond(&mut stream, status, body).await.is_err();
                    if answered.fetch_add(1, Ordering::Relaxed) + 1 == limit {
                        done.notify_one();
                    }
                    if failed || status.starts_with("400") {
                        break;
                    }
                }
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
