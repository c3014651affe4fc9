//! Sockets: weft beside tokio and smol (async-io with an async-executor
//! `LocalExecutor`), each on one thread (weft and tokio current-thread
//! runtimes; async-io's own `block_on`), all on loopback `127.0.0.1`, TCP
//! with `TCP_NODELAY` on. Runtimes, sockets and echo tasks are set up once
//! per runtime, outside the measured loop (except in `tcp_connect_accept`);
//! one iteration is:
//!
//! * `tcp_pingpong_1b_1conn`: 1 000 round trips of 1 byte over one
//!   connection (the client writes, an echo task on the server side writes
//!   it back, the client reads it).
//! * `tcp_pingpong_1k_1conn`: the same with 1 KiB messages (`read_exact` on
//!   both sides).
//! * `tcp_pingpong_{1b,1k}_64conn`: 64 connections, 16 round trips each,
//!   concurrently (1 024 in all): one echo task per connection on the server
//!   side, one task per connection on the client side, spawned and joined
//!   within the iteration.
//! * `tcp_pingpong_1b_1conn_mt2`: `tcp_pingpong_1b_1conn` on multi-thread
//!   runtimes of two workers (weft and tokio), the client in a spawned
//!   task.
//! * `tcp_1mib_write_all_read_exact`: `write_all` of 1 MiB on one end and
//!   `read_exact` of 1 MiB on the other, the two joined in one task.
//! * `tcp_connect_accept`: one connect and one accept (both completed) to a
//!   listener bound once, then both streams dropped (the accepted one
//!   first, so that `TIME_WAIT` does not hold the client's ephemeral ports).
//! * `udp_1k_roundtrip`: 1 000 round trips of a 1 KiB datagram between two
//!   connected UDP sockets, one of them in an echo task.
//! * `unix_1k_roundtrip`: 1 000 round trips of 1 KiB over a Unix stream
//!   pair, one end in an echo task.
//!
//! When a runtime is done, the client sockets are dropped and the echo
//! tasks, which then see the end of the stream (or an empty datagram for
//! UDP), are awaited to their end.

use criterion::{Criterion, criterion_group, criterion_main};

/// Round trips per iteration over one connection or socket pair.
const ROUNDS: usize = 1_000;
/// Connections in the `_64conn` workloads.
const CONNS: usize = 64;
/// Round trips per connection and iteration in the `_64conn` workloads.
const ROUNDS_PER_CONN: usize = 16;
/// The message size of the `_1k` workloads.
const KIB: usize = 1024;
/// The transfer size of `tcp_1mib_write_all_read_exact`.
const MIB: usize = 1024 * 1024;
/// Where every listener and socket binds.
const LOCALHOST: &str = "127.0.0.1:0";

fn weft_rt() -> weft::Runtime {
    weft::Runtime::builder().current_thread().build().unwrap()
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// weft's side: the streams' own (inherent) methods.
mod weft_net {
    use weft::net::{TcpListener, TcpStream, UdpSocket};

    /// A connected client and server stream, both with `TCP_NODELAY`.
    pub(super) async fn tcp_pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.set_nodelay(true).unwrap();
        server.set_nodelay(true).unwrap();
        (client, server)
    }

    /// `echo` (until the end of the stream) and `rounds` for one stream type.
    macro_rules! stream_fns {
        ($echo:ident, $rounds:ident, $ty:ty) => {
            /// Echoes `size`-byte messages until the peer closes.
            pub(super) async fn $echo(mut stream: $ty, size: usize) {
                let mut buf = vec![0; size];
                while stream.read_exact(&mut buf).await.is_ok() {
                    stream.write_all(&buf).await.unwrap();
                }
            }

            /// `n` round trips of `size` bytes through an echo.
            pub(super) async fn $rounds(stream: &mut $ty, size: usize, n: usize) {
                let mut buf = vec![1; size];
                for _ in 0..n {
                    stream.write_all(&buf).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                }
            }
        };
    }
    stream_fns!(tcp_echo, tcp_rounds, TcpStream);
    stream_fns!(unix_echo, unix_rounds, weft::net::UnixStream);

    /// Echoes datagrams until an empty one comes.
    pub(super) async fn udp_echo(socket: UdpSocket) {
        let mut buf = vec![0; 2 * super::KIB];
        loop {
            let n = socket.recv(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            socket.send(&buf[..n]).await.unwrap();
        }
    }

    /// `n` round trips of a `size`-byte datagram through an echo.
    pub(super) async fn udp_rounds(socket: &UdpSocket, size: usize, n: usize) {
        let mut buf = vec![1; size];
        for _ in 0..n {
            socket.send(&buf).await.unwrap();
            assert_eq!(socket.recv(&mut buf).await.unwrap(), size);
        }
    }
}

/// tokio's side, generic over its `AsyncRead`/`AsyncWrite` traits.
mod tokio_net {
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream, UdpSocket};

    /// A connected client and server stream, both with `TCP_NODELAY`.
    pub(super) async fn tcp_pair(listener: &TcpListener) -> (TcpStream, TcpStream) {
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.set_nodelay(true).unwrap();
        server.set_nodelay(true).unwrap();
        (client, server)
    }

    /// Echoes `size`-byte messages until the peer closes.
    pub(super) async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, size: usize) {
        let mut buf = vec![0; size];
        while stream.read_exact(&mut buf).await.is_ok() {
            stream.write_all(&buf).await.unwrap();
        }
    }

    /// `n` round trips of `size` bytes through an echo.
    pub(super) async fn rounds<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, size: usize, n: usize) {
        let mut buf = vec![1; size];
        for _ in 0..n {
            stream.write_all(&buf).await.unwrap();
            stream.read_exact(&mut buf).await.unwrap();
        }
    }

    /// Echoes datagrams until an empty one comes.
    pub(super) async fn udp_echo(socket: UdpSocket) {
        let mut buf = vec![0; 2 * super::KIB];
        loop {
            let n = socket.recv(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            socket.send(&buf[..n]).await.unwrap();
        }
    }

    /// `n` round trips of a `size`-byte datagram through an echo.
    pub(super) async fn udp_rounds(socket: &UdpSocket, size: usize, n: usize) {
        let mut buf = vec![1; size];
        for _ in 0..n {
            socket.send(&buf).await.unwrap();
            assert_eq!(socket.recv(&mut buf).await.unwrap(), size);
        }
    }
}

