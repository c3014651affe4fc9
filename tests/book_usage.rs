//! The code of the book's "Using weft" chapter, run as tests: spawning
//! tasks and joining them, channels between tasks, a request and its reply,
//! an echo server over loopback, and timeouts on the paused clock. Each
//! test uses only `weft`'s public API and the standard library.

use std::time::Duration;
use weft::sync::{mpsc, oneshot};
use weft::time::{Elapsed, timeout};

// ANCHOR: spawn-join
#[test]
fn spawned_tasks_run_and_their_handles_give_back_the_value() {
    weft::block_on(async {
        // `spawn` starts a task at once and hands back a JoinHandle.
        let handle = weft::spawn(async { 6 * 7 });
        // Awaiting the handle waits for the task: Ok(value), or a JoinError
        // if it panicked or was aborted.
        assert_eq!(handle.await.unwrap(), 42);

        // A task that never finishes, aborted: its handle says so.
        let forever = weft::spawn(std::future::pending::<()>());
        assert!(!forever.is_finished());
        forever.abort();
        assert!(forever.await.unwrap_err().is_cancelled());
    });
}
// ANCHOR_END: spawn-join

// ANCHOR: mpsc
#[test]
fn three_producers_one_consumer() {
    weft::block_on(async {
        // A bounded channel: at most 8 messages wait in it; a ninth `send`
        // waits for room, so a fast producer cannot outrun the consumer.
        let (tx, mut rx) = mpsc::channel::<String>(8);
        for worker in 0..3 {
            let tx = tx.clone();
            weft::spawn(async move {
                for job in 0..2 {
                    tx.send(format!("worker {worker}, job {job}")).await.unwrap();
                }
                // `tx` is dropped here, when the task ends.
            });
        }
        // Drop the original too: `recv` gives `None` once every sender is gone.
        drop(tx);
        let mut received = Vec::new();
        while let Some(message) = rx.recv().await {
            received.push(message);
        }
        received.sort();
        assert_eq!(received.len(), 6);
        assert_eq!(received[0], "worker 0, job 0");
    });
}
// ANCHOR_END: mpsc

// ANCHOR: request-reply
/// What the counter task understands: a command, and where to send the answer.
enum Command {
    Add(u64),
    Get(oneshot::Sender<u64>),
}

/// One task owns the count; others talk to it through a channel.
async fn counter(mut commands: mpsc::Receiver<Command>) {
    let mut count = 0;
    while let Some(command) = commands.recv().await {
        match command {
            Command::Add(n) => count += n,
            // The asker may have given up: a failed reply is not our problem.
            Command::Get(reply) => drop(reply.send(count)),
        }
    }
}

#[test]
fn a_task_owns_the_state_and_answers_over_a_oneshot() {
    weft::block_on(async {
        let (tx, rx) = mpsc::channel(16);
        let owner = weft::spawn(counter(rx));
        for n in 1..=4 {
            tx.send(Command::Add(n)).await.unwrap();
        }
        let (reply_tx, reply_rx) = oneshot::channel();
        tx.send(Command::Get(reply_tx)).await.unwrap();
        assert_eq!(reply_rx.await.unwrap(), 10);
        // Closing the channel ends the owner's loop, and the task.
        drop(tx);
        owner.await.unwrap();
    });
}
// ANCHOR_END: request-reply

// ANCHOR: timeout
#[test]
fn a_timeout_gives_up_on_the_paused_clock() {
    weft::block_on(async {
        // A paused clock moves only when every task waits on it, so this
        // test takes no real time and never depends on the machine's speed.
        weft::time::pause();
        let (_tx, mut rx) = mpsc::channel::<u32>(1);
        // Nobody sends: after 5 s of (paused) time, `timeout` drops the
        // `recv` and answers Err(Elapsed).
        let waited = timeout(Duration::from_secs(5), rx.recv()).await;
        assert!(matches!(waited, Err(Elapsed { .. })));

        // A future that finishes in time gives Ok(its output).
        let quick = timeout(Duration::from_secs(5), async { "done" }).await;
        assert_eq!(quick, Ok("done"));
    });
}
// ANCHOR_END: timeout

// ANCHOR: question-mark
/// `?` works in an `async fn` as in any other: the error returns early.
async fn echo_once(message: &[u8]) -> std::io::Result<Vec<u8>> {
    let listener = weft::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = weft::spawn(async move {
        let (mut stream, _) = listener.accept().await?;
        let mut buf = [0; 64];
        let n = stream.read(&mut buf).await?;
        stream.write_all(&buf[..n]).await
    });
    let mut client = weft::net::TcpStream::connect(addr).await?;
    client.write_all(message).await?;
    let mut reply = vec![0; message.len()];
    client.read_exact(&mut reply).await?;
    // The server's own io::Result comes back through its JoinHandle.
    server.await.expect("the server task did not panic")?;
    Ok(reply)
}

#[test]
fn one_echo_over_loopback() {
    let reply = weft::block_on(echo_once(b"ping")).unwrap();
    assert_eq!(reply, b"ping");
}
// ANCHOR_END: question-mark
