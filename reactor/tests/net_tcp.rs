// Over ~600 lines on purpose: one concept, TCP on the reactor alone; the
// tests share the `pair` helper and read as one checklist of the socket's
// behaviour (UDP and Unix sockets have files of their own).
//! TCP: echo under load, half-close, refused and reset connections, the
//! halves, the `futures-io` traits, conversions and error paths.

mod support;

use std::io::{self, ErrorKind, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::task::Poll;
use support::*;
use weft_reactor::Driver;
use weft_reactor::net::{TcpListener, TcpStream, tcp};

/// A connected pair: the client end and the accepted end.
async fn pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let client = TcpStream::connect(listener.local_addr()?).await?;
    let (server, peer) = listener.accept().await?;
    assert_eq!(peer, client.local_addr()?);
    assert_eq!(server.peer_addr()?, client.local_addr()?);
    assert_eq!(client.peer_addr()?, server.local_addr()?);
    Ok((client, server))
}

/// A port on which nothing listens: bound, noted, closed.
async fn dead_port() -> io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    listener.local_addr()
}

const CONNECTIONS: usize = 100;
const BYTES_EACH: usize = 1 << 20;
const MAX_CHUNK: usize = 48 * 1024;

/// The client side of one echo connection: writes its pattern in uneven
/// chunks while it reads the echo back in other uneven chunks, and checks
/// every byte.
async fn echo_client(addr: SocketAddr, id: usize, pattern: &Pattern) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    let (mut reader, mut writer) = stream.into_split();
    let write = async move {
        let mut rng = XorShift::new(id as u64);
        let mut buf = vec![0; MAX_CHUNK];
        let mut sent = 0;
        while sent < BYTES_EACH {
            let n = rng.range(1, MAX_CHUNK).min(BYTES_EACH - sent);
            pattern.fill(id, sent, &mut buf[..n]);
            writer.write_all(&buf[..n]).await?;
            sent += n;
        }
        drop(writer); // shuts down the write side: the server sees the end
        io::Result::Ok(())
    };
    let read = async {
        let mut rng = XorShift::new(id as u64 + 1_000_000);
        let mut buf = vec![0; MAX_CHUNK];
        let mut scratch = Vec::new();
        let mut received = 0;
        loop {
            let want = rng.range(1, MAX_CHUNK);
            match reader.read(&mut buf[..want]).await? {
                0 => break,
                n => {
                    assert!(
                        pattern.matches(id, received, &buf[..n], &mut scratch),
                        "connection {id}: wrong bytes at {received}..{}",
                        received + n
                    );
                    received += n;
                }
            }
        }
        assert_eq!(received, BYTES_EACH, "connection {id}");
        io::Result::Ok(())
    };
    let (wrote, read) = join2(write, read).await;
    wrote?;
    read
}

/// The server side of one echo connection: reads in uneven chunks, writes
/// each back, and closes its write side at the end of the stream.
async fn echo_server(mut stream: TcpStream, seed: u64) -> io::Result<()> {
    let mut rng = XorShift::new(seed);
    let mut buf = vec![0; MAX_CHUNK];
    loop {
        let want = rng.range(1, MAX_CHUNK);
        match stream.read(&mut buf[..want]).await? {
            0 => break,
            n => stream.write_all(&buf[..n]).await?,
        }
    }
    stream.shutdown(Shutdown::Write)
}