/// smol's side: `async_io::Async` with futures-lite's extension traits.
mod smol_net {
    use async_io::Async;
    use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
    use std::net::{TcpListener, TcpStream, UdpSocket};

    /// A connected client and server stream, both with `TCP_NODELAY`.
    pub(super) async fn tcp_pair(listener: &Async<TcpListener>) -> (Async<TcpStream>, Async<TcpStream>) {
        let client = Async::<TcpStream>::connect(listener.get_ref().local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.get_ref().set_nodelay(true).unwrap();
        server.get_ref().set_nodelay(true).unwrap();
        (client, server)
    }

    /// Echoes `size`-byte messages until the peer closes.
    pub(super) async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, size: usize) {
        let mut buf = vec![0; size];
        while stream.read_exact(&mut buf).await.is_ok() {
            stream.write_all(&buf).await.unwrap();
        }
    }

    /// `n` round trips of `size` bytes through an echo.
    pub(super) async fn rounds<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, size: usize, n: usize) {
        let mut buf = vec![1; size];
        for _ in 0..n {
            stream.write_all(&buf).await.unwrap();
            stream.read_exact(&mut buf).await.unwrap();
        }
    }

    /// Echoes datagrams until an empty one comes.
    pub(super) async fn udp_echo(socket: Async<UdpSocket>) {
        let mut buf = vec![0; 2 * super::KIB];
        loop {
            let n = socket.recv(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            socket.send(&buf[..n]).await.unwrap();
        }
    }

    /// `n` round trips of a `size`-byte datagram through an echo.
    pub(super) async fn udp_rounds(socket: &Async<UdpSocket>, size: usize, n: usize) {
        let mut buf = vec![1; size];
        for _ in 0..n {
            socket.send(&buf).await.unwrap();
            assert_eq!(socket.recv(&mut buf).await.unwrap(), size);
        }
    }
}

