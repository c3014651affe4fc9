//! Dropping a runtime while sockets and timers are pending closes every
//! file descriptor and drops every future before `drop` returns.
//!
//! One test in its own binary: it counts the process's open descriptors,
//! which tests running beside it would disturb.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::oneshot;
use weft::net::{TcpListener, TcpStream, UdpSocket};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("procfs").count()
}

/// Counts its drops.
struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn dropping_the_runtime_closes_every_fd_and_drops_every_future() {
    let before = open_fds();
    for current_thread in [true, false] {
        let mut builder = weft::Runtime::builder();
        if current_thread {
            builder.current_thread();
        } else {
            builder.worker_threads(2);
        }
        let rt = builder.build().unwrap();
        let dropped = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut started = Vec::new();

            // Accepts one connection, then waits for bytes that never come.
            let (tx, rx) = oneshot();
            started.push(rx);
            let guard = Dropped(dropped.clone());
            weft::spawn(async move {
                let _guard = guard;
                let (mut stream, _) = listener.accept().await.unwrap();
                tx.send(());
                let mut buf = [0; 8];
                let _ = stream.read(&mut buf).await;
                unreachable!("nothing is ever sent");
            });

            // Holds the client end and sleeps for an hour.
            let client = TcpStream::connect(addr).await.unwrap();
            let (tx, rx) = oneshot();
            started.push(rx);
            let guard = Dropped(dropped.clone());
            weft::spawn(async move {
                let _guard = guard;
                let _client = client;
                tx.send(());
                weft::time::sleep(Duration::from_secs(3600)).await;
            });

            // Waits for a datagram that never comes.
            let (tx, rx) = oneshot();
            started.push(rx);
            let guard = Dropped(dropped.clone());
            weft::spawn(async move {
                let _guard = guard;
                let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                tx.send(());
                let mut buf = [0; 8];
                let _ = socket.recv_from(&mut buf).await;
            });

            for rx in started {
                rx.await;
            }
        });
        assert!(open_fds() > before, "the sockets are open while the runtime runs");
        drop(rt);
        assert_eq!(dropped.load(Ordering::SeqCst), 3, "every future dropped");
        assert_eq!(open_fds(), before, "current_thread: {current_thread}");
    }
}
