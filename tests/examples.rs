// Over ~600 lines on purpose: one short test per example (23 of them), each
// beside the `#[path]` module that loads its example; a list read one entry
// at a time, with no shared machinery that a split would separate.
//! Runs each example with small inputs and checks what it prints, so an
//! example that breaks fails the test suite: each deterministic one
//! against its file in `examples/output/`, every one's command line from
//! its binary. (`compare` runs in `tests/example_compare.rs`, with a
//! smaller load than its defaults.)
// Each example loaded below brings its own copy of `examples/common/cli.rs` and `echo_cli.rs`.
#![allow(clippy::duplicate_mod)]

#[path = "../examples/first_steps.rs"]
#[allow(dead_code, unreachable_pub)]
mod first_steps;

#[test]
fn first_steps_prints_its_tour() {
    // The panicking task prints a panic message on stderr; the output we
    // check is what the example writes.
    let mut out = Vec::new();
    first_steps::run(&mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    let expected = include_str!("../examples/output/first_steps.txt");
    assert_eq!(out, expected);
}

/// Runs an example's `run` and returns what it printed.
fn output(run: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    run(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[path = "../examples/echo_async.rs"]
#[allow(dead_code, unreachable_pub)]
mod echo_async;
#[path = "../examples/echo_callbacks.rs"]
#[allow(dead_code, unreachable_pub)]
mod echo_callbacks;
#[path = "../examples/echo_promises.rs"]
#[allow(dead_code, unreachable_pub)]
mod echo_promises;

#[test]
fn the_three_echo_servers_echo() {
    assert_eq!(
        output(echo_async::run),
        include_str!("../examples/output/echo_async.txt")
    );
    assert_eq!(
        output(echo_promises::run),
        include_str!("../examples/output/echo_promises.txt")
    );
    assert_eq!(
        output(echo_callbacks::run),
        include_str!("../examples/output/echo_callbacks.txt")
    );
}

#[path = "../examples/timers.rs"]
#[allow(dead_code, unreachable_pub)]
mod timers;

#[test]
fn timers_fire_at_their_times_on_the_paused_clock() {
    let expected = include_str!("../examples/output/timers.txt");
    assert_eq!(output(timers::run), expected);
}

#[path = "../examples/work_queue.rs"]
#[allow(dead_code, unreachable_pub)]
mod work_queue;

#[test]
fn work_queue_shares_jobs_and_dead_letters_the_poison() {
    let expected = include_str!("../examples/output/work_queue.txt");
    assert_eq!(output(work_queue::run), expected);
}

#[path = "../examples/request_reply.rs"]
#[allow(dead_code, unreachable_pub)]
mod request_reply;

#[test]
fn request_reply_routes_replies_and_drops_the_late_one() {
    let expected = include_str!("../examples/output/request_reply.txt");
    assert_eq!(output(request_reply::run), expected);
}

#[path = "../examples/replay.rs"]
#[allow(dead_code, unreachable_pub)]
mod replay;

#[test]
fn replay_reads_the_retained_window_and_reports_the_lag() {
    let expected = include_str!("../examples/output/replay.txt");
    assert_eq!(output(replay::run), expected);
}

#[path = "../examples/chat.rs"]
#[allow(dead_code, unreachable_pub)]
mod chat;

#[test]
fn chat_relays_joins_messages_and_leaves_through_the_bus() {
    let expected = include_str!("../examples/output/chat.txt");
    assert_eq!(output(chat::run), expected);
}

#[test]
fn chat_tells_a_member_that_fell_behind_what_it_missed_and_goes_on() {
    use weft::events::{EventBus, StartAt};
    let bus = EventBus::builder().retention(3).build();
    let room = bus.subscribe("chat.*", StartAt::Latest).unwrap();
    let said = |conn, text: &str| chat::Said {
        conn,
        from: "ada".into(),
        text: text.into(),
    };
    for n in 1..=6 {
        bus.try_publish("chat.message", said(0, &n.to_string())).unwrap();
    }
    // The member's own line, kept by the bus but not sent back to it.
    bus.try_publish("chat.message", said(7, "mine")).unwrap();
    bus.close();
    let mut heard = Vec::new();
    weft::block_on(chat::relay(room, 7, async |line| {
        heard.push(line);
        Ok(())
    }));
    assert_eq!(
        heard,
        [
            "* you fell behind: 4 events of the room were missed\n",
            "ada: 5\n",
            "ada: 6\n"
        ]
    );
}

#[test]
fn chat_searches_each_byte_of_an_8_mib_line_once() {
    use chat::Line;
    /// Pushes `bytes` and takes the lines they finish.
    fn feed(lines: &mut chat::Lines, bytes: &[u8], got: &mut Vec<Line>) -> u64 {
        lines.push(bytes);
        while let Some(line) = lines.next_line() {
            got.push(line);
        }
        bytes.len() as u64
    }
    let (mut lines, mut got) = (chat::Lines::default(), Vec::new());
    let mut pushed = feed(&mut lines, b"first\r\n", &mut got);
    for _ in 0..(8 << 20) / 1024 {
        pushed += feed(&mut lines, &[b'x'; 1024], &mut got);
    }
    pushed += feed(&mut lines, b"\nafter\n", &mut got);
    assert_eq!(
        got,
        [
            Line::Text("first".into()),
            Line::TooLong,
            Line::Text("after".into())
        ]
    );
    assert!(lines.examined <= pushed, "{} bytes searched", lines.examined);
    // A line of exactly the limit is a line.
    feed(&mut lines, &[b'y'; chat::MAX_LINE], &mut got);
    feed(&mut lines, b"\n", &mut got);
    assert_eq!(got.last(), Some(&Line::Text("y".repeat(chat::MAX_LINE))));
}

/// A chat server on a runtime of its own, and blocking clients for it.
mod chat_server {
    use std::io::{BufRead, BufReader, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::time::Duration;

    /// Starts `chat::serve` on a free port; it runs until the runtime drops.
    pub(super) fn start() -> (weft::Runtime, SocketAddr) {
        let rt = weft::Runtime::new().unwrap();
        let listener = rt.block_on(weft::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        drop(rt.spawn(super::chat::serve(listener)));
        (rt, addr)
    }

    /// A member, as `nc` would be one.
    pub(super) struct Member {
        pub(super) write: TcpStream,
        read: BufReader<TcpStream>,
    }

    impl Member {
        /// Connects, sends `name` and reads the welcome.
        pub(super) fn join(addr: SocketAddr, name: &str) -> Member {
            let write = TcpStream::connect(addr).unwrap();
            // A bound on every read: a line that never comes fails the test.
            write.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let mut member = Member {
                read: BufReader::new(write.try_clone().unwrap()),
                write,
            };
            member.say(name);
            assert_eq!(member.hear(), format!("welcome, {name}"));
            member
        }

        pub(super) fn say(&mut self, line: &str) {
            self.write.write_all(format!("{line}\n").as_bytes()).unwrap();
        }

        /// The next line the server sent, without its newline.
        pub(super) fn hear(&mut self) -> String {
            let mut line = String::new();
            self.read.read_line(&mut line).expect("a line within the bound");
            line.trim_end_matches('\n').to_owned()
        }
    }
}

#[test]
fn chat_members_with_the_same_name_hear_each_other() {
    let (_rt, addr) = chat_server::start();
    let mut first = chat_server::Member::join(addr, "ada");
    let mut second = chat_server::Member::join(addr, "ada");
    assert_eq!(first.hear(), "* ada joined");
    first.say("is there an echo?");
    assert_eq!(second.hear(), "ada: is there an echo?");
    second.say("there is");
    assert_eq!(first.hear(), "ada: there is");
}

#[test]
fn chat_a_member_welcomed_has_joined_so_a_later_member_hears_no_join_of_it() {
    // The server on a multi-thread runtime, racing its clients.
    let (_rt, addr) = chat_server::start();
    // Every member stays connected to the end: one that left would be
    // announced, to whoever is in the room when the server notices.
    let mut members = Vec::new();
    for round in 0..200 {
        let ada = format!("ada{round}");
        let mut first = chat_server::Member::join(addr, &ada);
        let mut second = chat_server::Member::join(addr, &format!("bob{round}"));
        first.say("ping");
        // The first line the second hears is the first's message.
        assert_eq!(second.hear(), format!("{ada}: ping"), "round {round}");
        members.push((first, second));
    }
}

#[test]
fn chat_answers_a_line_past_the_limit_with_an_error_and_goes_on() {
    let (_rt, addr) = chat_server::start();
    let mut ada = chat_server::Member::join(addr, "ada");
    let mut bob = chat_server::Member::join(addr, "bob");
    assert_eq!(ada.hear(), "* bob joined");
    let mut long = vec![b'x'; 1 << 20];
    long.push(b'\n');
    std::io::Write::write_all(&mut ada.write, &long).unwrap();
    ada.say("short again");
    assert_eq!(
        ada.hear(),
        "error: a line is at most 4096 bytes; that one was not sent"
    );
    assert_eq!(bob.hear(), "ada: short again");
}

#[path = "../examples/web_chat/main.rs"]
#[allow(dead_code, unreachable_pub)]
mod web_chat;

/// The rest of `web_chat` (its page in two headless browsers, its limits)
/// is tested in `tests/example_web_chat.rs`.
#[test]
fn web_chat_serves_its_page_and_relays_through_websockets() {
    let expected = include_str!("../examples/output/web_chat.txt");
    assert_eq!(output(web_chat::run), expected);
}

#[path = "../examples/http_hello.rs"]
#[allow(dead_code, unreachable_pub)]
mod http_hello;

/// A hyper client on one connection to `addr`: sends `request` and
/// returns the answer's status and body. The connection is kept alive
/// between the calls of one `Client`.
struct Client {
    sender: hyper::client::conn::http1::SendRequest<http_body_util::Full<hyper::body::Bytes>>,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> Client {
        let stream = weft::net::TcpStream::connect(addr).await.unwrap();
        let io = weft::compat::hyper::WeftIo::new(stream);
        let (sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
        drop(weft::spawn(connection));
        Client { sender }
    }

    async fn send(&mut self, method: &str, path: &str, body: &str) -> (u16, String) {
        use http_body_util::BodyExt;
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "hello")
            .body(http_body_util::Full::new(hyper::body::Bytes::from(
                body.to_owned(),
            )))
            .unwrap();
        self.sender.ready().await.unwrap();
        let response = self.sender.send_request(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }
}

#[test]
fn http_hello_answers_get_and_refuses_the_rest() {
    weft::block_on(async {
        let listener = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(http_hello::serve(listener, 3));
        let mut client = Client::connect(addr).await;
        let hello = (200, "Hello from weft\n".to_owned());
        assert_eq!(client.send("GET", "/", "").await, hello);
        assert_eq!(client.send("GET", "/again", "").await, hello, "keep-alive");
        let (status, _) = client.send("POST", "/", "hi").await;
        assert_eq!(status, 405);
        server.await.unwrap(); // it stops after 3 answers
    });
}

#[path = "../examples/block_on.rs"]
#[allow(dead_code, unreachable_pub)]
mod block_on;

#[test]
fn the_handmade_block_on_runs_handwritten_futures() {
    let expected = include_str!("../examples/output/block_on.txt");
    assert_eq!(output(block_on::run), expected);
}

/// The examples as programs: their command lines, run from the binaries
/// cargo builds (`cargo build --example ...`, done once by these tests).
mod command_line {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::path::PathBuf;
    use std::process::{Child, Command, Output, Stdio};
    use std::sync::{OnceLock, mpsc};
    use std::time::Duration;

    /// How long any one step may take before the test gives up.
    const BOUND: Duration = Duration::from_secs(30);
    const ECHO_SERVERS: [&str; 3] = ["echo_async", "echo_callbacks", "echo_promises"];
    /// The examples that serve with `--listen ADDR`.
    const SERVERS: [&str; 6] = [
        "echo_async",
        "echo_callbacks",
        "echo_promises",
        "chat",
        "http_hello",
        "web_chat",
    ];
    /// Every example but `http_server` and `http_client`, whose command
    /// lines are hyper's own examples'.
    const ALL: [&str; 14] = [
        "block_on",
        "chat",
        "compare",
        "echo_async",
        "echo_callbacks",
        "echo_promises",
        "first_steps",
        "http_hello",
        "macro_main",
        "replay",
        "request_reply",
        "timers",
        "web_chat",
        "work_queue",
    ];

    /// The path of example `name`'s binary, built (all at once) with
    /// the profile and target directory of this test binary.
    fn example(name: &str) -> PathBuf {
        static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        let dir = BUILT.get_or_init(|| {
            // This binary is <target>/<profile>/deps/examples-<hash>.
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let profile_dir = exe
                .parent()
                .and_then(|deps| deps.parent())
                .ok_or("no profile dir")?;
            let target_dir = profile_dir.parent().ok_or("no target dir")?;
            let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
                Some("debug") | None => "dev",
                Some(other) => other,
            };
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = Command::new(cargo);
            build
                .args(["build", "--quiet", "--profile", profile, "--target-dir"])
                .arg(target_dir)
                .arg("--manifest-path")
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
                .args(["--features", "macros,hyper"]);
            for name in ALL {
                build.args(["--example", name]);
            }
            let status = build.status().map_err(|e| e.to_string())?;
            if !status.success() {
                return Err(format!("building the examples failed: {status}"));
            }
            Ok(profile_dir.join("examples"))
        });
        dir.as_ref().expect("the examples build").join(name)
    }

    /// Kills the child when dropped, so a failing test leaves no server.
    struct Killed(Child);

    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// Runs example `name` with `args` to its end (at most `BOUND`).
    fn run(name: &str, args: &[&str]) -> Output {
        let child = Command::new(example(name))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(child.wait_with_output()));
        match rx.recv_timeout(BOUND) {
            Ok(output) => output.unwrap(),
            Err(_) => {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                panic!("{name} {args:?} did not exit");
            }
        }
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn every_example_answers_help() {
        for name in ALL {
            let out = run(name, &["--help"]);
            assert!(out.status.success(), "{name}: {:?}", out.status);
            assert!(text(&out.stdout).starts_with(&format!("usage: {name}")), "{name}");
        }
    }

    #[test]
    fn macro_main_runs_its_async_main() {
        let out = run("macro_main", &[]);
        assert!(out.status.success(), "{:?}: {}", out.status, text(&out.stderr));
        assert_eq!(
            text(&out.stdout),
            include_str!("../examples/output/macro_main.txt")
        );
    }

    #[test]
    fn a_bad_argument_is_one_sentence_and_a_failure() {
        for name in ALL {
            let out = run(name, &["--frobnicate"]);
            assert_eq!(out.status.code(), Some(2), "{name}");
            let err = text(&out.stderr);
            assert_eq!(
                err,
                format!("{name}: unknown argument \"--frobnicate\" (see --help)\n")
            );
        }
        for name in SERVERS {
            let out = run(name, &["--listen"]);
            assert_eq!(out.status.code(), Some(2), "{name}");
            let err = text(&out.stderr);
            assert!(err.contains("--listen needs an address"), "{name}: {err}");
            let out = run(name, &["--listen", "nowhere"]);
            assert!(!out.status.success(), "{name}");
            assert_eq!(
                text(&out.stderr),
                format!("{name}: cannot listen on nowhere: invalid socket address\n")
            );
        }
    }

    #[test]
    fn compare_refuses_counts_out_of_range_and_draws_no_progress_line_into_a_pipe() {
        for (flag, value, why) in [
            ("--connections", "0", "takes 1 to 1024, not 0"),
            ("--connections", "5000", "takes 1 to 1024, not 5000"),
            ("--signups", "0", "takes at least 1, not 0"),
        ] {
            let out = run("compare", &[flag, value]);
            assert_eq!(out.status.code(), Some(2), "{flag} {value}");
            assert_eq!(text(&out.stderr), format!("compare: {flag} {why} (see --help)\n"));
        }
        // Its stderr is a pipe here: no line redrawn with `\r`.
        let args = ["--signups", "40", "--connections", "2", "--mail-delay-ms", "0"];
        let out = run("compare", &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(!text(&out.stderr).contains('\r'), "{:?}", text(&out.stderr));
        assert!(text(&out.stdout).starts_with("40 sign-ups per style over 2 connections"));
    }

    #[test]
    fn an_address_in_use_is_named_and_a_failure() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        for name in SERVERS {
            let out = run(name, &["--listen", &addr]);
            assert!(!out.status.success(), "{name}");
            assert_ne!(out.status.code(), Some(0));
            assert_eq!(
                text(&out.stderr),
                format!("{name}: cannot listen on {addr}: address in use\n")
            );
        }
    }

    /// Starts example `name` with `--listen 127.0.0.1:0` and returns it
    /// with the first line it printed (where it listens).
    fn serve(name: &str) -> (Killed, String) {
        let mut server = Killed(
            Command::new(example(name))
                .args(["--listen", "127.0.0.1:0"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let stdout = server.0.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(BOUND).expect("the server says where it listens");
        (server, line)
    }

    #[test]
    fn web_chat_serves_its_page_with_listen() {
        let (server, line) = serve("web_chat");
        let addr = line
            .strip_prefix("listening on http://")
            .and_then(|rest| rest.split_once('/'))
            .unwrap_or_else(|| panic!("web_chat printed {line:?}"))
            .0;
        let mut client = TcpStream::connect(addr).unwrap();
        client.set_read_timeout(Some(BOUND)).unwrap();
        client.write_all(b"GET / HTTP/1.1\r\nHost: chat\r\n\r\n").unwrap();
        let mut page = String::new();
        client.read_to_string(&mut page).unwrap();
        assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
        assert!(page.contains("<title>weft chat</title>"));
        drop(server); // killed: it serves until then
    }

    #[test]
    fn http_hello_serves_with_listen() {
        let (server, line) = serve("http_hello");
        let addr = line
            .strip_prefix("listening on http://")
            .and_then(|rest| rest.split_once('/'))
            .unwrap_or_else(|| panic!("http_hello printed {line:?}"))
            .0;
        let mut client = TcpStream::connect(addr).unwrap();
        client.set_read_timeout(Some(BOUND)).unwrap();
        client.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.0 200 OK\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\nHello from weft\n"), "{answer}");
        drop(server); // killed: it serves until then
    }

    #[test]
    fn the_echo_servers_serve_a_client_with_listen() {
        for name in ECHO_SERVERS {
            // The first line names the port it chose.
            let (server, line) = serve(name);
            let addr = line
                .strip_prefix("listening on ")
                .unwrap_or_else(|| panic!("{name} printed {line:?}"))
                .trim();
            let mut client = TcpStream::connect(addr).unwrap();
            client.set_read_timeout(Some(BOUND)).unwrap();
            client.write_all(b"hello, nc\n").unwrap();
            let mut echoed = [0; 10];
            client.read_exact(&mut echoed).unwrap();
            assert_eq!(&echoed, b"hello, nc\n", "{name}");
            drop(server); // killed: it serves until then
        }
    }
}
