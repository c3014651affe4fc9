//! The auto-trait promises of the public types, checked at compile time.
//!
//! Futures handed to `spawn` must be `Send`; use `spawn_local` for the rest:
//!
//! ```compile_fail
//! let rt = weft_executor::Runtime::new().unwrap();
//! let not_send = std::rc::Rc::new(1);
//! rt.spawn(async move { drop(not_send) });
//! ```
//!
//! A `JoinHandle` can only cross threads if its output can:
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! let rt = weft_executor::Runtime::builder().current_thread().build().unwrap();
//! rt.block_on(async {
//!     let handle = weft_executor::task::spawn_local(async { std::rc::Rc::new(1) });
//!     assert_send(handle);
//! });
//! ```
//!
//! A `JoinSet` of `!Send` outputs stays on its thread too:
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! assert_send(weft_executor::task::JoinSet::<std::rc::Rc<u8>>::new());
//! ```
//!
//! A `LocalSet` never leaves the thread that made it, nor is it shared:
//!
//! ```compile_fail
//! fn assert_send<T: Send>(_: T) {}
//! assert_send(weft_executor::task::LocalSet::new());
//! ```
//!
//! ```compile_fail
//! fn assert_sync<T: Sync>(_: &T) {}
//! assert_sync(&weft_executor::task::LocalSet::new());
//! ```

#[allow(dead_code)]
fn _assert_auto_traits() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    fn unpin<T: Unpin>() {}

    send_sync::<crate::Runtime>();
    send_sync::<crate::runtime::Handle>();
    send_sync::<crate::runtime::Builder>();
    send_sync::<super::JoinHandle<u8>>();
    send_sync::<super::JoinHandle<std::cell::Cell<u8>>>();
    send_sync::<super::AbortHandle>();
    send_sync::<super::JoinError>();
    send_sync::<super::Id>();
    unpin::<super::LocalSet>();
    send::<super::JoinSet<u8>>();
    unpin::<super::JoinHandle<std::marker::PhantomPinned>>();
    send_sync::<crate::park::CondvarPark>();
}
