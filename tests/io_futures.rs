//! The futures-io world runs on weft's sockets unchanged: `futures::io`'s
//! `copy` and `BufReader`, async-compression's gzip codec and
//! async-tungstenite's websockets (client and server), each over a weft
//! TCP connection on loopback, with nothing between the library and
//! weft's `TcpStream` or its halves but the futures-io traits.

use async_compression::futures::{bufread, write};
use async_tungstenite::tungstenite::Message;
use futures::StreamExt;
use futures::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Cursor};
use std::time::Duration;
use weft::net::{TcpListener, TcpStream};

/// How long a test may take before it fails.
const BOUND: Duration = Duration::from_secs(60);

/// Runs `test` with a connected pair of weft TCP streams, on a weft
/// runtime, within [`BOUND`].
fn with_pair(test: impl AsyncFnOnce(TcpStream, TcpStream)) {
    weft::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        weft::time::timeout(BOUND, test(client, server))
            .await
            .expect("the test ends in time");
    });
}

/// `len` bytes that do not repeat with a short period (a copy that drops
/// or reorders a chunk cannot match).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

#[test]
fn futures_io_copy_moves_a_mebibyte_through_a_weft_socket_and_back() {
    with_pair(async |client, server| {
        let data = pattern(1 << 20);
        // The server echoes with `copy` until the client's write side closes.
        let echo = weft::spawn(async move {
            let (mut read, mut write) = server.into_split();
            let copied = futures::io::copy(&mut read, &mut write).await.unwrap();
            write.close().await.unwrap();
            copied
        });
        let (mut read, mut write) = client.into_split();
        let sent = data.clone();
        let writer = weft::spawn(async move {
            let copied = futures::io::copy(&mut Cursor::new(sent), &mut write)
                .await
                .unwrap();
            write.close().await.unwrap(); // shuts down the write side: the echo ends
            copied
        });
        let mut back = Vec::new();
        let read_back = futures::io::copy(&mut read, &mut back).await.unwrap();
        assert_eq!(writer.await.unwrap(), data.len() as u64);
        assert_eq!(echo.await.unwrap(), data.len() as u64);
        assert_eq!(read_back, data.len() as u64);
        assert!(back == data, "the echo differs from what was sent");
    });
}

#[test]
fn a_buf_reader_reads_lines_from_a_weft_socket_whatever_the_chunks() {
    with_pair(async |client, mut server| {
        // Lines cut mid-line, mid-"\r\n" and mid-character, and a last line
        // without its newline.
        let chunks: [&[u8]; 6] = [b"first\nsec", b"ond\r", b"\nth\xC3", b"\xA9ird\n\n", b"la", b"st"];
        let writer = weft::spawn(async move {
            for chunk in chunks {
                server.write_all(chunk).await.unwrap();
            }
            server.close().await.unwrap();
        });
        let mut reader = BufReader::with_capacity(4, client);
        let mut first = String::new();
        assert_eq!(reader.read_line(&mut first).await.unwrap(), 6);
        assert_eq!(first, "first\n");
        let lines: Vec<String> = reader.lines().map(Result::unwrap).collect().await;
        assert_eq!(lines, ["second", "théird", "", "last"]);
        writer.await.unwrap();
    });
}

#[test]
fn gzip_streams_cross_a_weft_socket_both_ways() {
    with_pair(async |client, server| {
        let text: Vec<u8> = (0..20_000)
            .flat_map(|n| format!("line {n}: the quick brown fox\n").into_bytes())
            .collect();
        // The server decompresses what it reads and compresses it back.
        let relay = weft::spawn(async move {
            let (read, write) = server.into_split();
            let mut decoded = bufread::GzipDecoder::new(BufReader::new(read));
            let mut encoder = write::GzipEncoder::new(write);
            let copied = futures::io::copy(&mut decoded, &mut encoder).await.unwrap();
            encoder.close().await.unwrap(); // the gzip trailer, then the write side
            copied
        });
        let (read, write) = client.into_split();
        let sent = text.clone();
        let writer = weft::spawn(async move {
            let mut encoder = write::GzipEncoder::new(write);
            encoder.write_all(&sent).await.unwrap();
            encoder.close().await.unwrap();
        });
        let mut compressed = Vec::new();
        BufReader::new(read).read_to_end(&mut compressed).await.unwrap();
        let mut back = Vec::new();
        bufread::GzipDecoder::new(Cursor::new(&compressed))
            .read_to_end(&mut back)
            .await
            .unwrap();
        writer.await.unwrap();
        assert_eq!(relay.await.unwrap(), text.len() as u64);
        assert!(back == text, "the round trip differs from the text");
        assert_eq!(&compressed[..2], [0x1f, 0x8b], "a gzip member");
        assert!(
            compressed.len() * 4 < text.len(),
            "{} bytes compressed",
            compressed.len()
        );
    });
}

#[test]
fn async_tungstenite_client_and_server_talk_over_weft_sockets() {
    weft::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The server: the whole handshake by async-tungstenite, then an echo.
        let server = weft::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut socket = async_tungstenite::accept_async(stream).await.unwrap();
            let mut echoed = 0;
            while let Some(message) = socket.next().await {
                match message.unwrap() {
                    message @ (Message::Text(_) | Message::Binary(_)) => {
                        socket.send(message).await.unwrap();
                        echoed += 1;
                    }
                    Message::Close(_) => break, // tungstenite answers the close
                    _ => {}
                }
            }
            echoed
        });
        let test = async {
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut socket, response) = async_tungstenite::client_async(format!("ws://{addr}/echo"), stream)
                .await
                .unwrap();
            assert_eq!(response.status(), 101);
            let big = pattern(200_000);
            for message in [
                Message::text("hello from weft"),
                Message::binary(big.clone()),
                Message::text("é".repeat(1000)),
            ] {
                socket.send(message.clone()).await.unwrap();
                assert_eq!(socket.next().await.unwrap().unwrap(), message);
            }
            socket.send(Message::Ping(vec![1, 2, 3].into())).await.unwrap();
            assert_eq!(
                socket.next().await.unwrap().unwrap(),
                Message::Pong(vec![1, 2, 3].into())
            );
            socket.close(None).await.unwrap();
            // The server's answer to the close ends the stream.
            while let Some(Ok(message)) = socket.next().await {
                assert!(matches!(message, Message::Close(_)), "{message:?}");
            }
            assert_eq!(server.await.unwrap(), 3);
        };
        weft::time::timeout(BOUND, test)
            .await
            .expect("the test ends in time");
    });
}
