//! hyper 1.x on weft (feature `hyper`): what hyper asks of a runtime,
//! made from weft's tasks, clock and sockets.
//!
//! hyper brings HTTP (parsing, keep-alive, chunked bodies, `HEAD`,
//! HTTP/1.0, pipelining, as RFC 9112 says) but no runtime: it asks for
//! three things, through the traits of [`hyper::rt`], and this module has
//! one type for each:
//!
//! * [`WeftIo`]: a connection, from a weft socket or any futures-io stream
//!   (`hyper::rt::Read` / `Write`).
//! * [`WeftTimer`]: timeouts on weft's clock, paused test clock included
//!   (`hyper::rt::Timer`).
//! * [`WeftExecutor`]: background tasks as weft tasks
//!   (`hyper::rt::Executor`); HTTP/1 needs none, HTTP/2 would.
//!
//! `WeftIo` is runtime-agnostic (it only translates traits; the stream it
//! wraps decides where it must be polled); `WeftTimer`'s sleeps and
//! `WeftExecutor`'s tasks need a weft runtime.
//!
//! They play the parts of hyper-util's `TokioIo`, `TokioTimer` and
//! `TokioExecutor`, without tokio's runtime. (hyper 1.x itself depends on
//! tokio with only its `sync` feature, the channels: no runtime and no
//! reactor come with it.) The `http1`, `server` and `client` features of
//! hyper are on; for bodies, `http-body-util`'s `Full`, `Empty` and
//! `BodyExt::collect` are the usual companions.
//!
//! # Examples
//!
//! A complete server: one task per connection, each serving requests over
//! keep-alive until the client is done. Here it answers one request from a
//! hand-written client, so the example ends.
//!
//! ```
//! use std::convert::Infallible;
//! use http_body_util::Full;
//! use hyper::body::{Bytes, Incoming};
//! use hyper::{Request, Response};
//! use weft::compat::hyper::{WeftIo, WeftTimer};
//! use weft::net::{TcpListener, TcpStream};
//!
//! async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from("Hello from weft\n"))))
//! }
//!
//! async fn serve(listener: TcpListener) -> std::io::Result<()> {
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         drop(weft::spawn(async move {
//!             let served = hyper::server::conn::http1::Builder::new()
//!                 .timer(WeftTimer::new())
//!                 .serve_connection(WeftIo::new(stream), hyper::service::service_fn(hello))
//!                 .await;
//!             if let Err(e) = served {
//!                 eprintln!("connection failed: {e}");
//!             }
//!         }));
//!     }
//! }
//!
//! fn main() -> std::io::Result<()> {
//!     weft::Runtime::new()?.block_on(async {
//!         let listener = TcpListener::bind("127.0.0.1:0").await?;
//!         let addr = listener.local_addr()?;
//!         let server = weft::spawn(serve(listener));
//!
//!         let mut client = TcpStream::connect(addr).await?;
//!         client.write_all(b"GET / HTTP/1.0\r\n\r\n").await?; // the server closes after it
//!         let mut response = Vec::new();
//!         futures_lite::AsyncReadExt::read_to_end(&mut client, &mut response).await?;
//!         let response = String::from_utf8_lossy(&response);
//!         assert!(response.starts_with("HTTP/1.0 200 OK\r\n"));
//!         assert!(response.ends_with("\r\n\r\nHello from weft\n"));
//!         server.abort();
//!         Ok(())
//!     })
//! }
//! ```
//!
//! A complete client: one connection, one request, the body collected.
//! The connection's own future reads and writes the socket: it runs in a
//! task beside the requests.
//!
//! ```
//! use std::convert::Infallible;
//! use http_body_util::{BodyExt, Empty, Full};
//! use hyper::body::Bytes;
//! use hyper::{Request, Response};
//! use weft::compat::hyper::WeftIo;
//! use weft::net::{TcpListener, TcpStream};
//!
//! type Error = Box<dyn std::error::Error + Send + Sync>;
//!
//! async fn get(addr: std::net::SocketAddr, path: &str) -> Result<(u16, Bytes), Error> {
//!     let stream = TcpStream::connect(addr).await?;
//!     let (mut sender, connection) = hyper::client::conn::http1::handshake(WeftIo::new(stream)).await?;
//!     drop(weft::spawn(connection));
//!     let request = Request::get(path)
//!         .header(hyper::header::HOST, addr.to_string())
//!         .body(Empty::<Bytes>::new())?;
//!     let response = sender.send_request(request).await?;
//!     let status = response.status().as_u16();
//!     Ok((status, response.into_body().collect().await?.to_bytes()))
//! }
//!
//! fn main() -> Result<(), Error> {
//!     weft::Runtime::new()?.block_on(async {
//!         // A server to ask: it echoes the path.
//!         let listener = TcpListener::bind("127.0.0.1:0").await?;
//!         let addr = listener.local_addr()?;
//!         let server = weft::spawn(async move {
//!             let (stream, _) = listener.accept().await?;
//!             let echo = hyper::service::service_fn(|request: Request<_>| async move {
//!                 let path = Bytes::from(request.uri().path().to_owned());
//!                 Ok::<_, Infallible>(Response::new(Full::new(path)))
//!             });
//!             hyper::server::conn::http1::Builder::new()
//!                 .serve_connection(WeftIo::new(stream), echo)
//!                 .await?;
//!             Ok::<(), Error>(())
//!         });
//!
//!         let (status, body) = get(addr, "/weft").await?;
//!         assert_eq!((status, &body[..]), (200, &b"/weft"[..]));
//!         server.await??; // the client hung up: the server's connection ends
//!         Ok(())
//!     })
//! }
//! ```

mod executor;
mod io;
mod timer;

pub use self::executor::WeftExecutor;
pub use self::io::WeftIo;
pub use self::timer::WeftTimer;
