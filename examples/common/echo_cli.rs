//! The command line the three echo examples share: no argument runs the
//! self-driving demo, `--listen ADDR` serves until killed, `--help` prints
//! the usage; a bad argument exits 2, a failure (an address in use) prints
//! one sentence and exits 1.

use std::io;
use std::process::ExitCode;

/// Runs an echo example's command line: `name` prefixes its messages;
/// `demo` and `listen` are what the example does.
pub(crate) fn main(
    name: &str,
    demo: impl FnOnce() -> io::Result<()>,
    listen: impl FnOnce(&str) -> io::Result<()>,
) -> ExitCode {
    let outcome = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            println!("{}", usage(name));
            return ExitCode::SUCCESS;
        }
        Ok(Command::Demo) => demo(),
        Ok(Command::Listen(addr)) => listen(&addr),
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

fn usage(name: &str) -> String {
    format!(
        "usage: {name} [--listen ADDR]

With no argument, starts an echo server on a free port of 127.0.0.1, sends
it three messages and prints what came back. With --listen ADDR (such as
127.0.0.1:7000), serves on ADDR until killed: try `nc 127.0.0.1 7000`."
    )
}

/// What the command line asks for.
enum Command {
    Help,
    Demo,
    Listen(String),
}

/// Reads the arguments (without the program's name).
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let command = match args.next().as_deref() {
        None => Command::Demo,
        Some("-h" | "--help") => Command::Help,
        Some("--listen") => match args.next() {
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

/// The error of a failed bind, as one sentence naming the address.
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
