//! Waiting for a process that is not our child to exit: a RabbitMQ node's
//! VM (started detached by `rabbitmq-server`) or a guardian whose parent
//! test process is gone. `waitpid` only serves a parent, so this opens a
//! pidfd (Linux 5.3+), which becomes readable once the process has exited,
//! and polls it once, for the whole bound: no sleeping loop.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// Waits until process `pid` has exited (a zombie counts: it runs no
/// more), at most `bound`. `Ok(true)` once it has, or if there is no such
/// process; `Ok(false)` if it still runs after `bound`.
///
/// # Errors
///
/// `pidfd_open` or `poll` failed for another reason than a process that
/// is already gone or a signal.
pub fn wait_for_exit(pid: u32, bound: Duration) -> io::Result<bool> {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"));
    };
    // SAFETY: pidfd_open takes a pid and flags and returns a new file
    // descriptor or -1; no memory is passed.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        let error = io::Error::last_os_error();
        return match error.raw_os_error() {
            Some(libc::ESRCH) => Ok(true),
            _ => Err(error),
        };
    }
    let Ok(raw) = i32::try_from(fd) else {
        return Err(io::Error::other("pidfd_open returned an out-of-range descriptor"));
    };
    // SAFETY: `raw` is the new descriptor pidfd_open returned, owned by
    // nobody else; `OwnedFd` closes it.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let timeout = i32::try_from(bound.as_millis()).unwrap_or(i32::MAX);
    loop {
        let mut poll = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid `pollfd`, whose descriptor `fd` keeps open.
        let ready = unsafe { libc::poll(&mut poll, 1, timeout) };
        match ready {
            0 => return Ok(false),
            n if n > 0 => return Ok(true),
            _ => {
                let error = io::Error::last_os_error();
                // A signal cut the wait short: wait again (the bound
                // starts over, which only lengthens a wait that was
                // interrupted).
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
}
