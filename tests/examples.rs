//! Runs each example with small inputs and checks what it prints, so an
//! example that breaks fails the test suite.

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
    let three = include_str!("../examples/output/echo.txt");
    assert_eq!(output(echo_async::run), three);
    assert_eq!(output(echo_promises::run), three);
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
    let out = output(replay::run);
    let expected_tail = "\
published order #6 at offset 5
a late subscriber replays the retained window: order #3@2, order #4@3, order #5@4, order #6@5
from offset 4: order #5
the live subscriber lagged: 2 events skipped
and goes on with order #3 at offset 2
";
    assert!(out.starts_with("published order #1 at offset 0\n"), "{out}");
    assert!(out.ends_with(expected_tail), "{out}");
}

#[path = "../examples/chat.rs"]
#[allow(dead_code, unreachable_pub)]
mod chat;

#[test]
fn chat_relays_joins_messages_and_leaves_through_the_bus() {
    let expected = include_str!("../examples/output/chat.txt");
    assert_eq!(output(chat::run), expected);
}

#[path = "../examples/http_hello.rs"]
#[allow(dead_code, unreachable_pub)]
mod http_hello;

#[test]
fn http_hello_answers_get_and_refuses_the_rest() {
    weft::block_on(async {
        let listener = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = weft::spawn(http_hello::serve(listener, 3));
        let mut stream = weft::net::TcpStream::connect(addr).await.unwrap();
        let mut reader = http_hello::http::Reader::new();
        let mut ask = async |request: &str| {
            stream.write_all(request.as_bytes()).await.unwrap();
            http_hello::http::read_response(&mut stream, &mut reader)
                .await
                .unwrap()
        };
        let hello = (200, "Hello from weft\n".to_owned());
        assert_eq!(ask("GET / HTTP/1.1\r\nHost: x\r\n\r\n").await, hello);
        assert_eq!(ask("GET /again HTTP/1.1\r\n\r\n").await, hello, "keep-alive");
        let (status, _) = ask("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi").await;
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
