//! Abstract socket names: on Linux and Android a path whose first byte is
//! a null byte names a socket in the abstract namespace (no file behind it,
//! gone when the last socket bound to it closes), as tokio and the C API
//! read it.

use std::io;
use std::path::Path;

/// A socket path as the system reads it.
pub(crate) enum Target<'a> {
    /// A file-system path.
    Path(&'a Path),
    /// An abstract name: the whole path, its leading null byte included.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Abstract(&'a Path),
}

impl Target<'_> {
    /// Reads `path`: abstract if it starts with a null byte, on the
    /// platforms that have abstract names.
    pub(crate) fn of(path: &Path) -> Target<'_> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use std::os::unix::ffi::OsStrExt;
            if path.as_os_str().as_bytes().first() == Some(&0) {
                return Target::Abstract(path);
            }
        }
        Target::Path(path)
    }
}

/// The standard library's address for the abstract name `path` (null byte
/// first), for mio's `bind_addr` and `connect_addr`.
///
/// # Errors
///
/// `InvalidInput` if the name is too long for a socket address.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn abstract_addr(path: &Path) -> io::Result<std::os::unix::net::SocketAddr> {
    #[cfg(target_os = "android")]
    use std::os::android::net::SocketAddrExt;
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::ffi::OsStrExt;
    let name = path.as_os_str().as_bytes().get(1..).unwrap_or_default();
    std::os::unix::net::SocketAddr::from_abstract_name(name)
}

/// socket2's address for the abstract name `path` (null byte first), for
/// the calls mio offers with a path only: a datagram socket's `connect`
/// and `send_to`. socket2 reads the leading null byte as std does.
///
/// # Errors
///
/// `InvalidInput` if the name is too long for a socket address.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn abstract_sock_addr(path: &Path) -> io::Result<socket2::SockAddr> {
    socket2::SockAddr::unix(path)
}
