//! `Uri`: an AMQP URI whose password never leaves it in text.

use crate::Error;
use lapin::uri::AMQPUri;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// What a redacted password reads as.
const REDACTED: &str = "****";

/// A parsed AMQP URI (`amqp://user:password@host:port/vhost?heartbeat=..`).
///
/// Its [`Display`](fmt::Display) and [`Debug`](fmt::Debug) show the user,
/// host, port and vhost and replace the password with `****`, so a URI can
/// be logged, printed in an error or dumped with `{:?}` without leaking it;
/// no error of this crate carries the password either. The password is
/// handed to the broker and nowhere else.
///
/// Credentials can come from the environment instead of the text: see
/// [`Uri::with_credentials`].
///
/// # Examples
///
/// ```
/// use weft_rabbitmq::Uri;
///
/// let uri: Uri = "amqp://app:s3cret@127.0.0.1:5672/orders".parse().unwrap();
/// assert_eq!(uri.to_string(), "amqp://app:****@127.0.0.1:5672/orders");
/// assert!(!format!("{uri:?}").contains("s3cret"));
/// assert_eq!(uri.user(), "app");
/// assert_eq!(uri.vhost(), "orders");
/// ```
#[derive(Clone)]
pub struct Uri {
    inner: AMQPUri,
    /// PEM certificates trusted for `amqps://` besides the system's roots
    /// (feature `tls`); certificates, not secrets.
    tls_roots: Option<Arc<str>>,
}

impl Uri {
    /// Parses an AMQP URI. A missing user and password are `guest` /
    /// `guest`, a missing port 5672 (`amqp`) or 5671 (`amqps`), a missing
    /// vhost `/`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUri`] when `uri` is not an AMQP URI; its text never
    /// holds the password.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_rabbitmq::{Error, Uri};
    ///
    /// let uri = Uri::parse("amqp://127.0.0.1").unwrap();
    /// assert_eq!(uri.user(), "guest");
    /// assert_eq!(uri.vhost(), "/");
    ///
    /// let err = Uri::parse("http://app:s3cret@host").unwrap_err();
    /// assert!(matches!(err, Error::InvalidUri { .. }));
    /// assert!(!err.to_string().contains("s3cret"));
    /// ```
    pub fn parse(uri: &str) -> Result<Uri, Error> {
        AMQPUri::from_str(uri)
            .map(|inner| Uri {
                inner,
                tls_roots: None,
            })
            .map_err(|reason| Error::InvalidUri {
                reason: redact_message(&reason, uri),
            })
    }

    /// Parses the AMQP URI held by the environment variable `var` (say
    /// `WEFT_AMQP_URI`), so that its password stays out of the code and
    /// the command line. The password is redacted as by [`parse`](Self::parse):
    /// in this `Uri`'s text, and in the error if the text is not a URI.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUri`] when `var` is not set, is not Unicode, or
    /// does not hold an AMQP URI; its text names `var` and never holds the
    /// password.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_rabbitmq::{Error, Uri};
    ///
    /// // Where it is set: `WEFT_AMQP_URI=amqp://app:s3cret@broker/orders`.
    /// if let Ok(uri) = Uri::from_env("WEFT_AMQP_URI") {
    ///     println!("connecting to {uri}"); // amqp://app:****@broker:5672/orders
    /// }
    /// let err = Uri::from_env("WEFT_SURELY_UNSET_VARIABLE").unwrap_err();
    /// assert!(matches!(err, Error::InvalidUri { .. }));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "invalid amqp uri: environment variable WEFT_SURELY_UNSET_VARIABLE is not set"
    /// );
    /// ```
    pub fn from_env(var: &str) -> Result<Uri, Error> {
        let text = std::env::var(var).map_err(|e| Error::InvalidUri {
            reason: match e {
                std::env::VarError::NotPresent => format!("environment variable {var} is not set"),
                std::env::VarError::NotUnicode(_) => format!("environment variable {var} is not unicode"),
            },
        })?;
        Uri::parse(&text).map_err(|err| match err {
            Error::InvalidUri { reason } => Error::InvalidUri {
                reason: format!("environment variable {var}: {reason}"),
            },
            other => other,
        })
    }

    /// The same URI with this user and password, for credentials kept out
    /// of the URI's text (in the environment, a secret store).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_rabbitmq::Uri;
    ///
    /// let password = std::env::var("AMQP_PASSWORD").unwrap_or_else(|_| "from-env".into());
    /// let uri = Uri::parse("amqp://127.0.0.1/%2f").unwrap().with_credentials("app", &password);
    /// assert_eq!(uri.to_string(), "amqp://app:****@127.0.0.1:5672/%2F");
    /// ```
    pub fn with_credentials(mut self, user: &str, password: &str) -> Uri {
        self.inner.authority.userinfo.username = user.to_owned();
        self.inner.authority.userinfo.password = password.to_owned();
        self
    }

