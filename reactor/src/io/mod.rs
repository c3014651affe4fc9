//! Readiness: what the driver knows of each registered resource, and the
//! wrapper that turns a non-blocking mio source into pollable I/O.
//!
//! Readiness is edge-triggered. The driver *sets* bits when epoll reports an
//! edge; an operation that then returns `WouldBlock` *clears* them, and its
//! task waits for the next edge. Each setting bumps a tick, and a clear only
//! applies if no newer edge arrived since the operation looked — otherwise an
//! edge that came between the attempt and the clear would be lost.

use crate::driver::{self, Handle, lock};
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

// ANCHOR: readiness-bits
const READABLE: usize = 1 << 0;
const WRITABLE: usize = 1 << 1;
const READ_CLOSED: usize = 1 << 2;
const WRITE_CLOSED: usize = 1 << 3;
const ERROR: usize = 1 << 4;
/// The driver shut down: every operation fails from now on.
const SHUTDOWN: usize = 1 << 5;
const READY_MASK: usize = (1 << 6) - 1;
const TICK_SHIFT: u32 = 8;
// ANCHOR_END: readiness-bits

/// Which half of a resource an operation waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The readiness bits that let an operation in this direction proceed.
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR | SHUTDOWN,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR | SHUTDOWN,
        }
    }
}

/// Readiness as one poll saw it: which bits, and at which tick.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    ready: usize,
    tick: usize,
}

// ANCHOR: scheduled-io
/// One registered resource as the driver sees it.
pub(crate) struct ScheduledIo {
    token: mio::Token,
    /// `tick << TICK_SHIFT | ready bits`.
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
}

/// The tasks waiting on each direction. Usually one each; several when
/// tasks share a resource (two acceptors on one listener), and then all of
/// them are woken, as readiness may serve any of them.
#[derive(Default)]
struct Waiters {
    reader: Vec<Waker>,
    writer: Vec<Waker>,
}
// ANCHOR_END: scheduled-io

impl ScheduledIo {
    pub(crate) fn new(token: mio::Token) -> ScheduledIo {
        ScheduledIo {
            token,
            readiness: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    pub(crate) fn token(&self) -> mio::Token {
        self.token
    }

    /// Records an event and collects the wakers it concerns.
    pub(crate) fn set_readiness(&self, event: &mio::event::Event, wakers: &mut Vec<Waker>) {
        let mut bits = 0;
        if event.is_readable() {
            bits |= READABLE;
        }
        if event.is_writable() {
            bits |= WRITABLE;
        }
        if event.is_read_closed() {
            bits |= READ_CLOSED;
        }
        if event.is_write_closed() {
            bits |= WRITE_CLOSED;
        }
        if event.is_error() {
            bits |= ERROR;
        }
        self.add_bits(bits, wakers);
    }

    /// Marks the resource dead and wakes both directions.
    pub(crate) fn shut_down(&self, wakers: &mut Vec<Waker>) {
        self.add_bits(SHUTDOWN, wakers);
    }

    // ANCHOR: add-bits
    fn add_bits(&self, bits: usize, wakers: &mut Vec<Waker>) {
        let mut current = self.readiness.load(Ordering::Acquire);
        loop {
            let tick = (current >> TICK_SHIFT).wrapping_add(1);
            let next = (tick << TICK_SHIFT) | (current & READY_MASK) | bits;
            match self
                .readiness
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        // Set first, then look for waiters: a poller that registers after
        // our lock sees the bits when it checks again under the lock.
        let mut waiters = lock(&self.waiters);
        if bits & Direction::Read.mask() != 0 {
            wakers.append(&mut waiters.reader);
        }
        if bits & Direction::Write.mask() != 0 {
            wakers.append(&mut waiters.writer);
        }
    }
    // ANCHOR_END: add-bits

    // ANCHOR: poll-ready
    /// Ready if `direction` may proceed; otherwise stores the waker.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<ReadyEvent> {
        if let Some(event) = self.ready_now(direction) {
            return Poll::Ready(event);
        }
        let mut waiters = lock(&self.waiters);
        let list = match direction {
            Direction::Read => &mut waiters.reader,
            Direction::Write => &mut waiters.writer,
        };
        if !list.iter().any(|waker| waker.will_wake(cx.waker())) {
            list.push(cx.waker().clone());
        }
        // An event may have come between the first look and the lock.
        match self.ready_now(direction) {
            Some(event) => Poll::Ready(event),
            None => Poll::Pending,
        }
    }
    // ANCHOR_END: poll-ready

    fn ready_now(&self, direction: Direction) -> Option<ReadyEvent> {
        let current = self.readiness.load(Ordering::Acquire);
        let ready = current & direction.mask();
        (ready != 0).then_some(ReadyEvent {
            ready,
            tick: current >> TICK_SHIFT,
        })
    }

    /// Forgets the readiness `event` saw, unless a newer edge arrived since.
    /// Closed and shutdown bits stay: those edges do not repeat. The error
    /// bit goes: a socket error is consumed by the call that reports it (a
    /// refused datagram), and an operation that then says `WouldBlock` must
    /// wait for the next edge rather than spin.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.clear_bits(event, READABLE | WRITABLE | ERROR);
    }

    /// Clears the readable or writable bit of `event` alone, after a short
    /// read or write showed the socket's buffer drained or full. The error
    /// and closed bits stay: they are not proven gone.
    pub(crate) fn clear_progress(&self, event: ReadyEvent) {
        self.clear_bits(event, READABLE | WRITABLE);
    }

    // ANCHOR: clear-bits
    fn clear_bits(&self, event: ReadyEvent, bits: usize) {
        let clear = event.ready & bits;
        let mut current = self.readiness.load(Ordering::Acquire);
        loop {
            if current >> TICK_SHIFT != event.tick {
                return;
            }
            let next = current & !clear;
            match self
                .readiness
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }
    // ANCHOR_END: clear-bits
}

impl ReadyEvent {
    pub(crate) fn is_shutdown(self) -> bool {
        self.ready & SHUTDOWN != 0
    }

    pub(crate) fn is_readable(self) -> bool {
        self.ready & READABLE != 0
    }

    pub(crate) fn is_writable(self) -> bool {
        self.ready & WRITABLE != 0
    }

    pub(crate) fn is_read_closed(self) -> bool {
        self.ready & READ_CLOSED != 0
    }

    pub(crate) fn is_write_closed(self) -> bool {
        self.ready & WRITE_CLOSED != 0
    }

    pub(crate) fn is_error(self) -> bool {
        self.ready & ERROR != 0
    }
}

impl fmt::Debug for ScheduledIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.readiness.load(Ordering::Relaxed);
        f.debug_struct("ScheduledIo")
            .field("token", &self.token.0)
            .field("ready", &format_args!("{:#b}", current & READY_MASK))
            .finish()
    }
}

