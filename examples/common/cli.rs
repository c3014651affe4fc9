//! The command line every example shares: no argument runs the example's
//! self-driving demo, `--help` prints its usage, and an example that can
//! serve takes `--listen ADDR` and serves until killed. A bad argument
//! prints one sentence and exits 2; a failure (an address in use) prints
//! one sentence naming the address and exits 1.

use std::io;
use std::process::ExitCode;

/// What an example serves with `--listen ADDR`, if it can.
pub(crate) type Listen<'a> = Option<&'a dyn Fn(&str) -> io::Result<()>>;

/// Runs example `name`'s command line: `usage` is its `--help` text (its
/// first line `usage: NAME ...`), `demo` what it does with no argument,
/// `listen` what `--listen ADDR` does (`None`: the flag is refused).
pub(crate) fn main(
    name: &str,
    usage: &str,
    demo: impl FnOnce() -> io::Result<()>,
    listen: Listen<'_>,
) -> ExitCode {
    let outcome = match parse_args(std::env::args().skip(1), listen.is_some()) {
        Ok(Command::Help) => {
            println!("{}", usage.trim_end());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Demo) => demo(),
        // `parse_args` accepts `--listen` only where `listen` is given.
        Ok(Command::Listen(addr)) => listen.map_or(Ok(()), |listen| listen(&addr)),
        Err(e) => {
            eprintln!("{name}: {e} (see --help)");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Help,
    Demo,
    Listen(String),
}

/// Reads the arguments (without the program's name); `--listen` only
/// where `serves`.
fn parse_args(mut args: impl Iterator<Item = String>, serves: bool) -> Result<Command, String> {
    let command = match args.next().as_deref() {
        None => Command::Demo,
        Some("-h" | "--help") => Command::Help,
        Some("--listen") if serves => match args.next() {
            Some(addr) => Command::Listen(addr),
            None => return Err("--listen needs an address, such as 127.0.0.1:7000".into()),
        },
        Some(other) => return Err(format!("unknown argument {other:?}")),
    };
    match args.next() {
        Some(extra) => Err(format!("unexpected argument {extra:?}")),
        None => Ok(command),
    }
}

/// The error of a failed bind, as one sentence naming the address:
/// `cannot listen on 127.0.0.1:7000: address in use`.
#[allow(dead_code)] // only the examples that serve use it
pub(crate) fn cannot_listen(addr: &str, e: io::Error) -> io::Error {
    let kind = e.kind();
    let reason = match kind {
        io::ErrorKind::AddrInUse | io::ErrorKind::AddrNotAvailable | io::ErrorKind::PermissionDenied => {
            kind.to_string()
        }
        _ => e.to_string(),
    };
    io::Error::new(kind, format!("cannot listen on {addr}: {reason}"))
}
