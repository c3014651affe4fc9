//! `WeftTimer`: hyper's timeouts on weft's clock.

use crate::time::{Instant, Sleep};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// hyper's timer (header read timeouts, keep-alive timeouts, the client's
/// pool) on weft's clock: its sleeps are weft sleeps, and its `now` is
/// [`weft::time::Instant::now`](crate::time::Instant::now), so a paused
/// test clock ([`weft::time::pause`](crate::time::pause),
/// [`Builder::start_paused`](crate::Builder::start_paused)) moves hyper's
/// deadlines too.
///
/// Its sleeps must be polled inside a weft runtime (hyper polls them from
/// the connection's task).
///
/// # Examples
///
/// A server that closes a connection whose request head has not come
/// within five seconds; on a paused clock the test takes no real time:
///
/// ```
/// use std::time::Duration;
/// use weft::compat::hyper::{WeftIo, WeftTimer};
/// use weft::net::{TcpListener, TcpStream};
///
/// let rt = weft::Runtime::builder().current_thread().start_paused(true).build()?;
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (stream, _) = listener.accept().await?;
///     let start = weft::time::Instant::now();
///     client.write_all(b"GET / HTTP/1.1\r\n").await?; // and nothing more
///     let service = hyper::service::service_fn(|_request| async {
///         Ok::<_, std::convert::Infallible>(hyper::Response::new(String::new()))
///     });
///     let served = hyper::server::conn::http1::Builder::new()
///         .timer(WeftTimer::new())
///         .header_read_timeout(Duration::from_secs(5))
///         .serve_connection(WeftIo::new(stream), service)
///         .await;
///     assert!(served.is_err(), "the head timed out");
///     assert!(start.elapsed() >= Duration::from_secs(5));
///     Ok(())
/// })
/// # .map_err(|e: Box<dyn std::error::Error>| e)
/// # .unwrap();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct WeftTimer {
    _private: (),
}

impl WeftTimer {
    /// A timer on the clock of the runtime that polls its sleeps.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = hyper::server::conn::http1::Builder::new()
    ///     .timer(weft::compat::hyper::WeftTimer::new())
    ///     .clone();
    /// # drop(builder);
    /// ```
    pub fn new() -> WeftTimer {
        WeftTimer { _private: () }
    }
}

impl hyper::rt::Timer for WeftTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(WeftSleep(crate::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(WeftSleep(crate::time::sleep_until(Instant::from_std(deadline))))
    }

    fn now(&self) -> std::time::Instant {
        Instant::now().into_std()
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: std::time::Instant) {
        // One of ours: move its deadline in place (O(1) in the wheel).
        if let Some(ours) = sleep.as_mut().downcast_mut_pin::<WeftSleep>() {
            ours.get_mut().0.reset(Instant::from_std(new_deadline));
        } else {
            *sleep = self.sleep_until(new_deadline);
        }
    }
}

/// A weft [`Sleep`] as hyper's.
#[derive(Debug)]
struct WeftSleep(Sleep);

impl Future for WeftSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().0.poll_elapsed(cx)
    }
}

impl hyper::rt::Sleep for WeftSleep {}
