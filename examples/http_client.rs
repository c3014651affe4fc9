//! An HTTP/1.1 client on hyper and weft (`weft::compat::hyper`): `GET`s
//! a URL and prints the status line and headers on stderr, the body on
//! stdout. Plain `http://` only (no TLS).
//!
//! ```text
//! cargo run --example http_server --features hyper &
//! cargo run --example http_client --features hyper -- http://127.0.0.1:3000/
//! ```

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::{Request, Uri};
use std::io::Write;
use std::process::ExitCode;
use weft::compat::hyper::WeftIo;
use weft::net::TcpStream;

type Error = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "usage: http_client URL   (e.g. http://127.0.0.1:3000/)\n";

fn main() -> ExitCode {
    let Some(url) = std::env::args()
        .nth(1)
        .filter(|arg| arg != "--help" && arg != "-h")
    else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    match weft::Runtime::new()
        .map_err(Error::from)
        .and_then(|rt| rt.block_on(get(&url)))
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("http_client: {url}: {e}");
            ExitCode::FAILURE
        }
    }
}

// ANCHOR: get
/// Fetches `url` and prints the answer.
async fn get(url: &str) -> Result<(), Error> {
    let uri: Uri = url.parse()?;
    if uri.scheme_str() != Some("http") {
        return Err("only http:// URLs are supported".into());
    }
    let host = uri.host().ok_or("the URL has no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let stream = TcpStream::connect((host, port)).await?;

    // The connection reads and writes the socket in a task of its own;
    // `sender` hands it requests.
    let (mut sender, connection) = hyper::client::conn::http1::handshake(WeftIo::new(stream)).await?;
    let connection = weft::spawn(connection);

    let authority = uri.authority().map_or(host, |a| a.as_str()).to_owned();
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let request = Request::get(path)
        .header(hyper::header::HOST, authority)
        .body(Empty::<Bytes>::new())?;
    let mut response = sender.send_request(request).await?;

    let mut stderr = std::io::stderr().lock();
    writeln!(stderr, "{:?} {}", response.version(), response.status())?;
    for (name, value) in response.headers() {
        writeln!(stderr, "{name}: {}", value.to_str().unwrap_or("(not text)"))?;
    }
    drop(stderr);
    // The body as it comes, frame by frame.
    let mut stdout = std::io::stdout().lock();
    while let Some(frame) = response.body_mut().frame().await {
        if let Some(data) = frame?.data_ref() {
            stdout.write_all(data)?;
        }
    }
    stdout.flush()?;
    drop(sender); // no more requests: the connection closes
    connection.await??;
    Ok(())
}
// ANCHOR_END: get
