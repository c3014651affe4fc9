//! The crate's errors: typed where the caller must act differently
//! (fix the URI, the credentials, the vhost), and never holding a password.

use lapin::protocol::{AMQPErrorKind, AMQPHardError, AMQPSoftError};
use std::fmt;
use std::io;

/// What went wrong talking to RabbitMQ.
///
/// Refused credentials and refused vhosts are typed errors of the
/// connect, not something retried: retrying cannot fix them. No variant
/// holds a password, and neither does any `Display` or `Debug` text.
///
/// # Examples
///
/// ```
/// use weft_rabbitmq::Error;
///
/// let err = Error::AccessRefused { user: "app".into() };
/// assert_eq!(err.to_string(), "the broker refused the credentials of user \"app\"");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The text is not an AMQP URI.
    InvalidUri {
        /// Why, with any password replaced by `****`.
        reason: String,
    },
    /// The broker refused the user name or password (AMQP `ACCESS_REFUSED`
    /// while connecting).
    AccessRefused {
        /// The user the broker refused.
        user: String,
    },
    /// The virtual host does not exist or the user may not use it (AMQP
    /// `NOT_ALLOWED` while connecting).
    VhostRefused {
        /// The virtual host asked for.
        vhost: String,
        /// The user who asked.
        user: String,
    },
    /// The broker could not be reached, or the connection broke.
    Io(io::Error),
    /// Anything else the client or the broker reported.
    Amqp(lapin::Error),
}

impl Error {
    /// Sorts an error of lapin's from connecting as `user` to `vhost`.
    pub(crate) fn at_connect(err: lapin::Error, user: &str, vhost: &str) -> Error {
        if let lapin::ErrorKind::ProtocolError(amqp) = err.kind() {
            match amqp.kind() {
                AMQPErrorKind::Soft(AMQPSoftError::ACCESSREFUSED)
                | AMQPErrorKind::Hard(AMQPHardError::NOTALLOWED)
                    if amqp.get_message().as_str().contains("vhost") =>
                {
                    return Error::VhostRefused {
                        vhost: vhost.to_owned(),
                        user: user.to_owned(),
                    };
                }
                AMQPErrorKind::Soft(AMQPSoftError::ACCESSREFUSED) => {
                    return Error::AccessRefused {
                        user: user.to_owned(),
                    };
                }
                _ => {}
            }
        }
        Error::from(err)
    }
}

impl From<lapin::Error> for Error {
    fn from(err: lapin::Error) -> Error {
        match err.kind() {
            lapin::ErrorKind::IOError(io) => Error::Io(io::Error::new(io.kind(), io.to_string())),
            _ => Error::Amqp(err),
        }
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Error {
        Error::Io(err)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUri { reason } => write!(f, "invalid amqp uri: {reason}"),
            Error::AccessRefused { user } => {
                write!(f, "the broker refused the credentials of user {user:?}")
            }
            Error::VhostRefused { vhost, user } => {
                write!(f, "the broker refused vhost {vhost:?} to user {user:?}")
            }
            Error::Io(err) => write!(f, "rabbitmq i/o error: {err}"),
            Error::Amqp(err) => write!(f, "rabbitmq error: {err}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(err) => Some(err),
            Error::Amqp(err) => Some(err),
            _ => None,
        }
    }
}
