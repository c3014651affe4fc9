//! No file descriptor outlives the sockets and the driver that own it.
//!
//! A file of its own, with a single test, so that it runs in a process of
//! its own: no other test opens descriptors while this one counts them.
#![cfg(target_os = "linux")]

mod support;

use std::io::{self, ErrorKind};
use std::net::Shutdown;
use support::*;
use weft_reactor::Driver;
use weft_reactor::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("list /proc/self/fd")
        .count()
}

/// Every kind of socket, every way of closing one: dropped whole, dropped
/// as halves, reunited, converted to std and back, failed half-way.
async fn exercise(dir: &TempDir) -> io::Result<Vec<TcpStream>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mut survivors = Vec::new();
    for round in 0..10 {
        let mut client = TcpStream::connect(addr).await?;
        let (mut server, _) = listener.accept().await?;
        client.write_all(b"hello").await?;
        let mut buf = [0; 5];
        server.read_exact(&mut buf).await?;
        match round % 5 {
            0 => {
                let (read, write) = client.into_split();
                drop(read.reunite(write).expect("same stream"));
            }
            1 => {
                let (read, write) = client.into_split();
                drop(write);
                drop(read);
            }
            2 => {
                let std_stream = client.into_std()?;
                drop(TcpStream::from_std(std_stream)?);
            }
            3 => survivors.push(client), // outlives the driver
            _ => {
                let (_read, write) = client.into_split();
                write.forget();
            }
        }
    }
    // Failures close what they opened.
    let dead = TcpListener::bind("127.0.0.1:0").await?.local_addr()?;
    assert_eq!(
        TcpStream::connect(dead).await.unwrap_err().kind(),
        ErrorKind::ConnectionRefused
    );
    assert_eq!(
        TcpListener::bind(addr).await.unwrap_err().kind(),
        ErrorKind::AddrInUse
    );

    let a = UdpSocket::bind("127.0.0.1:0").await?;
    let b = UdpSocket::bind("127.0.0.1:0").await?;
    a.send_to(b"x", b.local_addr()?).await?;
    let mut buf = [0; 1];
    b.recv_from(&mut buf).await?;
    drop(UdpSocket::from_std(a.into_std()?)?);

    let path = dir.join("leak.sock");
    let unix_listener = UnixListener::bind(&path)?;
    let mut client = UnixStream::connect(&path).await?;
    let (server, _) = unix_listener.accept().await?;
    client.write_all(b"u").await?;
    let (mut read, write) = server.into_split();
    read.read_exact(&mut buf).await?;
    drop((read, write));
    client.shutdown(Shutdown::Both)?;
    let (x, y) = UnixStream::pair()?;
    drop(UnixStream::from_std(x.into_std()?)?);
    drop(y);
    assert!(UnixStream::connect(dir.join("none.sock")).await.is_err());

    let dgram = UnixDatagram::bind(dir.join("dgram.sock"))?;
    let (p, q) = UnixDatagram::pair()?;
    p.send(b"d").await?;
    q.recv(&mut buf).await?;
    UnixDatagram::unbound()?
        .send_to(b"d", dir.join("dgram.sock"))
        .await?;
    dgram.recv(&mut buf).await?;
    drop(UnixDatagram::from_std(dgram.into_std()?)?);
    Ok(survivors)
}

#[test]
fn sockets_and_driver_close_every_descriptor() {
    let dir = TempDir::new("fd-leak");
    let before = open_fds();
    {
        let driver = Driver::new().unwrap();
        let survivors = block_on_driver(&driver, exercise(&dir)).unwrap();
        assert!(
            open_fds() > before,
            "the survivors and the driver hold descriptors"
        );
        drop(driver);
        // Sockets dropped after their driver still close.
        drop(survivors);
    }
    assert_eq!(open_fds(), before, "descriptors leaked");
}