/// `conns` connections with an echo task each; an iteration is `ROUNDS`
/// round trips on one connection, or `ROUNDS_PER_CONN` on each of several.
fn tcp_pingpong(c: &mut Criterion, name: &str, size: usize, conns: usize) {
    let mut group = c.benchmark_group(name);
    let per_conn = if conns == 1 { ROUNDS } else { ROUNDS_PER_CONN };

    let rt = weft_rt();
    let (mut clients, servers) = rt.block_on(async {
        let listener = weft::net::TcpListener::bind(LOCALHOST).await.unwrap();
        let mut clients = Vec::new();
        let mut servers = Vec::new();
        for _ in 0..conns {
            let (client, server) = weft_net::tcp_pair(&listener).await;
            clients.push(client);
            servers.push(weft::spawn(weft_net::tcp_echo(server, size)));
        }
        (clients, servers)
    });
    group.bench_function("weft", |b| {
        b.iter(|| {
            rt.block_on(async {
                if let [client] = &mut clients[..] {
                    weft_net::tcp_rounds(client, size, per_conn).await;
                } else {
                    let tasks: Vec<_> = clients
                        .drain(..)
                        .map(|mut client| {
                            weft::spawn(async move {
                                weft_net::tcp_rounds(&mut client, size, per_conn).await;
                                client
                            })
                        })
                        .collect();
                    for task in tasks {
                        clients.push(task.await.unwrap());
                    }
                }
            })
        })
    });
    drop(clients);
    rt.block_on(async {
        for server in servers {
            server.await.unwrap();
        }
    });
    drop(rt);

    let rt = tokio_rt();
    let (mut clients, servers) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(LOCALHOST).await.unwrap();
        let mut clients = Vec::new();
        let mut servers = Vec::new();
        for _ in 0..conns {
            let (client, server) = tokio_net::tcp_pair(&listener).await;
            clients.push(client);
            servers.push(tokio::spawn(tokio_net::echo(server, size)));
        }
        (clients, servers)
    });
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                if let [client] = &mut clients[..] {
                    tokio_net::rounds(client, size, per_conn).await;
                } else {
                    let tasks: Vec<_> = clients
                        .drain(..)
                        .map(|mut client| {
                            tokio::spawn(async move {
                                tokio_net::rounds(&mut client, size, per_conn).await;
                                client
                            })
                        })
                        .collect();
                    for task in tasks {
                        clients.push(task.await.unwrap());
                    }
                }
            })
        })
    });
    drop(clients);
    rt.block_on(async {
        for server in servers {
            server.await.unwrap();
        }
    });
    drop(rt);

    let ex = async_executor::LocalExecutor::new();
    let (mut clients, servers) = async_io::block_on(ex.run(async {
        let listener = async_io::Async::<std::net::TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
        let mut clients = Vec::new();
        let mut servers = Vec::new();
        for _ in 0..conns {
            let (client, server) = smol_net::tcp_pair(&listener).await;
            clients.push(client);
            servers.push(ex.spawn(smol_net::echo(server, size)));
        }
        (clients, servers)
    }));
    group.bench_function("smol", |b| {
        b.iter(|| {
            async_io::block_on(ex.run(async {
                if let [client] = &mut clients[..] {
                    smol_net::rounds(client, size, per_conn).await;
                } else {
                    let tasks: Vec<_> = clients
                        .drain(..)
                        .map(|mut client| {
                            ex.spawn(async move {
                                smol_net::rounds(&mut client, size, per_conn).await;
                                client
                            })
                        })
                        .collect();
                    for task in tasks {
                        clients.push(task.await);
                    }
                }
            }))
        })
    });
    drop(clients);
    async_io::block_on(ex.run(async {
        for server in servers {
            server.await;
        }
    }));
    group.finish();
}

fn tcp_pingpong_1b_1conn(c: &mut Criterion) {
    tcp_pingpong(c, "net/tcp_pingpong_1b_1conn", 1, 1);
}

fn tcp_pingpong_1k_1conn(c: &mut Criterion) {
    tcp_pingpong(c, "net/tcp_pingpong_1k_1conn", KIB, 1);
}

fn tcp_pingpong_1b_64conn(c: &mut Criterion) {
    tcp_pingpong(c, "net/tcp_pingpong_1b_64conn", 1, CONNS);
}

fn tcp_pingpong_1k_64conn(c: &mut Criterion) {
    tcp_pingpong(c, "net/tcp_pingpong_1k_64conn", KIB, CONNS);
}

/// Workers of the multi-thread runtimes in `tcp_pingpong_1b_1conn_mt2`.
const MT_WORKERS: usize = 2;