    /// The same URI, trusting the PEM certificates `pem` (one or more, a
    /// private CA say) for `amqps://`, besides the system's roots. The
    /// broker's certificate must name the URI's host.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use weft_rabbitmq::Uri;
    ///
    /// let ca = std::fs::read_to_string("/etc/rabbitmq/ca.pem").unwrap();
    /// let uri = Uri::parse("amqps://app:s3cret@localhost/orders").unwrap().with_tls_roots(ca);
    /// assert_eq!(uri.port(), 5671);
    /// ```
    #[cfg(feature = "tls")]
    pub fn with_tls_roots(mut self, pem: impl Into<String>) -> Uri {
        self.tls_roots = Some(Arc::from(pem.into()));
        self
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.inner.authority.userinfo.username
    }

    /// The virtual host, decoded (`/` for the default one).
    pub fn vhost(&self) -> &str {
        &self.inner.vhost
    }

    /// The host name or address.
    pub fn host(&self) -> &str {
        &self.inner.authority.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.inner.authority.port
    }

    /// The parsed URI as lapin takes it, password included.
    pub(crate) fn amqp(&self) -> &AMQPUri {
        &self.inner
    }

    /// The TLS settings lapin takes: the extra roots, no client identity.
    pub(crate) fn tls(&self) -> lapin::tcp::OwnedTLSConfig {
        lapin::tcp::OwnedTLSConfig {
            identity: None,
            cert_chain: self.tls_roots.as_deref().map(str::to_owned),
        }
    }
}

impl FromStr for Uri {
    type Err = Error;

    fn from_str(uri: &str) -> Result<Uri, Error> {
        Uri::parse(uri)
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let AMQPUri {
            scheme,
            authority,
            vhost,
            ..
        } = &self.inner;
        write!(f, "{scheme}://{}", Encoded(&authority.userinfo.username))?;
        if !authority.userinfo.password.is_empty() {
            write!(f, ":{REDACTED}")?;
        }
        write!(f, "@{}:{}/{}", authority.host, authority.port, Encoded(vhost))?;
        // The query string as lapin renders it (no secrets there).
        let full = self.inner.to_string();
        match full.find('?') {
            Some(query) => f.write_str(&full[query..]),
            None => Ok(()),
        }
    }
}

/// Text percent-encoded for a URI, all but RFC 3986's unreserved
/// characters.
struct Encoded<'a>(&'a str);

impl fmt::Display for Encoded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                write!(f, "{}", byte as char)?;
            } else {
                write!(f, "%{byte:02X}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Uri").field(&format_args!("{self}")).finish()
    }
}

/// `message` (about `uri`) with `uri`'s password replaced wherever it
/// appears, as text or inside an echo of the whole URI.
fn redact_message(message: &str, uri: &str) -> String {
    match raw_password(uri) {
        Some(password) if !password.is_empty() => message.replace(password, REDACTED),
        _ => message.to_owned(),
    }
}

/// The password as written in `uri`: what follows the first `:` of the
/// user-info (before the last `@` of the authority).
fn raw_password(uri: &str) -> Option<&str> {
    let rest = &uri[uri.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    Some(&userinfo[userinfo.find(':')? + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_found_where_it_is_written() {
        assert_eq!(raw_password("amqp://u:p@h:1/v"), Some("p"));
        assert_eq!(raw_password("amqp://u:p@ss@h/v?x=1"), Some("p@ss"));
        assert_eq!(raw_password("amqp://u@h/v"), None);
        assert_eq!(raw_password("amqp://h/a:b@c"), None);
        assert_eq!(raw_password("nonsense"), None);
    }

    #[test]
    fn an_invalid_uri_never_echoes_its_password() {
        for bad in [
            "amqp://u:hunter2@[::1/v",
            "foo://u:hunter2@h/v",
            "amqp://u:hunter2@h:99999/v",
        ] {
            let err = Uri::parse(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidUri { .. }), "{bad}: {err:?}");
            assert!(!err.to_string().contains("hunter2"), "{bad}: {err}");
            assert!(!format!("{err:?}").contains("hunter2"), "{bad}: {err:?}");
        }
    }

    #[test]
    fn display_and_debug_hide_the_password_and_keep_the_rest() {
        let uri = Uri::parse("amqp://app:p%40ss@broker:5673/orders?heartbeat=10").unwrap();
        assert_eq!(uri.to_string(), "amqp://app:****@broker:5673/orders?heartbeat=10");
        assert_eq!(
            format!("{uri:?}"),
            "Uri(amqp://app:****@broker:5673/orders?heartbeat=10)"
        );
        assert_eq!(uri.amqp().authority.userinfo.password, "p@ss");
    }
}
