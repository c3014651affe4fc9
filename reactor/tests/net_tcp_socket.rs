//! The TCP socket builder and the socket options of streams: options set
//! before `bind`, `listen` and `connect` take effect, read back, and carry
//! over to the listener or stream.

mod support;

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::time::Duration;
use support::*;
use weft_reactor::net::{TcpListener, TcpSocket, TcpStream};

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn builder_listens_and_connects_and_the_streams_carry_data() {
    block_on(async {
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(loopback())?;
        let addr = socket.local_addr()?;
        assert_ne!(addr.port(), 0);
        let listener = socket.listen(64)?;
        assert_eq!(listener.local_addr()?, addr);

        let client = TcpSocket::new_v4()?;
        client.bind(loopback())?;
        let client_addr = client.local_addr()?;
        let mut client = client.connect(addr).await?;
        assert_eq!(
            client.local_addr()?,
            client_addr,
            "connect keeps the bound address"
        );
        assert_eq!(client.peer_addr()?, addr);
        let (mut server, peer) = listener.accept().await?;
        assert_eq!(peer, client_addr);

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
fn builder_options_read_back() {
    let socket = TcpSocket::new_v4().unwrap();
    assert!(!socket.keepalive().unwrap());
    socket.set_keepalive(true).unwrap();
    assert!(socket.keepalive().unwrap());

    assert!(!socket.reuseaddr().unwrap());
    socket.set_reuseaddr(true).unwrap();
    assert!(socket.reuseaddr().unwrap());

    #[cfg(unix)]
    {
        assert!(!socket.reuseport().unwrap());
        socket.set_reuseport(true).unwrap();
        assert!(socket.reuseport().unwrap());
    }

    socket.set_send_buffer_size(100_000).unwrap();
    assert!(socket.send_buffer_size().unwrap() >= 100_000);
    socket.set_recv_buffer_size(100_000).unwrap();
    assert!(socket.recv_buffer_size().unwrap() >= 100_000);

    assert_eq!(socket.linger().unwrap(), None);
    socket.set_linger(Some(Duration::from_secs(3))).unwrap();
    assert_eq!(socket.linger().unwrap(), Some(Duration::from_secs(3)));
    socket.set_linger(None).unwrap();
    assert_eq!(socket.linger().unwrap(), None);

    assert!(!socket.nodelay().unwrap());
    socket.set_nodelay(true).unwrap();
    assert!(socket.nodelay().unwrap());

    #[cfg(target_os = "linux")]
    {
        socket.set_tos_v4(0x20).unwrap();
        assert_eq!(socket.tos_v4().unwrap(), 0x20);
        socket.set_tos(0x10).unwrap();
        assert_eq!(socket.tos().unwrap(), 0x10);
    }
    assert!(socket.take_error().unwrap().is_none());
}

#[test]
fn options_set_on_the_builder_carry_over_to_the_stream() {
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let socket = TcpSocket::new_v4()?;
        socket.set_nodelay(true)?;
        socket.set_keepalive(true)?;
        socket.set_send_buffer_size(200_000)?;
        let stream = socket.connect(listener.local_addr()?).await?;
        assert!(stream.nodelay()?);
        assert!(stream.send_buffer_size()? >= 200_000);
        io::Result::Ok(())
    })
    .unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn reuseport_lets_two_listeners_share_a_port() {
    block_on(async {
        let first = TcpSocket::new_v4()?;
        first.set_reuseport(true)?;
        first.bind(loopback())?;
        let addr = first.local_addr()?;
        let _first = first.listen(16)?;

        let second = TcpSocket::new_v4()?;
        second.set_reuseport(true)?;
        second.bind(addr)?;
        let _second = second.listen(16)?;

        // Without the option, the port is taken.
        let third = TcpSocket::new_v4()?;
        assert_eq!(third.bind(addr).unwrap_err().kind(), ErrorKind::AddrInUse);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn builder_connect_to_a_dead_port_is_refused() {
    block_on(async {
        let addr = TcpListener::bind("127.0.0.1:0").await?.local_addr()?;
        let error = TcpSocket::new_v4()?.connect(addr).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionRefused);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn builder_refuses_an_address_of_the_other_family() {
    let socket = TcpSocket::new_v4().unwrap();
    assert!(socket.bind("[::1]:0".parse().unwrap()).is_err());
}

#[test]
fn without_a_driver_listen_and_connect_fail_instead_of_panicking() {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(loopback()).unwrap();
    let error = socket.listen(16).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Other);

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let connect = TcpSocket::new_v4()
        .unwrap()
        .connect(listener.local_addr().unwrap());
    match poll_once(connect) {
        std::task::Poll::Ready(Err(e)) => assert_eq!(e.kind(), ErrorKind::Other),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn from_std_stream_keeps_the_connection() {
    block_on(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
        let local = std_stream.local_addr()?;
        let socket = TcpSocket::from_std_stream(std_stream);
        assert_eq!(socket.local_addr()?, local);
        socket.set_nodelay(true)?;
        assert!(socket.nodelay()?);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn stream_options_read_back() {
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let stream = TcpStream::connect(listener.local_addr()?).await?;

        assert_eq!(stream.linger()?, None);
        stream.set_linger(Some(Duration::from_secs(1)))?;
        assert_eq!(stream.linger()?, Some(Duration::from_secs(1)));
        stream.set_linger(None)?;

        stream.set_send_buffer_size(150_000)?;
        assert!(stream.send_buffer_size()? >= 150_000);
        stream.set_recv_buffer_size(150_000)?;
        assert!(stream.recv_buffer_size()? >= 150_000);

        #[cfg(target_os = "linux")]
        {
            stream.set_tos_v4(0x08)?;
            assert_eq!(stream.tos_v4()?, 0x08);
        }
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn zero_linger_resets_the_connection_on_drop() {
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let stream = TcpStream::connect(listener.local_addr()?).await?;
        let (mut peer, _) = listener.accept().await?;
        stream.set_linger(Some(Duration::ZERO))?;
        drop(stream);
        let mut buf = [0; 1];
        let error = peer.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionReset);
        io::Result::Ok(())
    })
    .unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn ipv6_traffic_class_reads_back_where_ipv6_works() {
    block_on(async {
        let Ok(listener) = TcpListener::bind("[::1]:0").await else {
            return Ok(()); // no IPv6 loopback here
        };
        let socket = TcpSocket::new_v6()?;
        socket.set_tclass_v6(0x28)?;
        assert_eq!(socket.tclass_v6()?, 0x28);
        let stream = socket.connect(listener.local_addr()?).await?;
        assert_eq!(stream.tclass_v6()?, 0x28);
        stream.set_tclass_v6(0x10)?;
        assert_eq!(stream.tclass_v6()?, 0x10);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn listener_bind_sets_reuseaddr_on_unix() {
    #[cfg(unix)]
    block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let socket = socket2::SockRef::from(&listener);
        assert!(socket.reuse_address()?);
        io::Result::Ok(())
    })
    .unwrap();
}

#[test]
fn public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<TcpSocket>();
    send_sync::<weft_reactor::net::Interest>();
    send_sync::<weft_reactor::net::Ready>();
}
