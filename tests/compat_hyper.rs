//! `weft::compat::hyper`: hyper's server and client on weft's sockets,
//! hyper's timer on weft's clock (paused included), hyper's executor on
//! weft's tasks, and `WeftIo` both ways. Network tests use loopback and
//! port 0; waits are bounded by timeouts, and no test asserts timing.

mod support;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::rt::{Executor, Timer};
use hyper::{Request, Response};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::task::Poll;
use std::time::Duration;
use support::{paused_current_thread, paused_runtimes, runtimes};
use weft::compat::hyper::{WeftExecutor, WeftIo, WeftTimer};
use weft::net::{TcpListener, TcpStream, UnixStream};
use weft_test_support::waker::{CountingWaker, poll};

/// How long one exchange may take before a test gives up.
const BOUND: Duration = Duration::from_secs(10);

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Answers with a body naming the method, the path, how the request body
/// was framed, and the request body itself: `GET /a (none) ` and so on.
async fn describe(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let framing = match request.headers().get(hyper::header::TRANSFER_ENCODING) {
        Some(te) => format!("te={}", te.to_str().unwrap_or("?")),
        None => match request.headers().get(hyper::header::CONTENT_LENGTH) {
            Some(len) => format!("len={}", len.to_str().unwrap_or("?")),
            None => "(none)".to_owned(),
        },
    };
    let head = format!("{} {} {framing} ", request.method(), request.uri().path());
    let body = request.into_body().collect().await?.to_bytes();
    let mut answer = head.into_bytes();
    answer.extend_from_slice(&body);
    Ok(Response::new(Full::new(Bytes::from(answer))))
}

/// A server accepting exactly one connection and serving `describe` on it
/// until the client is done; its task ends with the connection's result.
async fn one_connection_server() -> (SocketAddr, weft::task::JoinHandle<Result<(), hyper::Error>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = weft::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        hyper::server::conn::http1::Builder::new()
            .timer(WeftTimer::new())
            .serve_connection(WeftIo::new(stream), hyper::service::service_fn(describe))
            .await
    });
    (addr, server)
}

/// A hyper client connection to `addr`, its background half spawned.
async fn connect(
    addr: SocketAddr,
) -> hyper::client::conn::http1::SendRequest<http_body_util::combinators::BoxBody<Bytes, Infallible>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(WeftIo::new(stream))
        .await
        .unwrap();
    drop(weft::spawn(connection));
    sender
}

/// Sends `request` and returns the status and the whole body.
async fn send(
    sender: &mut hyper::client::conn::http1::SendRequest<
        http_body_util::combinators::BoxBody<Bytes, Infallible>,
    >,
    request: Request<http_body_util::combinators::BoxBody<Bytes, Infallible>>,
) -> Result<(u16, hyper::HeaderMap, Bytes), Error> {
    sender.ready().await?;
    let response = weft::time::timeout(BOUND, sender.send_request(request)).await??;
    let (parts, body) = response.into_parts();
    let body = weft::time::timeout(BOUND, body.collect()).await??.to_bytes();
    Ok((parts.status.as_u16(), parts.headers, body))
}

fn empty() -> http_body_util::combinators::BoxBody<Bytes, Infallible> {
    Empty::new().boxed()
}

#[test]
fn server_and_client_keep_one_connection_alive_for_two_requests() {
    for (flavour, rt) in runtimes() {
        rt.block_on(async {
            let (addr, server) = one_connection_server().await;
            let mut sender = connect(addr).await;
            let first = Request::get("/one").header("host", "x").body(empty()).unwrap();
            let (status, _, body) = send(&mut sender, first).await.unwrap();
            assert_eq!((status, &body[..]), (200, &b"GET /one (none) "[..]), "{flavour}");
            let second = Request::post("/two")
                .header("host", "x")
                .body(Full::new(Bytes::from_static(b"hi")).boxed())
                .unwrap();
            let (status, _, body) = send(&mut sender, second).await.unwrap();
            assert_eq!(
                (status, &body[..]),
                (200, &b"POST /two len=2 hi"[..]),
                "{flavour}"
            );
            // Both went over the server's one connection; it ends cleanly
            // once the client hangs up.
            drop(sender);
            let served = weft::time::timeout(BOUND, server).await.unwrap().unwrap();
            assert!(served.is_ok(), "{flavour}: {served:?}");
        });
    }
}

