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
    let expected = "\
started a runtime with 4 worker threads
1 000 tasks squared their numbers; the squares add up to 333833500
the blocking pool found that 20! has 19 digits
an aborted task reports: task was cancelled
a panicking task reports: task panicked with message \"something went wrong\"
is the runtime still running? yes
the runtime shut down; every task has finished or been cancelled
on one thread, a JoinSet saw tasks finish in this order: quick, medium, slow
";
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
    let three = "\
sent \"hello\", got back \"hello\"
sent \"is anyone there?\", got back \"is anyone there?\"
sent \"bye\", got back \"bye\"
";
    assert_eq!(output(echo_async::run), three);
    assert_eq!(output(echo_promises::run), three);
    assert_eq!(
        output(echo_callbacks::run),
        "sent 3 messages, got back \"hellois anyone there?bye\"\n"
    );
}

#[path = "../examples/timers.rs"]
#[allow(dead_code, unreachable_pub)]
mod timers;

#[test]
fn timers_fire_at_their_times_on_the_paused_clock() {
    let expected = "   250 ms  sleep(250 ms) finished
   350 ms  timeout(100 ms) gave up on an hour-long sleep
   350 ms  interval tick 1 (the first tick is at once)
   550 ms  interval tick 2
   750 ms  interval tick 3
   900 ms  set_interval(150 ms) beat 1 (150 ms after it was set)
  1050 ms  set_interval(150 ms) beat 2 (300 ms after it was set)
  1200 ms  set_interval(150 ms) beat 3 (450 ms after it was set)
  1250 ms  set_timeout(500 ms) fired (500 ms after it was set)
  1270 ms  done; the heartbeat is cancelled
";
    assert_eq!(output(timers::run), expected);
}

#[path = "../examples/work_queue.rs"]
#[allow(dead_code, unreachable_pub)]
mod work_queue;

#[test]
fn work_queue_shares_jobs_and_dead_letters_the_poison() {
    let expected = "\
ada and grace acked 6 jobs between them: resize 1, resize 2, resize 3, resize 4, resize 5, resize 6
stats: 7 published, 6 acked, 1 dead-lettered
dead letter: \"poison\", reason MaxDeliveries, attempts: nacked, nacked, nacked
";
    assert_eq!(output(work_queue::run), expected);
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
    let expected = "  ada hears welcome, ada
  bob hears welcome, bob
  ada hears * bob joined
  ada says  hi bob
  bob hears ada: hi bob
  bob says  hi ada, bye ada
  ada hears bob: hi ada, bye ada
  ada hears * bob left
";
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
