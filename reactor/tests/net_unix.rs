//! Unix sockets: stream and datagram round trips, the halves, the
//! `futures-io` traits, error paths and conversions. Socket files live in a
//! fresh directory under the system's temporary directory, removed after.
#![cfg(unix)]

mod support;

use std::io::{self, ErrorKind};
use std::net::Shutdown;
use std::task::Poll;
use support::*;
use weft_reactor::net::{UnixDatagram, UnixListener, UnixStream, unix};

#[test]
fn listener_accepts_and_streams_round_trip() {
    let dir = TempDir::new("stream");
    let path = dir.join("echo.sock");
    block_on(async {
        let listener = UnixListener::bind(&path)?;
        assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
        let server = async {
            for _ in 0..3 {
                let (mut stream, peer) = listener.accept().await?;
                assert!(peer.is_unnamed());
                echo_via(&mut stream).await?;
            }
            io::Result::Ok(())
        };
        let clients = async {
            for round in 0..3u8 {
                let mut stream = UnixStream::connect(&path).await?;
                assert_eq!(stream.peer_addr()?.as_pathname(), Some(path.as_path()));
                let message = [round; 40];
                stream.write_all(&message).await?;
                stream.shutdown(Shutdown::Write)?;
                assert_eq!(read_to_end_via(&mut stream).await?, message);
            }
            io::Result::Ok(())
        };
        let (served, connected) = join2(server, clients).await;
        served?;
        connected
    })
    .unwrap();
    drop(dir);
    assert!(!path.exists(), "the temporary directory is removed");
}