#[test]
fn head_gets_the_length_and_no_body_and_the_connection_goes_on() {
    weft::block_on(async {
        let (addr, _server) = one_connection_server().await;
        let mut sender = connect(addr).await;
        let head = Request::head("/h").header("host", "x").body(empty()).unwrap();
        let (status, headers, body) = send(&mut sender, head).await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(headers[hyper::header::CONTENT_LENGTH], "15"); // "HEAD /h (none) "
        assert!(body.is_empty(), "{body:?}");
        // Had a body been sent after the HEAD answer, this one would read it.
        let get = Request::get("/g").header("host", "x").body(empty()).unwrap();
        let (_, _, body) = send(&mut sender, get).await.unwrap();
        assert_eq!(&body[..], b"GET /g (none) ");
    });
}

#[test]
fn bodies_of_unknown_length_go_chunked_both_ways() {
    weft::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Echoes the request body as it comes: a response of unknown length.
        drop(weft::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let echo = hyper::service::service_fn(|request: Request<Incoming>| async move {
                Ok::<_, Infallible>(Response::new(request.into_body()))
            });
            hyper::server::conn::http1::Builder::new()
                .serve_connection(WeftIo::new(stream), echo)
                .await
        }));
        let mut sender = connect(addr).await;
        let frames =
            ["hello", " ", "chunked", " world"].map(|s| Ok::<_, Infallible>(Frame::data(Bytes::from(s))));
        let body = StreamBody::new(futures_lite::stream::iter(frames)).boxed();
        let request = Request::post("/").header("host", "x").body(body).unwrap();
        let (status, headers, body) = send(&mut sender, request).await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(headers[hyper::header::TRANSFER_ENCODING], "chunked");
        assert_eq!(&body[..], b"hello chunked world");
    });
}

#[test]
fn a_chunked_request_reaches_the_service_as_one_body() {
    weft::block_on(async {
        let (addr, server) = one_connection_server().await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
            .await
            .unwrap();
        let mut response = String::new();
        weft::time::timeout(BOUND, stream.read_to_string(&mut response))
            .await
            .unwrap()
            .unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(
            response.ends_with("\r\n\r\nPOST /c te=chunked abcde"),
            "{response}"
        );
        assert!(server.await.unwrap().is_ok());
    });
}

#[test]
fn http_1_0_is_answered_in_kind_and_the_connection_closes() {
    weft::block_on(async {
        let (addr, server) = one_connection_server().await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET /old HTTP/1.0\r\n\r\n").await.unwrap();
        let mut response = String::new();
        // Ends only if the server closes: HTTP/1.0 without keep-alive.
        weft::time::timeout(BOUND, stream.read_to_string(&mut response))
            .await
            .expect("the server should close the connection")
            .unwrap();
        assert!(response.starts_with("HTTP/1.0 200 OK\r\n"), "{response}");
        assert!(response.ends_with("\r\n\r\nGET /old (none) "), "{response}");
        assert!(server.await.unwrap().is_ok());
    });
}

#[test]
fn any_futures_io_stream_carries_http() {
    // A Unix socket pair: no TCP, no listener.
    weft::block_on(async {
        let (server_side, client_side) = UnixStream::pair().unwrap();
        let server = weft::spawn(
            hyper::server::conn::http1::Builder::new()
                .serve_connection(WeftIo::new(server_side), hyper::service::service_fn(describe)),
        );
        let (mut sender, connection) = hyper::client::conn::http1::handshake(WeftIo::new(client_side))
            .await
            .unwrap();
        drop(weft::spawn(connection));
        let request = Request::get("/unix").header("host", "x").body(empty()).unwrap();
        let (status, _, body) = send(&mut sender, request).await.unwrap();
        assert_eq!((status, &body[..]), (200, &b"GET /unix (none) "[..]));
        drop(sender);
        assert!(server.await.unwrap().is_ok());
    });
}

