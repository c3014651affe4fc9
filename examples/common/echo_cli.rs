//! The command line the three echo examples share, on `common/cli.rs`:
//! no argument runs the self-driving demo, `--listen ADDR` serves until
//! killed, `--help` prints the usage below.

use std::io;
use std::process::ExitCode;

/// Runs an echo example's command line: `name` prefixes its messages;
/// `demo` and `listen` are what the example does.
pub(crate) fn main(
    name: &str,
    demo: impl FnOnce() -> io::Result<()>,
    listen: impl Fn(&str) -> io::Result<()>,
) -> ExitCode {
    super::cli::main(name, &usage(name), demo, Some(&listen))
}

fn usage(name: &str) -> String {
    format!(
        "usage: {name} [--listen ADDR]

With no argument, starts an echo server on a free port of 127.0.0.1, sends
it three messages and prints what came back. With --listen ADDR (such as
127.0.0.1:7000), serves on ADDR until killed: try `nc 127.0.0.1 7000`."
    )
}
