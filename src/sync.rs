//! Channels and synchronization primitives: [`mpsc`], [`oneshot`],
//! [`broadcast`], [`watch`], [`Mutex`], [`RwLock`], [`Semaphore`], [`Notify`],
//! [`Barrier`] and [`OnceCell`].
//!
//! They come from [`weft_primitives::sync`] and work under any runtime;
//! weft adds what needs its clock, such as
//! [`mpsc::SendTimeoutExt::send_timeout`].

pub use weft_primitives::sync::*;

/// Multi-producer, single-consumer channels; see
/// [`weft_primitives::sync::mpsc`].
pub mod mpsc {
    pub use weft_primitives::sync::mpsc::*;

    use self::error::SendTimeoutError;
    use std::future::Future;
    use std::time::Duration;

    /// `send_timeout` for a bounded [`Sender`], on weft's clock (paused
    /// in tests, like every weft timer).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft::sync::mpsc::{self, SendTimeoutExt};
    ///
    /// weft::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     tx.send_timeout(1, Duration::from_secs(1)).await.unwrap(); // room: at once
    ///     assert_eq!(rx.recv().await, Some(1));
    /// });
    /// ```
    pub trait SendTimeoutExt<T> {
        /// Sends `value`, waiting at most `timeout` for room.
        ///
        /// # Errors
        ///
        /// [`SendTimeoutError::Timeout`] or [`SendTimeoutError::Closed`],
        /// with the value.
        ///
        /// # Examples
        ///
        /// ```
        /// use std::time::Duration;
        /// use weft::sync::mpsc::{self, SendTimeoutExt, error::SendTimeoutError};
        ///
        /// weft::block_on(async {
        ///     let (tx, _rx) = mpsc::channel(1);
        ///     tx.send(1).await.unwrap();
        ///     let late = tx.send_timeout(2, Duration::from_millis(5)).await;
        ///     assert!(matches!(late, Err(SendTimeoutError::Timeout(2))));
        /// });
        /// ```
        fn send_timeout(
            &self,
            value: T,
            timeout: Duration,
        ) -> impl Future<Output = Result<(), SendTimeoutError<T>>> + Send + '_
        where
            T: Send;
    }

    impl<T> SendTimeoutExt<T> for Sender<T> {
        fn send_timeout(
            &self,
            value: T,
            timeout: Duration,
        ) -> impl Future<Output = Result<(), SendTimeoutError<T>>> + Send + '_
        where
            T: Send,
        {
            self.send_within(value, crate::time::sleep(timeout))
        }
    }
}
