//! The queue when the connection dies: a publish sent but not confirmed
//! is `StoreError::Unknown` (and may well be stored), never `NotStored`.
//!
//! The client reaches the broker through a loopback proxy of the test's
//! own, which can hold back what the broker sends and cut the connection:
//! the broker's confirm reaches the proxy, which tells the test and drops
//! it, and the test then cuts the connection, so the client never learns
//! the outcome.

use crate::unique;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft::queue::{AckError, PublishError, RecvError, Utf8};
use weft_rabbitmq::lapin::options::QueueDeclareOptions;
use weft_rabbitmq::lapin::types::FieldTable;
use weft_rabbitmq::{Connection, QueueOptions};
use weft_test_support::rabbitmq::broker;

/// A one-connection proxy to the broker.
struct Proxy {
    port: u16,
    /// While set, what the broker sends is dropped, and `held` told.
    hold: Arc<AtomicBool>,
    /// Both sockets, once the client connected, to cut them.
    sockets: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(broker_port: u16, held: weft::sync::mpsc::UnboundedSender<()>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = Arc::new(AtomicBool::new(false));
        let sockets = Arc::new(Mutex::new(Vec::new()));
        let (hold2, sockets2) = (hold.clone(), sockets.clone());
        std::thread::spawn(move || {
            let (client, _) = listener.accept().unwrap();
            let server = TcpStream::connect(("127.0.0.1", broker_port)).unwrap();
            sockets2
                .lock()
                .unwrap()
                .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
            let (mut client_in, mut server_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || pump(&mut client_in, &mut server_out, None));
            let (mut server_in, mut client_out) = (server, client);
            pump(&mut server_in, &mut client_out, Some((&hold2, &held)));
        });
        Proxy { port, hold, sockets }
    }

    fn cut(&self) {
        for socket in self.sockets.lock().unwrap().iter() {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
}

/// Copies `from` into `to` until either closes; with `hold`, drops what
/// arrives while it is set, and says so.
fn pump(
    from: &mut TcpStream,
    to: &mut TcpStream,
    hold: Option<(&AtomicBool, &weft::sync::mpsc::UnboundedSender<()>)>,
) {
    let mut buf = [0; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some((hold, held)) = hold
            && hold.load(Ordering::SeqCst)
        {
            let _ = held.send(());
            continue;
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Both);
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_publish_whose_confirm_is_lost_with_the_connection_is_unknown_not_unstored() {
    let Some(broker) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let (held_tx, mut held_rx) = weft::sync::mpsc::unbounded_channel();
        let proxy = Proxy::start(broker.port(), held_tx);
        let through = format!("amqp://guest:guest@127.0.0.1:{}/%2f", proxy.port);
        let kit = weft::compat::async_rs::current();
        let conn = Connection::connect_with_runtime(&through, kit).await.unwrap();
        let name = unique("weft-loss");
        let queue = weft_rabbitmq::queue(&conn, &name, &QueueOptions::new(), Utf8)
            .await
            .unwrap();

        proxy.hold.store(true, Ordering::SeqCst);
        let producer = queue.producer();
        let publishing = weft::spawn(async move { producer.publish("in doubt".to_string()).await });
        // The broker answered (its confirm reached the proxy, and no further).
        let answered = weft::time::timeout(Duration::from_secs(30), held_rx.recv()).await;
        assert!(matches!(answered, Ok(Some(()))), "the broker never answered");
        proxy.cut();

        let result = weft::time::timeout(Duration::from_secs(30), publishing)
            .await
            .expect("the publish never ended")
            .unwrap();
        match result {
            Err(PublishError::Store(store)) => assert!(store.is_unknown(), "{store:?}"),
            other => panic!("expected an unknown outcome, got {other:?}"),
        }
        assert_eq!(queue.stats().published, 0);

        // Unknown, not lost: the broker did store it.
        let direct = Connection::connect_with_runtime(&broker.uri(), weft::compat::async_rs::current())
            .await
            .unwrap();
        let channel = direct.channel().await.unwrap();
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let stored = channel
            .queue_declare(name.as_str().into(), passive, FieldTable::default())
            .await
            .unwrap()
            .message_count();
        assert_eq!(stored, 1);
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn deliveries_in_hand_when_the_connection_dies_fail_their_ack_and_come_back() {
    let Some(broker) = broker() else { return };
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let (held_tx, _held_rx) = weft::sync::mpsc::unbounded_channel();
        let proxy = Proxy::start(broker.port(), held_tx);
        let through = format!("amqp://guest:guest@127.0.0.1:{}/%2f", proxy.port);
        let kit = weft::compat::async_rs::current();
        let conn = Connection::connect_with_runtime(&through, kit).await.unwrap();
        let name = unique("weft-loss");
        let queue = weft_rabbitmq::queue(&conn, &name, &QueueOptions::new(), Utf8)
            .await
            .unwrap();
        queue.producer().publish("in hand".to_string()).await.unwrap();
        let mut consumer = queue.consumer();
        let in_hand = weft::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .unwrap()
            .unwrap();

        proxy.cut();
        // The consumer learns of it as an error, not as the queue's end.
        let ended = weft::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .expect("the consumer never learned of the loss");
        assert!(matches!(ended, Err(RecvError::Store(_))), "{ended:?}");
        match in_hand.ack() {
            Err(AckError::Store(store)) => assert!(!store.is_unknown(), "{store:?}"),
            other => panic!("expected a store error, got {other:?}"),
        }

        // The broker gave it back.
        let direct = Connection::connect_with_runtime(&broker.uri(), weft::compat::async_rs::current())
            .await
            .unwrap();
        let queue = weft_rabbitmq::queue(&direct, &name, &QueueOptions::new(), Utf8)
            .await
            .unwrap();
        let mut consumer = queue.consumer();
        let again = weft::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((again.as_str(), again.delivery_count()), ("in hand", 2));
        again.ack().unwrap();
    });
}
