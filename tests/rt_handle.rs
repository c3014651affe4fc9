//! `Handle::block_on`: a future run through a handle, from threads that are
//! not the runtime's, sees the runtime's tasks, timers and sockets.

mod support;

use std::io::{Read, Write};
use std::thread;
use std::time::Duration;
use support::runtimes;
use weft::Handle;
use weft::net::TcpListener;
use weft::time::{Instant, sleep};

#[test]
fn handle_block_on_runs_a_spawned_task_with_a_timer() {
    for (flavour, rt) in runtimes() {
        let handle = rt.handle().clone();
        // Nobody else drives the runtime: a current-thread runtime's tasks
        // and timers run on this thread, inside `Handle::block_on`.
        let (value, waited) = thread::spawn(move || {
            handle.block_on(async {
                let start = Instant::now();
                let task = weft::spawn(async {
                    sleep(Duration::from_millis(10)).await;
                    42
                });
                (task.await.unwrap(), start.elapsed())
            })
        })
        .join()
        .unwrap();
        assert_eq!(value, 42, "{flavour}");
        assert!(waited >= Duration::from_millis(10), "{flavour}");
    }
}

#[test]
fn handle_block_on_uses_the_runtimes_sockets() {
    for (flavour, rt) in runtimes() {
        let handle = rt.handle().clone();
        let echoed = thread::spawn(move || {
            handle.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let peer = thread::spawn(move || {
                    let mut stream = std::net::TcpStream::connect(addr).unwrap();
                    stream.write_all(b"ping").unwrap();
                    let mut back = [0; 4];
                    stream.read_exact(&mut back).unwrap();
                    back
                });
                let server = weft::spawn(async move {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut buf = [0; 4];
                    stream.read_exact(&mut buf).await.unwrap();
                    stream.write_all(&buf).await.unwrap();
                });
                server.await.unwrap();
                peer.join().unwrap()
            })
        })
        .join()
        .unwrap();
        assert_eq!(&echoed, b"ping", "{flavour}");
    }
}

#[test]
fn handle_block_on_from_a_blocking_task_while_block_on_runs() {
    // The main thread is inside `Runtime::block_on` (on a current-thread
    // runtime it holds the tasks); the blocking thread's future waits on a
    // timer and a task all the same.
    for (flavour, rt) in runtimes() {
        let value = rt.block_on(async {
            weft::task::spawn_blocking(|| {
                Handle::current().block_on(async {
                    let task = weft::spawn(async {
                        sleep(Duration::from_millis(5)).await;
                        5
                    });
                    sleep(Duration::from_millis(5)).await;
                    task.await.unwrap()
                })
            })
            .await
            .unwrap()
        });
        assert_eq!(value, 5, "{flavour}");
    }
}

#[test]
fn handle_block_on_inside_the_runtime_panics() {
    for (flavour, rt) in runtimes() {
        let handle = rt.handle().clone();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async { handle.block_on(async {}) })
        }));
        assert!(caught.is_err(), "{flavour}");
        assert_eq!(rt.handle().block_on(async { 1 }), 1, "{flavour}");
    }
}

/// A `LocalSet` on the facade's runtime, as a tokio user writes it: local
/// tasks use the runtime's timers and share `Rc` state.
#[test]
fn a_local_set_blocks_on_the_facade_runtime_with_timers() {
    use std::rc::Rc;
    use std::time::Duration;
    for rt in [
        weft::Runtime::builder().current_thread().build().unwrap(),
        weft::Runtime::builder().worker_threads(2).build().unwrap(),
    ] {
        let local = weft::task::LocalSet::new();
        let shared = Rc::new(std::cell::Cell::new(0));
        let seen = shared.clone();
        let total = local.block_on(&rt, async move {
            let tasks: Vec<_> = (1..=3)
                .map(|n| {
                    let shared = shared.clone();
                    weft::task::spawn_local(async move {
                        weft::time::sleep(Duration::from_millis(n)).await;
                        shared.set(shared.get() + n);
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            shared.get()
        });
        assert_eq!(total, 6);
        assert_eq!(seen.get(), 6);
    }
}
