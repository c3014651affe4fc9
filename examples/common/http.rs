//! Just enough HTTP/1.1 for the `compare` example and for tests that talk
//! to a server by hand: read a request (request line, headers, a
//! `Content-Length` body) from a keep-alive connection, and write a
//! response. Not a general HTTP implementation: no chunked bodies, no
//! HTTP/1.0, no pipelining beyond one request at a time per connection.
//! A real server uses hyper on weft, as `http_hello` and `http_server` do
//! (`weft::compat::hyper`).

use std::io;
use weft::net::TcpStream;

/// The longest head (request line and headers) accepted, in bytes.
const MAX_HEAD: usize = 16 * 1024;
/// The longest body accepted, in bytes.
const MAX_BODY: usize = 1024 * 1024;

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) body: Vec<u8>,
}

/// A connection's read side with the bytes read past the last request.
#[derive(Debug)]
pub(crate) struct Reader {
    buf: Vec<u8>,
}

impl Reader {
    pub(crate) fn new() -> Reader {
        Reader {
            buf: Vec::with_capacity(1024),
        }
    }

    /// The next request; `Ok(None)` when the peer closed between requests.
    /// A malformed or oversized request is an `InvalidData` error.
    pub(crate) async fn request(&mut self, stream: &mut TcpStream) -> io::Result<Option<Request>> {
        let Some((head, body)) = self.message(stream).await? else {
            return Ok(None);
        };
        let mut request_line = head.split("\r\n").next().unwrap_or("").split(' ');
        match (request_line.next(), request_line.next(), request_line.next()) {
            (Some(m), Some(p), Some(v)) if !m.is_empty() && v.starts_with("HTTP/1.") => Ok(Some(Request {
                method: m.to_owned(),
                path: p.to_owned(),
                body,
            })),
            _ => Err(bad("bad request line")),
        }
    }

    /// The next message (request or response): its head, without the
    /// blank line, and its `Content-Length` body; `Ok(None)` when the peer
    /// closed between messages.
    async fn message(&mut self, stream: &mut TcpStream) -> io::Result<Option<(String, Vec<u8>)>> {
        let head_end = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(bad("head too long"));
            }
            if !self.fill(stream).await? {
                return match self.buf.is_empty() {
                    true => Ok(None),
                    false => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "message cut short")),
                };
            }
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).map_err(|_| bad("head is not UTF-8"))?;
        let mut length = 0;
        for line in head.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                return Err(bad("bad header line"));
            };
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().map_err(|_| bad("bad Content-Length"))?;
            }
        }
        if length > MAX_BODY {
            return Err(bad("body too long"));
        }
        let head = head.to_owned();
        let body_start = head_end + 4;
        while self.buf.len() < body_start + length {
            if !self.fill(stream).await? {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "body cut short"));
            }
        }
        let body = self.buf[body_start..body_start + length].to_vec();
        self.buf.drain(..body_start + length);
        Ok(Some((head, body)))
    }

    /// Reads more; false at end of stream.
    async fn fill(&mut self, stream: &mut TcpStream) -> io::Result<bool> {
        let mut chunk = [0; 4096];
        let n = stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }
}

// ANCHOR: respond
/// Writes a response with a plain-text body.
pub(crate) async fn respond(stream: &mut TcpStream, status: &str, body: &str) -> io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await
}
// ANCHOR_END: respond

/// Reads one response's status code and body (the client side).
pub(crate) async fn read_response(stream: &mut TcpStream, reader: &mut Reader) -> io::Result<(u16, String)> {
    let (head, body) = reader
        .message(stream)
        .await?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "no response"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}