/// A non-blocking mio source registered with a driver: the building block
/// of every socket type.
///
/// Dropping it deregisters the source and closes it.
pub(crate) struct IoSource<E: mio::event::Source> {
    io: Option<E>,
    shared: Arc<ScheduledIo>,
    handle: Handle,
}

impl<E: mio::event::Source> IoSource<E> {
    /// Registers `io` with the current driver for reading and writing.
    pub(crate) fn new(io: E) -> io::Result<IoSource<E>> {
        IoSource::with_interest(io, mio::Interest::READABLE | mio::Interest::WRITABLE)
    }

    pub(crate) fn with_interest(mut io: E, interest: mio::Interest) -> io::Result<IoSource<E>> {
        let handle = Handle::try_current()?;
        let shared = handle.register(&mut io, interest)?;
        Ok(IoSource {
            io: Some(io),
            shared,
            handle,
        })
    }

    /// The source itself, for operations that cannot block.
    pub(crate) fn get_ref(&self) -> &E {
        self.io.as_ref().expect("present until drop or into_inner")
    }

    /// Waits until `direction` may proceed.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        match self.shared.poll_ready(cx, direction) {
            Poll::Ready(event) if event.is_shutdown() => Poll::Ready(Err(driver::shut_down())),
            Poll::Ready(event) => Poll::Ready(Ok(event)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Waits until `direction` may proceed, then tries `op`; on
    /// `WouldBlock`, clears the readiness and waits for the next edge.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_then(cx, direction, op, |_| false)
    }

    /// [`poll_io`](Self::poll_io), also clearing the readable or writable
    /// bit after a success for which `drained` says the kernel buffer was
    /// emptied (read) or filled (write).
    // ANCHOR: poll-io
    fn poll_io_then<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = match self.poll_ready(cx, direction) {
                Poll::Ready(Ok(event)) => event,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.shared.clear_readiness(event),
                Ok(r) if drained(&r) => {
                    self.shared.clear_progress(event);
                    return Poll::Ready(Ok(r));
                }
                result => return Poll::Ready(result),
            }
        }
    }
    // ANCHOR_END: poll-io

    /// [`poll_io`](Self::poll_io) for a stream read or write of `len`
    /// bytes: a short transfer means the kernel buffer was drained (read)
    /// or filled (write), so the readiness is cleared at once, sparing the
    /// next attempt a system call that would only say `WouldBlock`.
    pub(crate) fn poll_transfer(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        len: usize,
        op: impl FnMut(&E) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_io_then(cx, direction, op, |&n| n > 0 && n < len)
    }

    /// Tries `op` once if `direction` looks ready, without waiting:
    /// `WouldBlock` if it is not (or the attempt would block).
    pub(crate) fn try_io<R>(
        &self,
        direction: Direction,
        op: impl FnOnce(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        let Some(event) = self.shared.ready_now(direction) else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        if event.is_shutdown() {
            return Err(driver::shut_down());
        }
        match op(self.get_ref()) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.shared.clear_readiness(event);
                Err(e)
            }
            result => result,
        }
    }

    /// Deregisters and returns the source.
    pub(crate) fn into_inner(mut self) -> E {
        let mut io = self.io.take().expect("present until drop or into_inner");
        self.handle.deregister(&mut io, &self.shared);
        io
    }
}

impl<E: mio::event::Source> Drop for IoSource<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            self.handle.deregister(&mut io, &self.shared);
        }
    }
}

impl<E: mio::event::Source + fmt::Debug> fmt::Debug for IoSource<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoSource")
            .field("io", &self.io)
            .field("readiness", &self.shared)
            .finish()
    }
}
