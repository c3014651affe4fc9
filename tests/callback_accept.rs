//! A failed accept does not stop a server. Each test runs this binary again
//! as a child under `ulimit -n 64`, where the child's server (the callback
//! listener of `echo_callbacks` and `echo_promises`, the async accept loop
//! of `echo_async`) listens, then the child opens files until it has no
//! descriptor left. The parent connects: the accept fails with EMFILE,
//! which the server logs. The parent tells the child to close its files,
//! and the server, going on, accepts the waiting connection and echoes.
//!
//! Linux only: the test relies on `sh`'s `ulimit` and on a connection
//! staying queued when accept fails with EMFILE. ECONNABORTED (a connection
//! reset before it is accepted) is not tested: Linux drops such a
//! connection from the queue instead of failing the accept.
// Each example loaded below brings its own copy of `examples/common/cli.rs` and `echo_cli.rs`.
#![allow(clippy::duplicate_mod)]
#![cfg(target_os = "linux")]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[path = "../examples/echo_async.rs"]
#[allow(dead_code, unreachable_pub)]
mod echo_async;
#[path = "../examples/echo_callbacks.rs"]
#[allow(dead_code, unreachable_pub)]
mod echo_callbacks;
#[path = "../examples/echo_promises.rs"]
#[allow(dead_code, unreachable_pub)]
mod echo_promises;

/// Names the server the child runs; unset outside the child.
const CHILD: &str = "WEFT_ACCEPT_TEST_SERVER";
/// How long any one step may take before the test gives up.
const BOUND: Duration = Duration::from_secs(20);

#[test]
fn the_callback_listener_of_echo_callbacks_survives_emfile() {
    survives_emfile("echo_callbacks");
}

#[test]
fn the_callback_listener_of_echo_promises_survives_emfile() {
    survives_emfile("echo_promises");
}

#[test]
fn the_accept_loop_of_echo_async_survives_emfile() {
    survives_emfile("echo_async");
}

/// Kills the child when dropped, so a failing test leaves no process.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends each line `from` yields to a channel, from a thread.
fn lines(from: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// What follows `prefix` on the next line holding it, within `BOUND`
/// (libtest may have printed on the same line before it).
fn wait_for(lines: &mpsc::Receiver<String>, prefix: &str, seen: &mut Vec<String>) -> String {
    loop {
        match lines.recv_timeout(BOUND) {
            Ok(line) if line.contains(prefix) => {
                return line[line.find(prefix).unwrap() + prefix.len()..].to_owned();
            }
            Ok(line) => seen.push(line),
            Err(_) => panic!("no line holding {prefix:?}; saw {seen:#?}"),
        }
    }
}

fn survives_emfile(server: &str) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Killed(
        Command::new("sh")
            .arg("-c")
            .arg(r#"ulimit -n 64 && exec "$0" "$@""#)
            .arg(exe)
            .args(["--exact", "child", "--ignored", "--nocapture", "--test-threads=1"])
            .env(CHILD, server)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = lines(child.0.stdout.take().unwrap());
    let stderr = lines(child.0.stderr.take().unwrap());
    let mut stdin = child.0.stdin.take().unwrap();
    let mut seen = Vec::new();

    let addr = wait_for(&stdout, "listening on ", &mut seen);
    // The kernel completes the handshake; the server's accept fails.
    let mut client = TcpStream::connect(&addr).unwrap();
    let failed = wait_for(&stderr, &format!("{server}: accept failed: "), &mut seen);
    println!("{server} logged: accept failed: {failed}");
    assert!(failed.contains("os error 24"), "not EMFILE: {failed}");

    // Descriptors again: the server accepts the waiting connection.
    writeln!(stdin, "free").unwrap();
    client.set_read_timeout(Some(BOUND)).unwrap();
    client.write_all(b"still there?").unwrap();
    let mut echoed = [0; 12];
    client
        .read_exact(&mut echoed)
        .unwrap_or_else(|e| panic!("{server} stopped serving: {e}; saw {seen:#?}"));
    assert_eq!(&echoed, b"still there?");
    drop(stdin); // the child exits
    let (tx, rx) = mpsc::channel();
    let mut process = child;
    std::thread::spawn(move || {
        let status = process.0.wait();
        let _ = tx.send(status);
        drop(process);
    });
    let status = rx.recv_timeout(BOUND).expect("the child exits").unwrap();
    assert!(status.success(), "{status}");
}

/// The child's side: serve, use up the descriptors, say where it listens,
/// close the files when told, run until stdin closes.
#[test]
#[ignore = "the child of the other tests, run with few descriptors"]
fn child() {
    let Ok(server) = std::env::var(CHILD) else { return };
    let rt = weft::Runtime::new().unwrap();
    let _entered = rt.enter();
    let addr = match server.as_str() {
        "echo_callbacks" => echo_callbacks::serve("127.0.0.1:0").unwrap().local_addr(),
        "echo_promises" => echo_promises::serve("127.0.0.1:0").unwrap().local_addr(),
        "echo_async" => {
            let listener = rt.block_on(weft::net::TcpListener::bind("127.0.0.1:0")).unwrap();
            let addr = listener.local_addr().unwrap();
            drop(rt.spawn(echo_async::serve(listener)));
            addr
        }
        other => panic!("no server {other}"),
    };
    let mut files = Vec::new();
    let exhausted = loop {
        match std::fs::File::open("/dev/null") {
            Ok(file) if files.len() < 4096 => files.push(file),
            Ok(_) => panic!("the descriptor limit did not apply"),
            Err(e) => break e,
        }
    };
    assert_eq!(exhausted.raw_os_error(), Some(24), "{exhausted}");
    println!("listening on {addr}");
    io::stdout().flush().unwrap();
    let mut stdin = io::stdin().lock();
    let mut line = String::new();
    stdin.read_line(&mut line).unwrap();
    drop(files);
    // Serve until the parent closes stdin.
    while stdin.read_line(&mut line).unwrap_or(0) != 0 {}
}