/// `tcp_pingpong_1b_1conn` on multi-thread runtimes of two workers (weft
/// and tokio; smol has no such runtime of its own): the client's rounds
/// run in a spawned task, as a service's would, which `block_on` awaits;
/// the echo task is the server's. Where each task runs after a wake, and
/// how many cross-thread hand-offs a round trip takes, is what differs.
fn tcp_pingpong_1b_1conn_mt2(c: &mut Criterion) {
    let mut group = c.benchmark_group("net/tcp_pingpong_1b_1conn_mt2");

    let rt = weft::Runtime::builder()
        .worker_threads(MT_WORKERS)
        .build()
        .unwrap();
    let (client, server) = rt.block_on(async {
        let listener = weft::net::TcpListener::bind(LOCALHOST).await.unwrap();
        let (client, server) = weft_net::tcp_pair(&listener).await;
        (client, weft::spawn(weft_net::tcp_echo(server, 1)))
    });
    let mut client = Some(client);
    group.bench_function("weft", |b| {
        b.iter(|| {
            let mut stream = client.take().unwrap();
            client = Some(rt.block_on(async {
                weft::spawn(async move {
                    weft_net::tcp_rounds(&mut stream, 1, ROUNDS).await;
                    stream
                })
                .await
                .unwrap()
            }));
        })
    });
    drop(client);
    rt.block_on(server).unwrap();
    drop(rt);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(MT_WORKERS)
        .enable_all()
        .build()
        .unwrap();
    let (client, server) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(LOCALHOST).await.unwrap();
        let (client, server) = tokio_net::tcp_pair(&listener).await;
        (client, tokio::spawn(tokio_net::echo(server, 1)))
    });
    let mut client = Some(client);
    group.bench_function("tokio", |b| {
        b.iter(|| {
            let mut stream = client.take().unwrap();
            client = Some(rt.block_on(async {
                tokio::spawn(async move {
                    tokio_net::rounds(&mut stream, 1, ROUNDS).await;
                    stream
                })
                .await
                .unwrap()
            }));
        })
    });
    drop(client);
    rt.block_on(server).unwrap();
    group.finish();
}

fn tcp_bulk(c: &mut Criterion) {
    let mut group = c.benchmark_group("net/tcp_1mib_write_all_read_exact");
    let data = vec![1u8; MIB];
    let mut sink = vec![0u8; MIB];

    let rt = weft_rt();
    let (mut client, mut server) = rt.block_on(async {
        let listener = weft::net::TcpListener::bind(LOCALHOST).await.unwrap();
        weft_net::tcp_pair(&listener).await
    });
    group.bench_function("weft", |b| {
        b.iter(|| {
            let (w, r) = rt.block_on(futures_lite::future::zip(
                client.write_all(&data),
                server.read_exact(&mut sink),
            ));
            w.unwrap();
            r.unwrap();
        })
    });
    drop((client, server));
    drop(rt);

    let rt = tokio_rt();
    let (mut client, mut server) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(LOCALHOST).await.unwrap();
        tokio_net::tcp_pair(&listener).await
    });
    group.bench_function("tokio", |b| {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        b.iter(|| {
            let (w, r) = rt.block_on(futures_lite::future::zip(
                client.write_all(&data),
                server.read_exact(&mut sink),
            ));
            w.unwrap();
            r.unwrap();
        })
    });
    drop((client, server));
    drop(rt);

    let (mut client, mut server) = async_io::block_on(async {
        let listener = async_io::Async::<std::net::TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
        smol_net::tcp_pair(&listener).await
    });
    group.bench_function("smol", |b| {
        use futures_lite::{AsyncReadExt, AsyncWriteExt};
        b.iter(|| {
            let (w, r) = async_io::block_on(futures_lite::future::zip(
                client.write_all(&data),
                server.read_exact(&mut sink),
            ));
            w.unwrap();
            r.unwrap();
        })
    });
    group.finish();
}

fn tcp_connect_accept(c: &mut Criterion) {
    let mut group = c.benchmark_group("net/tcp_connect_accept");

    let rt = weft_rt();
    let listener = rt.block_on(weft::net::TcpListener::bind(LOCALHOST)).unwrap();
    let addr = listener.local_addr().unwrap();
    group.bench_function("weft", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (client, accepted) =
                    futures_lite::future::zip(weft::net::TcpStream::connect(addr), listener.accept()).await;
                let client = client.unwrap();
                drop(accepted.unwrap());
                drop(client);
            })
        })
    });
    drop(listener);
    drop(rt);

    let rt = tokio_rt();
    let listener = rt.block_on(tokio::net::TcpListener::bind(LOCALHOST)).unwrap();
    let addr = listener.local_addr().unwrap();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (client, accepted) =
                    futures_lite::future::zip(tokio::net::TcpStream::connect(addr), listener.accept()).await;
                let client = client.unwrap();
                drop(accepted.unwrap());
                drop(client);
            })
        })
    });
    drop(listener);
    drop(rt);

    let listener = async_io::Async::<std::net::TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
    let addr = listener.get_ref().local_addr().unwrap();
    group.bench_function("smol", |b| {
        b.iter(|| {
            async_io::block_on(async {
                let (client, accepted) = futures_lite::future::zip(
                    async_io::Async::<std::net::TcpStream>::connect(addr),
                    listener.accept(),
                )
                .await;
                let client = client.unwrap();
                drop(accepted.unwrap());
                drop(client);
            })
        })
    });
    group.finish();
}

