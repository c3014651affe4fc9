//! The one HTTP exchange a connection of `web_chat` has: `GET /` gets
//! the page, `GET /ws` with the websocket headers (from the page's own
//! origin, where a browser names one) is upgraded, anything else gets an
//! error status. Every answer but the upgrade closes the
//! connection, so no more HTTP than this is needed: the request head is
//! parsed and the upgrade checked by tungstenite, the responses are
//! written here.

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::handshake::machine::TryParse;
use async_tungstenite::tungstenite::handshake::server::{Request, create_response, write_response};
use async_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use async_tungstenite::tungstenite::{Error, error::ProtocolError};
use std::io;
use std::time::Duration;
use weft::net::TcpStream;

/// The page, served at `/`.
pub(crate) const PAGE: &str = include_str!("page.html");
/// The longest request head read, in bytes.
const MAX_HEAD: usize = 8 * 1024;
/// The most bytes read and dropped after an answer that closes.
const DRAIN: usize = 64 * 1024;
/// How long the peer gets to close after an answer that closes.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a connection may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads the request head from `stream` and answers it: the upgrade to a
/// websocket whose frames are at most `max_frame` bytes, or (`None`, the
/// connection done) the page or an error status.
pub(crate) async fn answer(
    mut stream: TcpStream,
    max_frame: usize,
) -> io::Result<Option<WebSocketStream<TcpStream>>> {
    let Ok(head) = weft::time::timeout(HEAD_TIMEOUT, read_head(&mut stream)).await else {
        return Ok(None); // too slow: drop it
    };
    let (head, rest) = match head? {
        Head::Complete(head, rest) => (head, rest),
        Head::Closed => return Ok(None),
        Head::TooLarge => {
            respond(
                &mut stream,
                "431 Request Header Fields Too Large",
                "text/plain",
                "",
            )
            .await?;
            return Ok(None);
        }
    };
    let request = match Request::try_parse(&head) {
        Ok(Some((_, request))) => request,
        Err(Error::Protocol(ProtocolError::WrongHttpMethod)) => {
            respond(
                &mut stream,
                "405 Method Not Allowed",
                "text/plain",
                "only GET here\n",
            )
            .await?;
            return Ok(None);
        }
        Ok(None) | Err(_) => {
            respond(
                &mut stream,
                "400 Bad Request",
                "text/plain",
                "could not parse that request\n",
            )
            .await?;
            return Ok(None);
        }
    };
    match request.uri().path() {
        "/" => respond(&mut stream, "200 OK", "text/html; charset=utf-8", PAGE).await?,
        // A page of another site may open a websocket here too: a
        // browser names the page's origin, which must be this server.
        "/ws" if !same_origin(&request) => {
            respond(
                &mut stream,
                "403 Forbidden",
                "text/plain",
                "websockets from this page's origin only\n",
            )
            .await?;
        }
        // ANCHOR: upgrade
        "/ws" => match create_response(&request) {
            Ok(response) => {
                let mut bytes = Vec::new();
                write_response(&mut bytes, &response).map_err(io::Error::other)?;
                stream.write_all(&bytes).await?;
                let config = WebSocketConfig::default()
                    .max_frame_size(Some(max_frame))
                    .max_message_size(Some(max_frame));
                // What the client sent after its head is already frames.
                let socket =
                    WebSocketStream::from_partially_read(stream, rest, Role::Server, Some(config)).await;
                return Ok(Some(socket));
            }
            Err(e) => {
                let body = format!("not a websocket upgrade: {e}\n");
                respond(&mut stream, "400 Bad Request", "text/plain", &body).await?;
            }
        },
        // ANCHOR_END: upgrade
        _ => respond(&mut stream, "404 Not Found", "text/plain", "nothing here\n").await?,
    }
    Ok(None)
}

/// Whether `request` has no `Origin` (not from a browser page) or the
/// origin `http://` + its own `Host`.
fn same_origin(request: &Request) -> bool {
    let header = |name| request.headers().get(name).and_then(|v| v.to_str().ok());
    match (header("origin"), header("host")) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin.strip_prefix("http://") == Some(host),
        (Some(_), None) => false,
    }
}

/// A request head read from a connection.
enum Head {
    /// The head, through its blank line, and the bytes read after it.
    Complete(Vec<u8>, Vec<u8>),
    /// The peer closed before a whole head came.
    Closed,
    /// No blank line within [`MAX_HEAD`] bytes.
    TooLarge,
}

/// Reads up to the blank line that ends a request head.
async fn read_head(stream: &mut TcpStream) -> io::Result<Head> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0; 1024];
    loop {
        // Search only where the new bytes could finish `\r\n\r\n`.
        let searched = buf.len().saturating_sub(3);
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Head::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
        let end = buf[searched..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|at| searched + at + 4);
        if end.unwrap_or(buf.len()) > MAX_HEAD {
            return Ok(Head::TooLarge);
        }
        if let Some(end) = end {
            let rest = buf.split_off(end);
            return Ok(Head::Complete(buf, rest));
        }
    }
}

/// Writes a whole response and closes the connection gently: the write
/// side first, then what the peer still sends is read and dropped (at
/// most [`DRAIN`] bytes, for at most [`DRAIN_TIMEOUT`]), so that bytes
/// left unread do not reset the connection before the peer read the
/// answer.
async fn respond(stream: &mut TcpStream, status: &str, content_type: &str, body: &str) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown(std::net::Shutdown::Write)?;
    let mut left = DRAIN;
    let mut chunk = [0; 4096];
    let drain = async {
        while left > 0 {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = weft::time::timeout(DRAIN_TIMEOUT, drain).await;
    Ok(())
}
