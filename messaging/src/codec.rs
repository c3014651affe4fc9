//! Codecs: how a message becomes bytes, for the backends that store or
//! send bytes (a log on disk, a broker). The in-memory backends keep Rust
//! values and need none.

use std::error::Error;
use std::fmt;

/// Turns values of `T` into bytes and back.
///
/// `decode` reads bytes that came from a disk or a network: it must return
/// an error for anything it cannot read, never panic.
///
/// # Examples
///
/// A codec of its own, for a type with a fixed layout:
///
/// ```
/// use weft::queue::{Codec, CodecError};
///
/// struct Point(i32, i32);
/// struct Le;
///
/// impl Codec<Point> for Le {
///     fn encode(&self, p: &Point, out: &mut Vec<u8>) -> Result<(), CodecError> {
///         out.extend_from_slice(&p.0.to_le_bytes());
///         out.extend_from_slice(&p.1.to_le_bytes());
///         Ok(())
///     }
///     fn decode(&self, bytes: &[u8]) -> Result<Point, CodecError> {
///         let bytes: [u8; 8] = bytes.try_into().map_err(|_| CodecError::new("a point is 8 bytes"))?;
///         let (x, y) = bytes.split_at(4);
///         Ok(Point(i32::from_le_bytes(x.try_into().unwrap()), i32::from_le_bytes(y.try_into().unwrap())))
///     }
/// }
///
/// let mut buf = Vec::new();
/// Le.encode(&Point(3, -4), &mut buf).unwrap();
/// let back = Le.decode(&buf).unwrap();
/// assert_eq!((back.0, back.1), (3, -4));
/// assert!(Le.decode(&buf[..5]).is_err());
/// ```
pub trait Codec<T>: Send + Sync + 'static {
    /// Appends the encoding of `value` to `out`.
    ///
    /// # Errors
    ///
    /// If `value` cannot be encoded (a JSON map with keys that are not
    /// strings, say).
    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError>;

    /// Reads a value back from `bytes`, the whole of one encoding.
    ///
    /// # Errors
    ///
    /// If `bytes` is not an encoding this codec can read.
    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError>;
}

/// A value that could not be encoded, or bytes that could not be decoded.
#[derive(Debug)]
pub struct CodecError {
    message: String,
    source: Option<Box<dyn Error + Send + Sync>>,
}

impl CodecError {
    /// An error that says `message`.
    pub fn new(message: impl Into<String>) -> CodecError {
        CodecError {
            message: message.into(),
            source: None,
        }
    }

    /// An error that says `message`, caused by `source`.
    pub fn with_source(message: impl Into<String>, source: impl Error + Send + Sync + 'static) -> CodecError {
        CodecError {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl Error for CodecError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

/// Raw bytes, as they are: `Vec<u8>` messages.
///
/// # Examples
///
/// ```
/// use weft::queue::{Codec, Raw};
///
/// let mut buf = Vec::new();
/// Raw.encode(&vec![1, 2, 3], &mut buf).unwrap();
/// assert_eq!(Raw.decode(&buf).unwrap(), [1, 2, 3]);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Raw;

impl Codec<Vec<u8>> for Raw {
    fn encode(&self, value: &Vec<u8>, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(value);
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<Vec<u8>, CodecError> {
        Ok(bytes.to_vec())
    }
}

/// `String` messages as UTF-8.
///
/// # Examples
///
/// ```
/// use weft::queue::{Codec, Utf8};
///
/// let mut buf = Vec::new();
/// Utf8.encode(&"héllo".to_string(), &mut buf).unwrap();
/// assert_eq!(Utf8.decode(&buf).unwrap(), "héllo");
/// assert!(Utf8.decode(&[0xff, 0xfe]).is_err());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Utf8;

impl Codec<String> for Utf8 {
    fn encode(&self, value: &String, out: &mut Vec<u8>) -> Result<(), CodecError> {
        out.extend_from_slice(value.as_bytes());
        Ok(())
    }

    fn decode(&self, bytes: &[u8]) -> Result<String, CodecError> {
        String::from_utf8(bytes.to_vec()).map_err(|e| CodecError::with_source("not UTF-8", e))
    }
}

/// Any serde type as JSON (feature `serde`).
///
/// # Examples
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use weft_messaging::codec::{Codec, Json};
///
/// let mut buf = Vec::new();
/// Json.encode(&vec![("a".to_string(), 1)], &mut buf).unwrap();
/// assert_eq!(buf, br#"[["a",1]]"#);
/// let back: Vec<(String, i32)> = Json.decode(&buf).unwrap();
/// assert_eq!(back, [("a".to_string(), 1)]);
/// assert!(Codec::<Vec<(String, i32)>>::decode(&Json, b"[1,").is_err());
/// # }
/// ```
#[cfg(feature = "serde")]
#[derive(Clone, Copy, Debug, Default)]
pub struct Json;

#[cfg(feature = "serde")]
impl<T: serde::Serialize + serde::de::DeserializeOwned> Codec<T> for Json {
    fn encode(&self, value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
        serde_json::to_writer(out, value).map_err(|e| CodecError::with_source("cannot encode as JSON", e))
    }

    fn decode(&self, bytes: &[u8]) -> Result<T, CodecError> {
        serde_json::from_slice(bytes).map_err(|e| CodecError::with_source("not the JSON expected", e))
    }
}
