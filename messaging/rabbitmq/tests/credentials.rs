//! Credentials from the environment never show: not in lapin's logs
//! (captured at TRACE for the whole run), not in errors, not in `Debug` or
//! `Display` of the URI, the connection or its statuses, through a
//! connect, a refused password, a connection loss and its recovery; and a
//! password changed under a connection makes its recovery give up at once
//! with `AccessRefused`.
//!
//! A binary of its own: it installs the global log subscriber, sets an
//! environment variable, and closes every connection of its node.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft::queue::Utf8;
use weft_rabbitmq::{Connection, Error, QueueOptions, Status, Uri};
use weft_test_support::rabbitmq::broker;

const USER: &str = "weft-env";
/// Distinctive, so that any leak is found.
const SECRET: &str = "Pw-7f3a9c-from-the-env";
const VAR: &str = "WEFT_TEST_CREDENTIALS_AMQP_URI";

/// Everything logged, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn set_env(value: &str) {
    // SAFETY: this binary's only test is the one thread touching the
    // environment: it sets the variable before it starts a runtime, and
    // nothing else of this process reads or writes the environment then.
    unsafe { std::env::set_var(VAR, value) };
}

fn assert_hidden(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "the password shows in {what}: {text}");
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn credentials_from_the_environment_never_show_in_logs_errors_or_debug() {
    let Some(broker) = broker() else { return };
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_writer(move || writer.clone())
        .init();
    broker.ctl(&["add_user", USER, SECRET]).unwrap();
    broker
        .ctl(&["set_permissions", "-p", "/", USER, ".*", ".*", ".*"])
        .unwrap();

    // A URI the environment holds that is not a URI: the error hides it.
    set_env(&format!("amqp://{USER}:{SECRET}@[::1/%2f"));
    let err = Uri::from_env(VAR).unwrap_err();
    assert!(matches!(err, Error::InvalidUri { .. }), "{err:?}");
    assert!(err.to_string().contains(VAR), "{err}");
    assert_hidden("an invalid uri's error", &format!("{err} {err:?}"));

    // A wrong password from the environment: a typed error, no secret.
    let wrong = format!("{SECRET}-but-wrong");
    set_env(&broker.uri_with(USER, &wrong, "%2f"));
    let refused = Uri::from_env(VAR).unwrap();
    set_env(&broker.uri_with(USER, SECRET, "%2f"));
    let uri = Uri::from_env(VAR).unwrap();
    assert_hidden("the uri", &format!("{uri} {uri:?}"));
    assert_eq!(uri.user(), USER);

    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let kit = weft::compat::async_rs::current;
        let err = Connection::connect_uri_with_runtime(refused, kit())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::AccessRefused { .. }), "{err:?}");
        assert!(!format!("{err} {err:?}").contains(&wrong), "{err:?}");

        let conn = Connection::connect_uri_with_runtime(uri, kit()).await.unwrap();
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let (seen, (tx, mut rx)) = (statuses.clone(), weft::sync::mpsc::unbounded_channel());
        conn.on_status(move |status: &Status| {
            seen.lock().unwrap().push(format!("{status} {status:?}"));
            let _ = tx.send(status.is_connected());
        });
        let queue = weft_rabbitmq::queue(&conn, "weft-credentials", &QueueOptions::new(), Utf8)
            .await
            .unwrap();
        queue.producer().publish("before".to_string()).await.unwrap();

        // A loss and its recovery log and report too.
        broker
            .ctl(&["close_all_connections", "closed by the test"])
            .unwrap();
        let recovered = weft::time::timeout(Duration::from_secs(45), async {
            while let Some(connected) = rx.recv().await {
                if connected {
                    return;
                }
            }
        })
        .await;
        assert!(recovered.is_ok(), "no recovery");
        queue.producer().publish("after".to_string()).await.unwrap();
        let mut consumer = queue.consumer();
        for _ in 0..2 {
            let delivery = weft::time::timeout(Duration::from_secs(30), consumer.recv())
                .await
                .unwrap()
                .unwrap();
            delivery.ack().unwrap();
        }
        assert_hidden("the connection", &format!("{conn:?}"));
        assert_hidden("the queue", &format!("{queue:?}"));

        // The password changed under it: the reconnect is refused, and
        // that is final (a typed error, not a retry loop).
        broker.ctl(&["change_password", USER, "changed"]).unwrap();
        broker
            .ctl(&["close_all_connections", "closed by the test"])
            .unwrap();
        let gave_up = weft::time::timeout(Duration::from_secs(45), async {
            loop {
                if conn.status().is_ended() {
                    return conn.status();
                }
                rx.recv().await.expect("status callbacks stay");
            }
        })
        .await
        .expect("recovery never gave up");
        match &gave_up {
            Status::GaveUp { error } => {
                assert!(matches!(**error, Error::AccessRefused { .. }), "{error:?}");
            }
            other => panic!("expected GaveUp, got {other:?}"),
        }
        let publish = queue.producer().publish("refused".to_string()).await;
        assert!(publish.is_err(), "{publish:?}");

        let statuses = statuses.lock().unwrap().join("\n");
        assert!(statuses.contains("lost"), "{statuses}");
        assert!(statuses.contains("gave up"), "{statuses}");
        assert_hidden("the statuses", &statuses);
    });

    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("TRACE"),
        "nothing was logged: the check would be empty"
    );
    assert_hidden("the logs", &logs);
}
