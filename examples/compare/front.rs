//! The HTTP front of the sign-up scenario, on hyper over weft: it reads
//! each `POST /signup` form, hands it to the style under test, and answers
//! once that style acks it.

use super::Signup;
use super::styles::Style;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use weft::compat::hyper::{WeftIo, WeftTimer};
use weft::net::TcpListener;

// ANCHOR: http-front
/// The HTTP front, on hyper: one task per connection, each serving its
/// requests with `answer`.
pub(crate) async fn serve_http(listener: TcpListener, handler: Arc<dyn Style>) {
    let next_id = Arc::new(AtomicU64::new(0));
    while let Ok((stream, _)) = listener.accept().await {
        let (handler, next_id) = (handler.clone(), next_id.clone());
        let service = service_fn(move |request| answer(request, handler.clone(), next_id.clone()));
        drop(weft::spawn(async move {
            // An error here is the client's (a reset, a malformed request):
            // hyper has answered what it could.
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(WeftTimer::new())
                .serve_connection(WeftIo::new(stream), service)
                .await;
        }));
    }
}

/// The answer to one request: `POST /signup` with `name=…&email=…` is
/// answered `202 Accepted` with the sign-up's id once the handler acks it.
async fn answer(
    request: Request<Incoming>,
    handler: Arc<dyn Style>,
    next_id: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, BoxError> {
    if (request.method(), request.uri().path()) != (&Method::POST, "/signup") {
        return Ok(text(StatusCode::NOT_FOUND, "try POST /signup\n".into()));
    }
    let form = match Limited::new(request.into_body(), MAX_FORM).collect().await {
        Ok(form) => form.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            return Ok(text(
                StatusCode::PAYLOAD_TOO_LARGE,
                "a sign-up form is at most 1 KiB\n".into(),
            ));
        }
        Err(e) => return Err(e), // the connection broke: no one to answer
    };
    let id = next_id.fetch_add(1, Ordering::Relaxed);
    let status = sign_up(handler.as_ref(), id, &form).await;
    Ok(text(status, format!("{id}\n")))
}
// ANCHOR_END: http-front

/// The longest sign-up form the front reads, in bytes.
const MAX_FORM: usize = 1024;

/// What a hyper service may fail with.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A plain-text response.
fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

// ANCHOR: http-accept
/// Hands the sign-up form in `body` to `handler` as sign-up `id`, and waits
/// for the handler's ack: the status to answer with.
async fn sign_up(handler: &dyn Style, id: u64, body: &[u8]) -> StatusCode {
    let form = String::from_utf8_lossy(body);
    let field = |name: &str| {
        form.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
            .unwrap_or_default()
    };
    let signup = Signup {
        id,
        name: field("name"),
        email: field("email"),
    };
    let (ack, acked) = weft::sync::oneshot::channel();
    handler.accept(
        signup,
        Box::new(move || {
            let _ = ack.send(());
        }),
    );
    match acked.await {
        Ok(()) => StatusCode::ACCEPTED,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}
// ANCHOR_END: http-accept