#[test]
fn a_hyper_stream_wrapped_again_speaks_futures_io() {
    weft::block_on(async {
        let (near, mut far) = UnixStream::pair().unwrap();
        // futures-io -> hyper::rt -> futures-io.
        let mut twice = WeftIo::new(WeftIo::new(near));
        twice.write_all(b"ping").await.unwrap();
        twice.flush().await.unwrap();
        let mut got = [0; 4];
        far.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
        far.write_all(b"pong").await.unwrap();
        twice.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"pong");
        twice.close().await.unwrap();
        let mut rest = Vec::new();
        far.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "closing the wrapper shut the socket down");
    });
}

#[test]
fn the_timer_sleeps_on_the_paused_clock() {
    paused_current_thread().block_on(async {
        let timer = WeftTimer::new();
        let start = timer.now();
        assert_eq!(
            start,
            weft::time::Instant::now().into_std(),
            "now is weft's clock"
        );
        let (wakes, waker) = CountingWaker::new();
        let mut nap = timer.sleep(Duration::from_secs(10));
        assert!(poll(nap.as_mut(), &waker).is_pending());
        weft::time::advance(Duration::from_secs(9)).await;
        assert_eq!(wakes.wakes(), 0);
        assert!(poll(nap.as_mut(), &waker).is_pending());
        weft::time::advance(Duration::from_secs(1)).await;
        assert_eq!(wakes.wakes(), 1);
        assert_eq!(poll(nap.as_mut(), &waker), Poll::Ready(()));
        assert_eq!(
            timer.now() - start,
            Duration::from_secs(10),
            "hyper's now moved with the clock"
        );
    });
}

#[test]
fn the_timer_resets_its_sleeps_earlier_and_later() {
    paused_current_thread().block_on(async {
        let timer = WeftTimer::new();
        let (_, waker) = CountingWaker::new();
        let mut nap = timer.sleep_until(timer.now() + Duration::from_secs(60));
        assert!(poll(nap.as_mut(), &waker).is_pending());
        timer.reset(&mut nap, timer.now());
        assert_eq!(poll(nap.as_mut(), &waker), Poll::Ready(()), "earlier");
        timer.reset(&mut nap, timer.now() + Duration::from_secs(5));
        assert!(poll(nap.as_mut(), &waker).is_pending(), "later: pending again");
        weft::time::advance(Duration::from_secs(5)).await;
        assert_eq!(poll(nap.as_mut(), &waker), Poll::Ready(()));
    });
}

#[test]
fn a_slow_request_head_times_out_on_the_paused_clock() {
    for (flavour, rt) in paused_runtimes() {
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            let start = weft::time::Instant::now();
            client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap(); // no blank line
            let served = hyper::server::conn::http1::Builder::new()
                .timer(WeftTimer::new())
                .header_read_timeout(Duration::from_secs(5))
                .serve_connection(WeftIo::new(stream), hyper::service::service_fn(describe))
                .await;
            let error = served.expect_err("the head never completed");
            assert!(error.is_timeout(), "{flavour}: {error}");
            assert!(start.elapsed() >= Duration::from_secs(5), "{flavour}");
        });
    }
}

#[test]
fn the_executor_spawns_on_its_runtime_from_any_thread() {
    let rt = weft::Runtime::new().unwrap();
    let executor = WeftExecutor::new(rt.handle().clone());
    let (done, finished) = weft::sync::oneshot::channel();
    std::thread::spawn(move || {
        executor.execute(async move {
            let _ = done.send(weft::Handle::try_current().is_ok());
        })
    })
    .join()
    .unwrap();
    assert_eq!(rt.block_on(finished), Ok(true), "ran inside the runtime");
    assert!(WeftExecutor::try_current().is_err(), "no runtime on this thread");
}

/// A `Sleep` from the timer is `Send + Sync`, as hyper requires, and so
/// are the executor and the I/O wrapper around a weft socket.
#[test]
fn the_glue_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<WeftTimer>();
    send_sync::<WeftExecutor>();
    send_sync::<WeftIo<TcpStream>>();
    let _: fn() -> std::pin::Pin<Box<dyn hyper::rt::Sleep>> = || WeftTimer::new().sleep(Duration::ZERO);
}