#[test]
fn pair_halves_from_two_futures() {
    block_on(async {
        let (a, mut b) = UnixStream::pair()?;
        let (mut read, mut write) = a.into_split();
        assert!(read.peer_addr()?.is_unnamed());
        assert!(write.local_addr()?.is_unnamed());
        const N: usize = 300_000;
        let pattern = Pattern::new();
        let writer = async {
            let mut rng = XorShift::new(3);
            let mut buf = vec![0; 9000];
            let mut sent = 0;
            while sent < N {
                let n = rng.range(1, buf.len()).min(N - sent);
                pattern.fill(5, sent, &mut buf[..n]);
                write.write_all(&buf[..n]).await?;
                sent += n;
            }
            drop(write);
            io::Result::Ok(())
        };
        let echo = async {
            echo_via(&mut b).await?;
            b.shutdown(Shutdown::Write)
        };
        let reader = async {
            let mut buf = vec![0; 7000];
            let mut scratch = Vec::new();
            let mut got = 0;
            loop {
                match read.read(&mut buf).await? {
                    0 => break,
                    n => {
                        assert!(pattern.matches(5, got, &buf[..n], &mut scratch));
                        got += n;
                    }
                }
            }
            assert_eq!(got, N);
            io::Result::Ok(())
        };
        let results = join_all(vec![boxed(writer), boxed(echo), boxed(reader)]).await;
        results.into_iter().collect::<io::Result<Vec<()>>>()?;
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn borrowed_halves_and_reunite() {
    block_on(async {
        let (mut a, mut b) = UnixStream::pair()?;
        {
            let (mut read, mut write) = a.split();
            let echo = async {
                let mut buf = [0; 9];
                b.read_exact(&mut buf).await?;
                b.write_all(&buf).await
            };
            let round_trip = join2(write.write_all(b"both ways"), async {
                let mut buf = [0; 9];
                read.read_exact(&mut buf).await.map(|_| buf)
            });
            let (echoed, (wrote, got)) = join2(echo, round_trip).await;
            echoed?;
            wrote?;
            assert_eq!(&got?, b"both ways");
        }
        let (read, write) = a.into_split();
        let (other, _other_peer) = UnixStream::pair()?;
        let (other_read, other_write) = other.into_split();
        let unix::ReuniteError(read, other_write) = read.reunite(other_write).unwrap_err();
        let mut a = write.reunite(read).expect("halves of one stream");
        other_read.reunite(other_write).expect("halves of one stream");
        a.write_all(b"!").await?;
        let mut buf = [0; 1];
        b.read_exact(&mut buf).await?;
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn futures_io_traits() {
    block_on(async {
        let (mut a, mut b) = UnixStream::pair()?;
        write_all_via(&mut a, b"over the trait").await?;
        flush_via(&mut a).await?;
        close_via(&mut a).await?;
        assert_eq!(read_to_end_via(&mut b).await?, b"over the trait");

        let (a, mut b) = UnixStream::pair()?;
        let (mut read, mut write) = a.into_split();
        write_all_via(&mut write, b"half").await?;
        close_via(&mut write).await?;
        assert_eq!(read_to_end_via(&mut b).await?, b"half");
        write_all_via(&mut b, b"back").await?;
        let mut buf = [0; 4];
        read_exact_via(&mut read, &mut buf).await?;
        assert_eq!(&buf, b"back");
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn stream_error_paths() {
    let dir = TempDir::new("errors");
    block_on(async {
        // Nothing at the path.
        let error = UnixStream::connect(dir.join("missing.sock")).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);

        // A socket file whose listener is gone.
        let path = dir.join("gone.sock");
        drop(UnixListener::bind(&path)?);
        let error = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
        // ... and binding over the stale file fails until it is removed.
        assert_eq!(
            UnixListener::bind(&path).unwrap_err().kind(),
            ErrorKind::AddrInUse
        );
        std::fs::remove_file(&path)?;
        drop(UnixListener::bind(&path)?);

        // A path too long for a socket address.
        let long = dir.join(&"x".repeat(200));
        assert_eq!(
            UnixListener::bind(&long).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );

        // Reading after the peer closed, writing after it closed.
        let (mut a, b) = UnixStream::pair()?;
        drop(b);
        let mut buf = [0; 4];
        assert_eq!(a.read(&mut buf).await?, 0);
        let error = a.write(b"x").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BrokenPipe);
        assert_eq!(
            a.write_all(b"xyz").await.unwrap_err().kind(),
            ErrorKind::BrokenPipe
        );

        // Zero-length buffers never wait.
        let (mut a, _b) = UnixStream::pair()?;
        assert_eq!(a.read(&mut []).await?, 0);
        assert_eq!(a.write(&[]).await?, 0);
        assert_eq!(a.try_read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn a_peer_reset_on_a_unix_stream() {
    block_on(async {
        // A Unix stream closed with unread data resets its peer's writes.
        let (mut a, b) = UnixStream::pair()?;
        a.write_all(b"unread").await?;
        b.readable().await?;
        drop(b);
        let mut buf = [0; 8];
        let read = a.read(&mut buf).await;
        assert!(
            matches!(&read, Ok(0))
                || read
                    .as_ref()
                    .is_err_and(|e| e.kind() == ErrorKind::ConnectionReset),
            "{read:?}"
        );
        let error = a.write(b"x").await.unwrap_err();
        assert_peer_gone(&error);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn datagram_round_trips() {
    let dir = TempDir::new("dgram");
    let server_path = dir.join("server.sock");
    let client_path = dir.join("client.sock");
    block_on(async {
        let server = UnixDatagram::bind(&server_path)?;
        let client = UnixDatagram::bind(&client_path)?;
        let mut buf = [0; 64];
        for round in 0..50u32 {
            assert_eq!(client.send_to(&round.to_be_bytes(), &server_path).await?, 4);
            let (n, from) = server.recv_from(&mut buf).await?;
            assert_eq!(&buf[..n], round.to_be_bytes());
            assert_eq!(from.as_pathname(), Some(client_path.as_path()));
            server.send_to(&buf[..n], from.as_pathname().unwrap()).await?;
            let n = client.recv(&mut buf).await?;
            assert_eq!(n, 4);
        }

        // Connected: send and recv.
        client.connect(&server_path)?;
        assert_eq!(client.peer_addr()?.as_pathname(), Some(server_path.as_path()));
        client.send(b"connected").await?;
        let n = server.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"connected");

        // An unbound sender.
        let anonymous = UnixDatagram::unbound()?;
        anonymous.send_to(b"who?", &server_path).await?;
        let (n, from) = server.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"who?");
        assert!(from.is_unnamed());

        // The try and poll forms.
        assert_eq!(
            server.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        anonymous.writable().await?;
        anonymous.try_send_to(b"try", &server_path)?;
        std::future::poll_fn(|cx| anonymous.poll_send_to(cx, b"poll", &server_path)).await?;
        server.readable().await?;
        let (n, _) = server.try_recv_from(&mut buf)?;
        assert_eq!(&buf[..n], b"try");
        let n = std::future::poll_fn(|cx| server.poll_recv(cx, &mut buf)).await?;
        assert_eq!(&buf[..n], b"poll");

        // Sending to nothing.
        let error = anonymous
            .send_to(b"void", dir.join("nobody.sock"))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn datagram_pair_and_shutdown() {
    block_on(async {
        let (a, b) = UnixDatagram::pair()?;
        let receive = async {
            let mut buf = [0; 16];
            for round in 0..20u8 {
                let n = b.recv(&mut buf).await?;
                assert_eq!(&buf[..n], [round; 3]);
            }
            io::Result::Ok(())
        };
        let send = async {
            for round in 0..20u8 {
                a.send(&[round; 3]).await?;
            }
            io::Result::Ok(())
        };
        let (received, sent) = join2(receive, send).await;
        received?;
        sent?;
        // An empty datagram, then shutting down.
        a.send(&[]).await?;
        let mut buf = [0; 4];
        assert_eq!(b.recv(&mut buf).await?, 0);
        a.shutdown(Shutdown::Write)?;
        assert_eq!(a.send(b"late").await.unwrap_err().kind(), ErrorKind::BrokenPipe);
        assert!(a.take_error()?.is_none());
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn std_conversions_round_trip() {
    let dir = TempDir::new("std");
    let path = dir.join("std.sock");
    block_on(async {
        let listener = UnixListener::try_from(std::os::unix::net::UnixListener::bind(&path)?)?;
        let std_client = std::os::unix::net::UnixStream::connect(&path)?;
        let mut client = UnixStream::from_std(std_client)?;
        let (server, _) = listener.accept().await?;
        let std_server = server.into_std()?;
        let mut buf = [0; 2];
        assert_eq!(
            io::Read::read(&mut &std_server, &mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        let mut server = UnixStream::try_from(std_server)?;
        client.write_all(b"ok").await?;
        server.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"ok");
        let std_listener = listener.into_std()?;
        assert_eq!(std_listener.local_addr()?.as_pathname(), Some(path.as_path()));

        let (std_a, std_b) = std::os::unix::net::UnixDatagram::pair()?;
        let a = UnixDatagram::try_from(std_a)?;
        let b = UnixDatagram::from_std(std_b)?;
        a.send(b"dg").await?;
        assert_eq!(b.recv(&mut buf).await?, 2);
        let std_a = a.into_std()?;
        assert_eq!(std_a.recv(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn without_a_driver_sockets_fail_instead_of_panicking() {
    let dir = TempDir::new("nodriver");
    assert_eq!(UnixStream::pair().unwrap_err().kind(), ErrorKind::Other);
    assert_eq!(UnixDatagram::pair().unwrap_err().kind(), ErrorKind::Other);
    assert_eq!(UnixDatagram::unbound().unwrap_err().kind(), ErrorKind::Other);
    assert_eq!(
        UnixListener::bind(dir.join("a.sock")).unwrap_err().kind(),
        ErrorKind::Other
    );
    assert!(!dir.join("a.sock").exists(), "nothing is bound without a driver");
    assert_eq!(
        UnixDatagram::bind(dir.join("b.sock")).unwrap_err().kind(),
        ErrorKind::Other
    );
    let Poll::Ready(Err(error)) = poll_once(UnixStream::connect(dir.join("c.sock"))) else {
        panic!("connect outside a runtime must fail at once");
    };
    assert_eq!(error.kind(), ErrorKind::Other);
}

#[test]
fn public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<UnixListener>();
    send_sync::<UnixStream>();
    send_sync::<UnixDatagram>();
    send_sync::<unix::OwnedReadHalf>();
    send_sync::<unix::OwnedWriteHalf>();
    send_sync::<unix::ReadHalf<'static>>();
    send_sync::<unix::WriteHalf<'static>>();
    send_sync::<unix::ReuniteError>();
}
