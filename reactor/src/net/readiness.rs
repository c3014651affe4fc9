//! [`Interest`] and [`Ready`]: what `ready` waits for, and what it found.
//!
//! `ready(interest)` on a socket waits until at least one of the directions
//! in `interest` may proceed, and reports the readiness it saw. It pairs
//! with the `try_` methods: a `try_read` (or `try_recv`, ...) that says
//! `WouldBlock` forgets the read readiness, so the next `ready` waits for a
//! new edge instead of returning at once. tokio has these types in
//! `tokio::io`; weft keeps them with the sockets, in `net`.

use crate::io::{Direction, IoSource, ReadyEvent};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::ops::{BitOr, BitOrAssign};
use std::task::{Context, Poll};

/// The directions a [`ready`](super::TcpStream::ready) call waits on:
/// [`READABLE`](Interest::READABLE), [`WRITABLE`](Interest::WRITABLE), or
/// both (`Interest::READABLE | Interest::WRITABLE`).
///
/// # Examples
///
/// ```
/// # use weft_reactor as weft;
/// use weft::net::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert!(!Interest::READABLE.is_writable());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

const READ: u8 = 1 << 0;
const WRITE: u8 = 1 << 1;

impl Interest {
    /// Wait until the socket is readable: data (or a datagram) has
    /// arrived, the peer has closed its side, or an error is pending.
    pub const READABLE: Interest = Interest(READ);

    /// Wait until the socket is writable: there is room to send, the write
    /// side is closed, or an error is pending.
    pub const WRITABLE: Interest = Interest(WRITE);

    /// Whether the interest includes reading.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// use weft::net::Interest;
    ///
    /// assert!(Interest::READABLE.is_readable());
    /// assert!(!Interest::WRITABLE.is_readable());
    /// ```
    pub const fn is_readable(self) -> bool {
        self.0 & READ != 0
    }

    /// Whether the interest includes writing.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// use weft::net::Interest;
    ///
    /// assert!(Interest::WRITABLE.is_writable());
    /// assert!(!Interest::READABLE.is_writable());
    /// ```
    pub const fn is_writable(self) -> bool {
        self.0 & WRITE != 0
    }

    /// Both interests: the `|` operator, usable in a `const`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// use weft::net::Interest;
    ///
    /// const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
    /// assert_eq!(BOTH, Interest::READABLE | Interest::WRITABLE);
    /// ```
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }
}

impl BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (false, false) => f.write_str("(empty)"),
        }
    }
}

/// The readiness a [`ready`](super::TcpStream::ready) call saw: a set of
/// [`READABLE`](Ready::READABLE), [`WRITABLE`](Ready::WRITABLE),
/// [`READ_CLOSED`](Ready::READ_CLOSED),
/// [`WRITE_CLOSED`](Ready::WRITE_CLOSED) and [`ERROR`](Ready::ERROR),
/// limited to the directions asked for.
///
/// A closed side counts as ready in its direction, as an operation there
/// no longer waits (a read returns `Ok(0)`, a write fails): `is_readable`
/// is true on `READ_CLOSED` too, and `is_writable` on `WRITE_CLOSED`.
///
/// # Examples
///
/// ```
/// # use weft_reactor as weft;
/// use weft::net::Ready;
///
/// let ready = Ready::READABLE | Ready::READ_CLOSED;
/// assert!(ready.is_readable() && ready.is_read_closed());
/// assert!(!ready.is_writable());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ready(u8);

const READABLE: u8 = 1 << 0;
const WRITABLE: u8 = 1 << 1;
const READ_CLOSED: u8 = 1 << 2;
const WRITE_CLOSED: u8 = 1 << 3;
const ERROR: u8 = 1 << 4;