#[test]
fn echo_100_connections_of_1_mib_in_uneven_chunks() {
    let pattern = Pattern::new();
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = async {
            let mut echoes = Vec::new();
            for seed in 0..CONNECTIONS {
                let (stream, _) = listener.accept().await?;
                echoes.push(boxed(echo_server(stream, seed as u64 + 7)));
            }
            join_all(echoes)
                .await
                .into_iter()
                .collect::<io::Result<Vec<()>>>()
        };
        let clients = join_all(
            (0..CONNECTIONS)
                .map(|id| boxed(echo_client(addr, id, &pattern)))
                .collect(),
        );
        let (served, clients) = join2(server, clients).await;
        served?;
        clients.into_iter().collect::<io::Result<Vec<()>>>()?;
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn half_close_peer_reads_to_end_then_answers() {
    block_on(async {
        let (mut client, mut server) = pair().await?;
        client.write_all(b"request").await?;
        client.shutdown(Shutdown::Write)?;
        // Writing after the shutdown fails, at once.
        assert_eq!(
            client.write(b"more").await.unwrap_err().kind(),
            ErrorKind::BrokenPipe
        );

        let mut request = Vec::new();
        let mut buf = [0; 3];
        loop {
            match server.read(&mut buf).await? {
                0 => break,
                n => request.extend_from_slice(&buf[..n]),
            }
        }
        assert_eq!(request, b"request");
        // The end of the stream stays the end.
        assert_eq!(server.read(&mut buf).await?, 0);

        server.write_all(b"response").await?;
        drop(server);
        assert_eq!(read_to_end_via(&mut client).await?, b"response");
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn connect_refused() {
    block_on(async {
        let addr = dead_port().await?;
        let error = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn connect_tries_each_address_and_reports_the_last_error() {
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let live = listener.local_addr()?;
        let dead = dead_port().await?;

        let stream = TcpStream::connect(&[dead, live][..]).await?;
        assert_eq!(stream.peer_addr()?, live);
        let error = TcpStream::connect(&[dead, dead][..]).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);

        let none: &[SocketAddr] = &[];
        assert_eq!(
            TcpStream::connect(none).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            TcpListener::bind(none).await.unwrap_err().kind(),
            ErrorKind::InvalidInput
        );

        // Binding where a listener listens fails; a later free address works.
        let error = TcpListener::bind(live).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AddrInUse);
        let other = TcpListener::bind(&[live, "127.0.0.1:0".parse().unwrap()][..]).await?;
        assert_ne!(other.local_addr()?, live);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn peer_reset_surfaces_as_connection_reset() {
    block_on(async {
        let (mut client, server) = pair().await?;
        client.write_all(b"never read").await?;
        // Once the data sits unread in the server's receive buffer, closing
        // the server makes Linux answer with a reset instead of a FIN.
        server.readable().await?;
        drop(server);

        let mut buf = [0; 16];
        let error = client.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionReset);
        let error = client.write(b"anyone?").await.unwrap_err();
        assert_peer_gone(&error);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn write_after_peer_closed_fails_without_killing_the_process() {
    block_on(async {
        let (mut client, server) = pair().await?;
        drop(server);
        // The first write may still go out (the closed peer answers it with
        // a reset); within a few, writing fails.
        let mut error = None;
        for _ in 0..1000 {
            if let Err(e) = client.write(b"x").await {
                error = Some(e);
                break;
            }
        }
        let error = error.expect("writes to a closed peer kept succeeding");
        assert_peer_gone(&error);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn read_after_peer_closed_returns_zero() {
    block_on(async {
        let (mut client, mut server) = pair().await?;
        server.write_all(b"bye").await?;
        drop(server);
        let mut buf = [0; 8];
        let mut got = 0;
        loop {
            match client.read(&mut buf[got..]).await? {
                0 => break,
                n => got += n,
            }
        }
        assert_eq!(&buf[..got], b"bye");
        for _ in 0..3 {
            assert_eq!(client.read(&mut buf).await?, 0);
            assert_eq!(client.try_read(&mut buf)?, 0);
        }
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn zero_length_buffers_return_zero_at_once() {
    block_on(async {
        let (mut client, mut server) = pair().await?;
        // Nothing has arrived: a real read would wait forever.
        assert_eq!(client.read(&mut []).await?, 0);
        assert_eq!(client.peek(&mut []).await?, 0);
        assert_eq!(client.try_read(&mut [])?, 0);
        assert_eq!(client.write(&[]).await?, 0);
        assert_eq!(client.try_write(&[])?, 0);
        assert_eq!(client.read_exact(&mut []).await?, 0);
        client.write_all(&[]).await?;
        let (mut read, mut write) = server.split();
        assert_eq!(read.read(&mut []).await?, 0);
        assert_eq!(write.write(&[]).await?, 0);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn read_exact_reports_early_end() {
    block_on(async {
        let (mut client, mut server) = pair().await?;
        server.write_all(b"abc").await?;
        drop(server);
        let mut buf = [0; 8];
        assert_eq!(
            client.read_exact(&mut buf).await.unwrap_err().kind(),
            ErrorKind::UnexpectedEof
        );
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn peek_leaves_the_data() {
    block_on(async {
        let (mut client, mut server) = pair().await?;
        server.write_all(b"peekaboo").await?;
        let mut buf = [0; 8];
        let mut seen = 0;
        while seen < buf.len() {
            seen = client.peek(&mut buf).await?;
        }
        assert_eq!(&buf, b"peekaboo");
        let mut again = [0; 8];
        client.read_exact(&mut again).await?;
        assert_eq!(again, buf);

        let (mut read, _write) = client.split();
        server.write_all(b"x").await?;
        assert_eq!(read.peek(&mut buf[..1]).await?, 1);
        assert_eq!(
            std::future::poll_fn(|cx| read.poll_peek(cx, &mut buf[..1])).await?,
            1
        );
        assert_eq!(read.read(&mut buf[..1]).await?, 1);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn try_read_and_try_write_with_readiness() {
    block_on(async {
        let (client, mut server) = pair().await?;
        let mut buf = [0; 16];
        assert_eq!(
            client.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        server.write_all(b"ready").await?;
        let n = loop {
            client.readable().await?;
            match client.try_read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        };
        assert_eq!(&buf[..n], b"ready");
        client.writable().await?;
        assert_eq!(client.try_write(b"ok")?, 2);
        server.read_exact(&mut buf[..2]).await?;
        assert_eq!(&buf[..2], b"ok");
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn try_write_reports_would_block_when_the_buffers_are_full() {
    block_on(async {
        let (client, mut server) = pair().await?;
        let chunk = vec![7; 64 * 1024];
        let mut written = 0;
        // Bounded: the send and receive buffers hold a few MiB at most.
        for _ in 0..10_000 {
            match client.try_write(&chunk) {
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        assert_eq!(
            client.try_write(&chunk).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        // Draining the peer makes room again, and `writable` notices.
        let mut buf = vec![0; written];
        let drain = async {
            server.read_exact(&mut buf).await?;
            io::Result::Ok(())
        };
        let refill = async {
            client.writable().await?;
            io::Result::Ok(())
        };
        let (drained, refilled) = join2(drain, refill).await;
        drained?;
        refilled?;
        assert!(buf.iter().all(|&b| b == 7));
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn owned_halves_work_from_two_futures_and_reunite() {
    block_on(async {
        let (client, mut server) = pair().await?;
        let (mut read, mut write) = client.into_split();
        assert_eq!(read.peer_addr()?, server.local_addr()?);
        assert_eq!(write.local_addr()?, server.peer_addr()?);
        const N: usize = 256 * 1024;
        let pattern = Pattern::new();
        let writer = async {
            let mut buf = vec![0; 4096];
            let mut sent = 0;
            while sent < N {
                pattern.fill(1, sent, &mut buf);
                write.write_all(&buf).await?;
                sent += buf.len();
            }
            io::Result::Ok(())
        };
        let echo = async {
            let mut buf = vec![0; 10_000];
            let mut echoed = 0;
            while echoed < N {
                let n = server.read(&mut buf).await?;
                assert_ne!(n, 0);
                server.write_all(&buf[..n]).await?;
                echoed += n;
            }
            io::Result::Ok(())
        };
        let reader = async {
            let mut buf = vec![0; 3000];
            let mut scratch = Vec::new();
            let mut got = 0;
            while got < N {
                let n = read.read(&mut buf).await?;
                assert_ne!(n, 0);
                assert!(pattern.matches(1, got, &buf[..n], &mut scratch));
                got += n;
            }
            io::Result::Ok(())
        };
        let results = join_all(vec![boxed(writer), boxed(echo), boxed(reader)]).await;
        results.into_iter().collect::<io::Result<Vec<()>>>()?;

        let mut client = read.reunite(write).expect("halves of one stream");
        client.write_all(b"whole again").await?;
        let mut buf = [0; 11];
        server.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"whole again");
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn reunite_refuses_halves_of_different_streams() {
    block_on(async {
        let (a, _a_peer) = pair().await?;
        let (b, _b_peer) = pair().await?;
        let (a_read, a_write) = a.into_split();
        let (b_read, b_write) = b.into_split();
        let tcp::ReuniteError(a_read, b_write) = a_read.reunite(b_write).unwrap_err();
        let error = b_read.reunite(a_write).unwrap_err();
        assert!(error.to_string().contains("different streams"));
        let tcp::ReuniteError(b_read, a_write) = error;
        a_write.reunite(a_read).expect("same stream");
        b_write.reunite(b_read).expect("same stream");
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn dropping_the_owned_write_half_shuts_down_writing_only() {
    block_on(async {
        let (client, mut server) = pair().await?;
        let (mut read, write) = client.into_split();
        drop(write);
        let mut buf = [0; 8];
        assert_eq!(
            server.read(&mut buf).await?,
            0,
            "the peer sees the end of the stream"
        );
        server.write_all(b"still").await?;
        read.read_exact(&mut buf[..5]).await?;
        assert_eq!(&buf[..5], b"still");
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn forgetting_the_owned_write_half_keeps_the_stream_open() {
    block_on(async {
        let (client, mut server) = pair().await?;
        let (mut read, write) = client.into_split();
        write.forget();
        // A round trip after the forget: had it sent a FIN, the driver would
        // have seen it arrive by now, and the server could read the end.
        server.write_all(b"ping").await?;
        let mut buf = [0; 4];
        read.read_exact(&mut buf).await?;
        assert_eq!(
            server.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        // Dropping the read half too closes the stream.
        drop(read);
        assert_eq!(server.read(&mut buf).await?, 0);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn borrowed_halves_read_and_write_at_once() {
    block_on(async {
        let (mut client, mut server) = pair().await?;
        let (mut read, mut write) = client.split();
        let (mut server_read, mut server_write) = server.split();
        const N: usize = 512 * 1024;
        let data = vec![0x5A; N];
        // Both sides write N bytes before reading: without reading and
        // writing at once, the buffers would fill and both would wait.
        let client_side = async {
            let (wrote, got) = join2(write.write_all(&data), async {
                let mut buf = vec![0; N];
                read.read_exact(&mut buf).await.map(|_| buf)
            })
            .await;
            wrote?;
            got
        };
        let server_side = async {
            let (wrote, got) = join2(server_write.write_all(&data), async {
                let mut buf = vec![0; N];
                server_read.read_exact(&mut buf).await.map(|_| buf)
            })
            .await;
            wrote?;
            got
        };
        let (a, b) = join2(client_side, server_side).await;
        assert_eq!(a?, data);
        assert_eq!(b?, data);
        assert_eq!(read.local_addr()?, write.local_addr()?);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn futures_io_traits_on_streams_and_halves() {
    block_on(async {
        // The whole stream.
        let (mut client, mut server) = pair().await?;
        write_all_via(&mut client, b"through the trait").await?;
        let written =
            write_vectored_via(&mut client, &[IoSlice::new(b" and "), IoSlice::new(b"vectored")]).await?;
        assert!(written > 0);
        write_all_via(&mut client, &b" and vectored"[written..]).await?;
        flush_via(&mut client).await?;
        close_via(&mut client).await?; // shuts down the write side
        assert_eq!(
            read_to_end_via(&mut server).await?,
            b"through the trait and vectored"
        );
        write_all_via(&mut server, b"back").await?;
        let mut buf = [0; 4];
        read_exact_via(&mut client, &mut buf).await?;
        assert_eq!(&buf, b"back");
        assert_eq!(read_via(&mut client, &mut []).await?, 0);

        // Owned halves.
        let (client, mut server) = pair().await?;
        let (mut read, mut write) = client.into_split();
        write_all_via(&mut write, b"owned").await?;
        close_via(&mut write).await?;
        assert_eq!(read_to_end_via(&mut server).await?, b"owned");
        write_all_via(&mut server, b"reply").await?;
        drop(server);
        assert_eq!(read_to_end_via(&mut read).await?, b"reply");

        // Borrowed halves, as trait objects.
        let (mut client, mut server) = pair().await?;
        let (mut read, mut write) = client.split();
        let writer: &mut (dyn futures_io::AsyncWrite + Unpin) = &mut write;
        write_all_via(writer, b"borrowed").await?;
        close_via(writer).await?;
        assert_eq!(read_to_end_via(&mut server).await?, b"borrowed");
        write_all_via(&mut server, b"!").await?;
        drop(server);
        let reader: &mut (dyn futures_io::AsyncRead + Unpin) = &mut read;
        assert_eq!(read_to_end_via(reader).await?, b"!");
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn poll_methods_work_in_hand_written_futures() {
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut client = TcpStream::connect(listener.local_addr()?).await?;
        let (mut server, _) = std::future::poll_fn(|cx| listener.poll_accept(cx)).await?;
        std::future::poll_fn(|cx| client.poll_write_ready(cx)).await?;
        let n = std::future::poll_fn(|cx| client.poll_write(cx, b"polled")).await?;
        assert_eq!(n, 6);
        std::future::poll_fn(|cx| server.poll_read_ready(cx)).await?;
        let mut buf = [0; 6];
        let n = std::future::poll_fn(|cx| server.poll_read(cx, &mut buf)).await?;
        assert_eq!(&buf[..n], &b"polled"[..n]);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn socket_options() {
    block_on(async {
        let (client, _server) = pair().await?;
        client.set_nodelay(true)?;
        assert!(client.nodelay()?);
        client.set_nodelay(false)?;
        assert!(!client.nodelay()?);
        client.set_ttl(42)?;
        assert_eq!(client.ttl()?, 42);
        assert!(client.take_error()?.is_none());
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        listener.set_ttl(7)?;
        assert_eq!(listener.ttl()?, 7);
        assert!(listener.take_error()?.is_none());
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn std_conversions_round_trip() {
    block_on(async {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = std_listener.local_addr()?;
        let listener = TcpListener::try_from(std_listener)?;
        let std_client = std::net::TcpStream::connect(addr)?;
        let mut client = TcpStream::from_std(std_client)?;
        let (server, _) = listener.accept().await?;

        // Out to std (non-blocking), back in, and it still works.
        let std_server = server.into_std()?;
        let mut buf = [0; 4];
        assert_eq!(
            io::Read::read(&mut &std_server, &mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock,
            "into_std keeps the socket non-blocking"
        );
        let mut server = TcpStream::try_from(std_server)?;
        client.write_all(b"back").await?;
        server.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"back");

        let std_listener = listener.into_std()?;
        assert_eq!(std_listener.local_addr()?, addr);
        io::Result::Ok(())
    })
    .unwrap();
}

#[cfg(unix)]
#[test]
fn raw_fds_are_exposed() {
    use std::os::fd::{AsFd, AsRawFd};
    block_on(async {
        let (client, _server) = pair().await?;
        assert_eq!(client.as_fd().as_raw_fd(), client.as_raw_fd());
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        assert!(listener.as_raw_fd() >= 0);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn without_a_driver_sockets_fail_instead_of_panicking() {
    let Poll::Ready(Err(error)) = poll_once(TcpListener::bind("127.0.0.1:0")) else {
        panic!("bind outside a runtime must fail at once");
    };
    assert_eq!(error.kind(), ErrorKind::Other);
    assert!(error.to_string().contains("no weft reactor"), "{error}");
    let Poll::Ready(Err(error)) = poll_once(TcpStream::connect("127.0.0.1:0")) else {
        panic!("connect outside a runtime must fail at once");
    };
    assert_eq!(error.kind(), ErrorKind::Other);
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    assert_eq!(
        TcpListener::from_std(std_listener).unwrap_err().kind(),
        ErrorKind::Other
    );
}

#[test]
fn after_driver_shutdown_operations_fail() {
    let driver = Driver::new().unwrap();
    let (mut client, mut server, listener) = block_on_driver(&driver, async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let client = TcpStream::connect(listener.local_addr()?).await?;
        let (server, _) = listener.accept().await?;
        io::Result::Ok((client, server, listener))
    })
    .unwrap();
    // A read waiting when the driver goes down is woken with an error.
    let mut buf = [0; 4];
    let mut pending_read = std::pin::pin!(server.read(&mut buf));
    assert!(poll_once(pending_read.as_mut()).is_pending());
    driver.shutdown();
    let Poll::Ready(Err(error)) = poll_once(pending_read) else {
        panic!("the read must fail")
    };
    assert!(error.to_string().contains("shut down"), "{error}");

    let Poll::Ready(Err(_)) = poll_once(client.write(b"late")) else {
        panic!("the write must fail")
    };
    let Poll::Ready(Err(_)) = poll_once(listener.accept()) else {
        panic!("accept must fail")
    };
    assert!(client.try_read(&mut [0; 4]).is_err());
    // New sockets cannot register with it either.
    let _enter = driver.handle().enter();
    let Poll::Ready(Err(_)) = poll_once(TcpListener::bind("127.0.0.1:0")) else {
        panic!("bind must fail")
    };
}

#[test]
fn public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<TcpListener>();
    send_sync::<TcpStream>();
    send_sync::<tcp::OwnedReadHalf>();
    send_sync::<tcp::OwnedWriteHalf>();
    send_sync::<tcp::ReadHalf<'static>>();
    send_sync::<tcp::WriteHalf<'static>>();
    send_sync::<tcp::ReuniteError>();

    fn send<T: Send>(_: &T) {}
    block_on(async {
        let (mut client, _server) = pair().await?;
        let mut buf = [0; 4];
        send(&client.read(&mut buf));
        send(&client.write_all(b"x"));
        send(&TcpStream::connect("127.0.0.1:0"));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        send(&listener.accept());
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn two_acceptors_on_one_listener_are_both_served() {
    // Both wait in `accept` on the same listener before any client comes:
    // readiness must wake each of them, not only the last to register.
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // `join_all` gives each child its own waker, as two tasks would have.
        let accept = || boxed(async { listener.accept().await.map(|_| ()) });
        let accepts = join_all(vec![accept(), accept()]);
        let connect = || boxed(async move { TcpStream::connect(addr).await.map(|_| ()) });
        let connects = join_all(vec![connect(), connect()]);
        let (accepted, connected) = join2(accepts, connects).await;
        assert!(accepted.iter().all(Result::is_ok), "{accepted:?}");
        assert!(connected.iter().all(Result::is_ok), "{connected:?}");
    });
}

#[test]
fn the_reactor_runs_timers_for_a_foreign_executor() {
    // The support `block_on` is ten lines over `Driver::park`: weft's
    // executor plays no part, yet sleeps and timeouts work.
    use std::time::Duration;
    use weft_reactor::time::{Instant, sleep, timeout};
    block_on(async {
        let start = Instant::now();
        sleep(Duration::from_millis(5)).await;
        assert!(start.elapsed() >= Duration::from_millis(5));
        let late = timeout(Duration::from_millis(5), std::future::pending::<()>()).await;
        assert!(late.is_err());
    });
}
