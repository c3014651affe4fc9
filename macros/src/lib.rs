//! The attribute macros of [weft]: `#[weft::main]` and `#[weft::test]`.
//!
//! Use them through the facade, with its `macros` feature on
//! (`weft = { version = "0.1", features = ["macros"] }`); this crate is the
//! machinery. Each turns an `async fn` into a plain `fn` that builds a weft
//! runtime with the options given and blocks on the body, as tokio's do,
//! with the same option names:
//!
//! | option | values | default |
//! | --- | --- | --- |
//! | `flavor` | `"multi_thread"`, `"current_thread"` | `multi_thread` for `main`, `current_thread` for `test` |
//! | `worker_threads` | an integer, 1 or more (multi-thread only) | one per CPU |
//! | `start_paused` | `true`, `false` | `false` |
//! | `crate` | a path to the weft crate, as a string | `"::weft"` |
//!
//! A mistake — a function that is not `async`, one with arguments, an
//! unknown option, a bad value — is a compile error pointing at the
//! offending token.
//!
//! [weft]: https://docs.rs/weft

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

mod config;
mod expand;

use config::Kind;
use proc_macro::TokenStream;

/// Runs an `async fn main` on a weft runtime.
///
/// The function becomes a plain `fn` that builds a runtime (multi-thread
/// unless `flavor = "current_thread"`), blocks on the body, and returns what
/// the body returns, so `async fn main() -> Result<(), E>` works as it would
/// without `async`. It may have any name and visibility, but no arguments.
///
/// Options, comma-separated: `flavor = "multi_thread" | "current_thread"`,
/// `worker_threads = N` (multi-thread only, `N` at least 1),
/// `start_paused = true` (the clock starts paused, as with
/// `weft::time::pause()`), and `crate = "path"` when weft is imported under
/// another name. Unlike tokio's, `start_paused` works with either flavour,
/// because weft's paused clock does; tokio's `unhandled_panic` option is not
/// offered, because weft's runtime has no such setting.
///
/// # Panics
///
/// The generated `main` panics if the runtime cannot be built (the worker
/// threads cannot be spawned), as tokio's does.
///
/// # Examples
///
/// ```
/// #[weft::main]
/// async fn main() {
///     let answer = weft::spawn(async { 40 + 2 }).await.unwrap();
///     assert_eq!(answer, 42);
/// }
/// ```
///
/// Errors propagate with `?` into the declared return type; options choose
/// the runtime:
///
/// ```
/// use std::time::Duration;
///
/// #[weft::main(flavor = "multi_thread", worker_threads = 2)]
/// async fn main() -> std::io::Result<()> {
///     let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let connect = weft::time::timeout(Duration::from_secs(5), weft::net::TcpStream::connect(addr));
///     let (_client, _server) = (connect.await??, listener.accept().await?);
///     Ok(())
/// }
/// ```
///
/// With weft renamed in `Cargo.toml` (`my_weft = { package = "weft", … }`),
/// name it with `crate`:
///
/// ```
/// # extern crate weft as my_weft;
/// #[my_weft::main(crate = "my_weft", flavor = "current_thread")]
/// async fn main() {
///     my_weft::task::yield_now().await;
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on a weft runtime of its own.
///
/// The function becomes a `#[test]` that builds a runtime (current-thread
/// unless `flavor = "multi_thread"`) and blocks on the body. Other
/// attributes stay: `#[should_panic]`, `#[ignore]` and the rest work as on
/// any test, and a test may return `Result<(), E>`. Don't add `#[test]`
/// yourself; that is an error.
///
/// The options are those of [`main`](macro@main). `start_paused = true`
/// makes timers deterministic: the paused clock jumps to the next timer
/// whenever the runtime has nothing else to do, so a test of a one-hour
/// timeout finishes at once.
///
/// # Panics
///
/// The test panics (fails) if the runtime cannot be built.
///
/// # Examples
///
/// In a test file (`tests/*.rs`) or a `#[cfg(test)]` module (a doc
/// example like this one compiles its tests but never runs them):
///
/// ```
/// #[weft::test]
/// async fn spawned_tasks_join() {
///     assert_eq!(weft::spawn(async { 1 + 1 }).await.unwrap(), 2);
/// }
///
/// #[weft::test(start_paused = true)]
/// async fn an_hour_passes_at_once() {
///     let start = weft::time::Instant::now();
///     weft::time::sleep(std::time::Duration::from_secs(3600)).await;
///     assert!(start.elapsed() >= std::time::Duration::from_secs(3600));
/// }
///
/// #[weft::test(flavor = "multi_thread", worker_threads = 2)]
/// #[should_panic(expected = "boom")]
/// async fn panics_fail_the_test() {
///     panic!("boom");
/// }
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Test, args.into(), item.into()).into()
}
