//! Linux abstract Unix socket names: a path that starts with a null byte
//! names a socket in the abstract namespace, with no file behind it.
#![cfg(any(target_os = "linux", target_os = "android"))]

mod support;

use std::io;
#[cfg(target_os = "android")]
use std::os::android::net::SocketAddrExt;
#[cfg(target_os = "linux")]
use std::os::linux::net::SocketAddrExt;
use support::*;
use weft_reactor::net::{UnixDatagram, UnixListener, UnixStream};

/// An abstract name no other test (or process) uses: `"\0weft-…"`.
fn abstract_name(tag: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("\0weft-test-{}-{tag}-{n}", std::process::id())
}

#[test]
fn stream_binds_connects_and_accepts_on_an_abstract_name() {
    let name = abstract_name("stream");
    block_on(async {
        let listener = UnixListener::bind(&name)?;
        let bound = listener.local_addr()?;
        assert_eq!(bound.as_abstract_name(), Some(&name.as_bytes()[1..]));
        assert_eq!(bound.as_pathname(), None);

        let mut client = UnixStream::connect(&name).await?;
        let (mut server, _) = listener.accept().await?;
        assert_eq!(
            client.peer_addr()?.as_abstract_name(),
            Some(&name.as_bytes()[1..])
        );
        assert_eq!(
            server.local_addr()?.as_abstract_name(),
            Some(&name.as_bytes()[1..])
        );

        client.write_all(b"ping").await?;
        let mut buf = [0; 4];
        server.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"ping");
        server.write_all(b"pong").await?;
        client.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"pong");
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn an_abstract_name_is_taken_while_bound_and_free_after() {
    let name = abstract_name("rebind");
    block_on(async {
        let listener = UnixListener::bind(&name)?;
        let error = UnixListener::bind(&name).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
        drop(listener);
        // No file stays behind: the name is free at once.
        UnixListener::bind(&name)?;
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn connecting_to_an_unbound_abstract_name_is_refused() {
    let name = abstract_name("nobody");
    block_on(async {
        let error = UnixStream::connect(&name).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn datagrams_travel_between_abstract_names() {
    let server_name = abstract_name("dgram-server");
    let client_name = abstract_name("dgram-client");
    block_on(async {
        let server = UnixDatagram::bind(&server_name)?;
        let client = UnixDatagram::bind(&client_name)?;
        assert_eq!(
            server.local_addr()?.as_abstract_name(),
            Some(&server_name.as_bytes()[1..])
        );

        // Unconnected: send_to an abstract name, answer to the sender's.
        assert_eq!(client.send_to(b"ping", &server_name).await?, 4);
        let mut buf = [0; 16];
        let (n, from) = server.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(from.as_abstract_name(), Some(&client_name.as_bytes()[1..]));
        assert_eq!(server.try_send_to(b"pong", &client_name)?, 4);
        let n = client.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"pong");

        // Connected.
        client.connect(&server_name)?;
        assert_eq!(
            client.peer_addr()?.as_abstract_name(),
            Some(&server_name.as_bytes()[1..])
        );
        client.send(b"again").await?;
        let n = server.recv(&mut buf).await?;
        assert_eq!(&buf[..n], b"again");
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn an_abstract_name_too_long_is_invalid_input() {
    // sun_path holds 108 bytes, the leading null byte included.
    let name = format!("\0{}", "x".repeat(108));
    block_on(async {
        let error = UnixListener::bind(&name).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        let error = UnixDatagram::bind(&name).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        io::Result::Ok(())
    })
    .unwrap();
}
