//! The load generator: keep-alive HTTP/1.1 clients on hyper over weft,
//! each posting its share of the sign-ups one at a time and timing each
//! answer.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Request, StatusCode};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use weft::compat::hyper::WeftIo;
use weft::net::TcpStream;

/// The load generator: `signups` POSTs over `connections` keep-alive
/// HTTP/1.1 connections; returns each request's time to its answer.
pub(crate) async fn load(
    addr: SocketAddr,
    signups: u64,
    connections: usize,
    acked: Arc<AtomicU64>,
) -> io::Result<Vec<Duration>> {
    let clients: Vec<_> = (0..connections as u64)
        .map(|c| weft::spawn(client(addr, c, signups, connections, acked.clone())))
        .collect();
    let mut all = Vec::with_capacity(signups as usize);
    for client in clients {
        all.extend(client.await??);
    }
    Ok(all)
}

// ANCHOR: load-loop
/// One connection of the load generator, a hyper client: sign-ups
/// `first`, `first + connections`, … one at a time; returns each one's
/// time to its answer.
async fn client(
    addr: SocketAddr,
    first: u64,
    signups: u64,
    connections: usize,
    acked: Arc<AtomicU64>,
) -> io::Result<Vec<Duration>> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    // The connection reads and writes the socket in a task of its own;
    // `sender` hands it requests.
    let (mut sender, connection) = hyper::client::conn::http1::handshake(WeftIo::new(stream))
        .await
        .map_err(io::Error::other)?;
    let connection = weft::spawn(connection);
    let mut latencies = Vec::new();
    for n in (first..signups).step_by(connections) {
        let form = format!("name=user{n}&email=user{n}@example.com");
        let request = Request::post("/signup")
            .header(HOST, addr.to_string())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)))
            .map_err(io::Error::other)?;
        let sent = Instant::now();
        // Ready once the previous exchange is over: one request at a time.
        sender.ready().await.map_err(io::Error::other)?;
        let response = sender.send_request(request).await.map_err(io::Error::other)?;
        let status = response.status();
        // The whole answer, so that the connection is free for the next.
        response.into_body().collect().await.map_err(io::Error::other)?;
        if status != StatusCode::ACCEPTED {
            return Err(io::Error::other(format!("sign-up answered {status}")));
        }
        latencies.push(sent.elapsed());
        acked.fetch_add(1, Ordering::Relaxed);
    }
    drop(sender); // no more requests: the connection closes
    connection
        .await
        .map_err(io::Error::other)?
        .map_err(io::Error::other)?;
    Ok(latencies)
}
// ANCHOR_END: load-loop
