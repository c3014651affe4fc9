//! The tokio twin of `examples/http_hello.rs`, for `benches/http/run.sh`:
//! the same hyper service (`GET` and `HEAD` get "Hello from weft", the rest
//! `405`), one task per connection, on tokio's multi-thread runtime.
//!
//! The glue between tokio's sockets and hyper is written here, the same
//! way as weft's `WeftIo` (a read copies once through a stack buffer,
//! writes are not vectored), so the two servers differ only in their
//! runtime. tokio is a dev-dependency: it never enters weft's own tree.
//!
//! ```text
//! cargo run --release --example http_hello_tokio --features hyper -- --listen 127.0.0.1:3001
//! ```

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

fn main() -> io::Result<()> {
    // `--listen ADDR`, as http_hello takes it.
    let addr = std::env::args()
        .skip_while(|arg| arg != "--listen")
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3001".to_owned());
    tokio::runtime::Runtime::new()?.block_on(async {
        let listener = TcpListener::bind(addr.as_str())
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
        writeln!(io::stdout(), "listening on http://{}/", listener.local_addr()?)?;
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(Io(stream), hyper::service::service_fn(hello))
                    .await;
            });
        }
    })
}

/// The same answers as http_hello's.
async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"Hello from weft\n")));
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        *response.body_mut() = Full::new(Bytes::from_static(b"only GET here\n"));
    }
    Ok(response)
}

/// A tokio stream as hyper's, as `WeftIo` does it.
struct Io(TcpStream);

const SCRATCH: usize = 16 * 1024;

impl hyper::rt::Read for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let want = buf.remaining().min(SCRATCH);
        if want == 0 {
            return Poll::Ready(Ok(()));
        }
        let mut scratch = [0; SCRATCH];
        let mut read = ReadBuf::new(&mut scratch[..want]);
        ready!(Pin::new(&mut self.get_mut().0).poll_read(cx, &mut read))?;
        buf.put_slice(read.filled());
        Poll::Ready(Ok(()))
    }
}

impl hyper::rt::Write for Io {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}
