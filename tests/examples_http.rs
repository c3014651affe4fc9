//! `http_hello` speaks HTTP/1.x as RFC 9112 says: what a load generator
//! such as `ab` (HTTP/1.0, `Connection: close`) or curl (`HEAD`, chunked
//! uploads, pipelining) sends. Each exchange is bounded by a timeout, so a
//! server that keeps a connection open it should close fails rather than
//! hangs.

#[path = "../examples/http_hello.rs"]
#[allow(dead_code, unreachable_pub)]
mod http_hello;

use futures_lite::AsyncReadExt;
use std::time::Duration;
use weft::net::{TcpListener, TcpStream};

/// How long one exchange may take before the test gives up.
const BOUND: Duration = Duration::from_secs(10);

/// Starts http_hello on a loopback port, sends `request` (one or more
/// requests, as bytes) on one connection, and returns everything the
/// server sent until it closed the connection.
fn exchange(request: &str) -> String {
    weft::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(http_hello::serve(listener, u64::MAX));
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        weft::time::timeout(BOUND, stream.read_to_end(&mut response))
            .await
            .expect("the server should close the connection")
            .unwrap();
        server.abort();
        String::from_utf8(response).unwrap()
    })
}

/// The status lines in `response`, in order (the bodies end in a bare
/// `\n`, so the next status line may follow one directly).
fn statuses(response: &str) -> Vec<&str> {
    response
        .split('\n')
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| line.starts_with("HTTP/1."))
        .collect()
}

#[test]
fn http_1_0_gets_an_answer_and_the_connection_closes() {
    let response = exchange("GET / HTTP/1.0\r\n\r\n");
    assert!(response.starts_with("HTTP/1.0 200 OK\r\n"), "{response}");
    assert!(response.ends_with("\r\n\r\nHello from weft\n"), "{response}");
}

#[test]
fn connection_close_closes_after_the_answer() {
    let response = exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("Hello from weft\n"), "{response}");
}

#[test]
fn head_gets_the_headers_and_no_body() {
    // The GET after the HEAD shows where the HEAD's answer ended.
    let response =
        exchange("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let (head_answer, get_answer) = response.split_once("\r\n\r\n").unwrap();
    assert!(head_answer.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        head_answer.to_ascii_lowercase().contains("content-length: 16"),
        "{response}"
    );
    assert!(
        get_answer.starts_with("HTTP/1.1 200 OK\r\n"),
        "no body after HEAD: {response}"
    );
    assert_eq!(statuses(&response).len(), 2);
}

#[test]
fn a_chunked_request_body_is_read_to_its_end() {
    // A chunked POST is refused (405), but its body is consumed: the GET
    // pipelined after it is read as a request of its own.
    let response = exchange(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n\
         GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        statuses(&response),
        ["HTTP/1.1 405 Method Not Allowed", "HTTP/1.1 200 OK"],
        "{response}"
    );
}

#[test]
fn keep_alive_and_pipelined_requests_are_answered_in_order() {
    let response = exchange(
        "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(statuses(&response), ["HTTP/1.1 200 OK"; 3], "{response}");
    assert_eq!(response.matches("Hello from weft\n").count(), 3);
}