impl Ready {
    /// No readiness.
    pub const EMPTY: Ready = Ready(0);
    /// Readable.
    pub const READABLE: Ready = Ready(READABLE);
    /// Writable.
    pub const WRITABLE: Ready = Ready(WRITABLE);
    /// The read side is closed: the peer closed its write side.
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED);
    /// The write side is closed.
    pub const WRITE_CLOSED: Ready = Ready(WRITE_CLOSED);
    /// An error is pending on the socket.
    pub const ERROR: Ready = Ready(ERROR);

    pub(crate) fn from_event(event: ReadyEvent) -> Ready {
        let mut bits = 0;
        for (on, bit) in [
            (event.is_readable(), READABLE),
            (event.is_writable(), WRITABLE),
            (event.is_read_closed(), READ_CLOSED),
            (event.is_write_closed(), WRITE_CLOSED),
            (event.is_error(), ERROR),
        ] {
            if on {
                bits |= bit;
            }
        }
        Ready(bits)
    }

    /// Whether nothing is ready.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// use weft::net::Ready;
    ///
    /// assert!(Ready::EMPTY.is_empty());
    /// assert!(!Ready::READABLE.is_empty());
    /// ```
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether a read would not wait: readable, or the read side closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// use weft::net::Ready;
    ///
    /// assert!(Ready::READABLE.is_readable());
    /// assert!(Ready::READ_CLOSED.is_readable());
    /// assert!(!Ready::WRITABLE.is_readable());
    /// ```
    pub fn is_readable(self) -> bool {
        self.0 & (READABLE | READ_CLOSED) != 0
    }

    /// Whether a write would not wait: writable, or the write side closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// use weft::net::Ready;
    ///
    /// assert!(Ready::WRITABLE.is_writable());
    /// assert!(Ready::WRITE_CLOSED.is_writable());
    /// assert!(!Ready::READABLE.is_writable());
    /// ```
    pub fn is_writable(self) -> bool {
        self.0 & (WRITABLE | WRITE_CLOSED) != 0
    }

    /// Whether the read side is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// use weft::net::Ready;
    ///
    /// assert!(Ready::READ_CLOSED.is_read_closed());
    /// assert!(!Ready::READABLE.is_read_closed());
    /// ```
    pub fn is_read_closed(self) -> bool {
        self.0 & READ_CLOSED != 0
    }

    /// Whether the write side is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// use weft::net::Ready;
    ///
    /// assert!(Ready::WRITE_CLOSED.is_write_closed());
    /// assert!(!Ready::WRITABLE.is_write_closed());
    /// ```
    pub fn is_write_closed(self) -> bool {
        self.0 & WRITE_CLOSED != 0
    }

    /// Whether an error is pending (`take_error` tells which).
    ///
    /// # Examples
    ///
    /// ```
    /// # use weft_reactor as weft;
    /// use weft::net::Ready;
    ///
    /// assert!(Ready::ERROR.is_error());
    /// assert!(!Ready::READABLE.is_error());
    /// ```
    pub fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }
}

impl BitOr for Ready {
    type Output = Ready;

    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl BitOrAssign for Ready {
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("is_readable", &(self.0 & READABLE != 0))
            .field("is_writable", &(self.0 & WRITABLE != 0))
            .field("is_read_closed", &self.is_read_closed())
            .field("is_write_closed", &self.is_write_closed())
            .field("is_error", &self.is_error())
            .finish()
    }
}

/// Polls `io` until one of the directions of `interest` may proceed. A
/// direction not ready keeps the waker, so an edge in either wakes the
/// task.
pub(crate) fn poll_ready<E: mio::event::Source>(
    io: &IoSource<E>,
    cx: &mut Context<'_>,
    interest: Interest,
) -> Poll<io::Result<Ready>> {
    let mut ready = Ready::EMPTY;
    for (wanted, direction) in [
        (interest.is_readable(), Direction::Read),
        (interest.is_writable(), Direction::Write),
    ] {
        if !wanted {
            continue;
        }
        match io.poll_ready(cx, direction) {
            Poll::Ready(Ok(event)) => ready |= Ready::from_event(event),
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => {}
        }
    }
    if ready.is_empty() {
        Poll::Pending
    } else {
        Poll::Ready(Ok(ready))
    }
}

/// [`poll_ready`] as a future.
pub(crate) async fn ready<E: mio::event::Source>(io: &IoSource<E>, interest: Interest) -> io::Result<Ready> {
    poll_fn(|cx| poll_ready(io, cx, interest)).await
}