fn udp_roundtrip(c: &mut Criterion) {
    let mut group = c.benchmark_group("net/udp_1k_roundtrip");

    let rt = weft_rt();
    let (client, server) = rt.block_on(async {
        let client = weft::net::UdpSocket::bind(LOCALHOST).await.unwrap();
        let server = weft::net::UdpSocket::bind(LOCALHOST).await.unwrap();
        client.connect(server.local_addr().unwrap()).await.unwrap();
        server.connect(client.local_addr().unwrap()).await.unwrap();
        (client, weft::spawn(weft_net::udp_echo(server)))
    });
    group.bench_function("weft", |b| {
        b.iter(|| rt.block_on(weft_net::udp_rounds(&client, KIB, ROUNDS)))
    });
    rt.block_on(async {
        client.send(&[]).await.unwrap();
        server.await.unwrap();
    });
    drop(rt);

    let rt = tokio_rt();
    let (client, server) = rt.block_on(async {
        let client = tokio::net::UdpSocket::bind(LOCALHOST).await.unwrap();
        let server = tokio::net::UdpSocket::bind(LOCALHOST).await.unwrap();
        client.connect(server.local_addr().unwrap()).await.unwrap();
        server.connect(client.local_addr().unwrap()).await.unwrap();
        (client, tokio::spawn(tokio_net::udp_echo(server)))
    });
    group.bench_function("tokio", |b| {
        b.iter(|| rt.block_on(tokio_net::udp_rounds(&client, KIB, ROUNDS)))
    });
    rt.block_on(async {
        client.send(&[]).await.unwrap();
        server.await.unwrap();
    });
    drop(rt);

    let ex = async_executor::LocalExecutor::new();
    let client = async_io::Async::<std::net::UdpSocket>::bind(([127, 0, 0, 1], 0)).unwrap();
    let server = async_io::Async::<std::net::UdpSocket>::bind(([127, 0, 0, 1], 0)).unwrap();
    client
        .get_ref()
        .connect(server.get_ref().local_addr().unwrap())
        .unwrap();
    server
        .get_ref()
        .connect(client.get_ref().local_addr().unwrap())
        .unwrap();
    let server = ex.spawn(smol_net::udp_echo(server));
    group.bench_function("smol", |b| {
        b.iter(|| async_io::block_on(ex.run(smol_net::udp_rounds(&client, KIB, ROUNDS))))
    });
    async_io::block_on(ex.run(async {
        client.send(&[]).await.unwrap();
        server.await;
    }));
    group.finish();
}

fn unix_roundtrip(c: &mut Criterion) {
    let mut group = c.benchmark_group("net/unix_1k_roundtrip");

    let rt = weft_rt();
    let (mut client, server) = rt.block_on(async {
        let (client, server) = weft::net::UnixStream::pair().unwrap();
        (client, weft::spawn(weft_net::unix_echo(server, KIB)))
    });
    group.bench_function("weft", |b| {
        b.iter(|| rt.block_on(weft_net::unix_rounds(&mut client, KIB, ROUNDS)))
    });
    drop(client);
    rt.block_on(server).unwrap();
    drop(rt);

    let rt = tokio_rt();
    let (mut client, server) = rt.block_on(async {
        let (client, server) = tokio::net::UnixStream::pair().unwrap();
        (client, tokio::spawn(tokio_net::echo(server, KIB)))
    });
    group.bench_function("tokio", |b| {
        b.iter(|| rt.block_on(tokio_net::rounds(&mut client, KIB, ROUNDS)))
    });
    drop(client);
    rt.block_on(server).unwrap();
    drop(rt);

    let ex = async_executor::LocalExecutor::new();
    let (mut client, server) = async_io::Async::<std::os::unix::net::UnixStream>::pair().unwrap();
    let server = ex.spawn(smol_net::echo(server, KIB));
    group.bench_function("smol", |b| {
        b.iter(|| async_io::block_on(ex.run(smol_net::rounds(&mut client, KIB, ROUNDS))))
    });
    drop(client);
    async_io::block_on(ex.run(server));
    group.finish();
}

criterion_group!(
    benches,
    tcp_pingpong_1b_1conn,
    tcp_pingpong_1k_1conn,
    tcp_pingpong_1b_64conn,
    tcp_pingpong_1k_64conn,
    tcp_pingpong_1b_1conn_mt2,
    tcp_bulk,
    tcp_connect_accept,
    udp_roundtrip,
    unix_roundtrip
);
criterion_main!(benches);
