//! Connecting: credentials never shown, refused credentials and vhosts as
//! typed errors, an unreachable broker as an I/O error.

use crate::{runtimes, unique};
use weft_rabbitmq::{Connection, Error};
use weft_test_support::rabbitmq::{Broker, broker};

/// A user of its own with `password`, allowed everything on vhost `/`.
fn user_with_password(broker: &Broker, password: &str) -> String {
    let user = unique("weft-user");
    broker.ctl(&["add_user", &user, password]).unwrap();
    broker
        .ctl(&["set_permissions", "-p", "/", &user, ".*", ".*", ".*"])
        .unwrap();
    user
}

async fn connect(uri: &str) -> Result<Connection, Error> {
    Connection::connect_with_runtime(uri, weft::compat::async_rs::current()).await
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn the_password_shows_in_no_debug_display_or_error() {
    let Some(broker) = broker() else { return };
    let secret = "pw-7c1e9-secret";
    let user = user_with_password(broker, secret);
    for (name, rt) in runtimes() {
        let uri = broker.uri_with(&user, secret, "%2f");
        let conn = rt.block_on(connect(&uri)).unwrap();
        for shown in [
            format!("{conn:?}"),
            conn.uri().to_string(),
            format!("{:?}", conn.uri()),
        ] {
            assert!(!shown.contains(secret), "{name}: {shown}");
            assert!(shown.contains(&user), "{name}: {shown}");
        }
        rt.block_on(conn.close()).unwrap();

        let wrong = "wrong-4d2a-secret";
        let err = rt
            .block_on(connect(&broker.uri_with(&user, wrong, "%2f")))
            .unwrap_err();
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains(wrong), "{name}: {shown}");
        }
    }
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_wrong_password_is_access_refused_at_connect() {
    let Some(broker) = broker() else { return };
    let user = user_with_password(broker, "right");
    for (name, rt) in runtimes() {
        // ANCHOR: wrong-password
        let err = rt
            .block_on(connect(&broker.uri_with(&user, "wrong", "%2f")))
            .unwrap_err();
        assert!(
            matches!(&err, Error::AccessRefused { user: refused } if *refused == user),
            "{name}: {err:?}"
        );
        // ANCHOR_END: wrong-password
        // An unknown user is refused the same way.
        let err = rt
            .block_on(connect(&broker.uri_with("nobody-here", "x", "%2f")))
            .unwrap_err();
        assert!(matches!(err, Error::AccessRefused { .. }), "{name}: {err:?}");
    }
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_missing_or_forbidden_vhost_is_vhost_refused_at_connect() {
    let Some(broker) = broker() else { return };
    let forbidden = unique("weft-private");
    broker.ctl(&["add_vhost", &forbidden]).unwrap();
    for (name, rt) in runtimes() {
        for vhost in ["no-such-vhost", forbidden.as_str()] {
            let err = rt
                .block_on(connect(&broker.uri_with("guest", "guest", vhost)))
                .unwrap_err();
            assert!(
                matches!(&err, Error::VhostRefused { vhost: v, user } if v == vhost && user == "guest"),
                "{name}, {vhost}: {err:?}"
            );
        }
    }
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn an_unreachable_broker_is_an_io_error() {
    // Needs no broker, but lapin's connect is what is under test.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    for (name, rt) in runtimes() {
        let err = rt
            .block_on(connect(&format!("amqp://guest:guest@127.0.0.1:{port}/%2f")))
            .unwrap_err();
        assert!(
            matches!(&err, Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn an_invalid_uri_is_refused_before_any_connect() {
    let rt = weft::Runtime::new().unwrap();
    let err = rt.block_on(connect("http://user:hunter2@host/")).unwrap_err();
    assert!(matches!(err, Error::InvalidUri { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("hunter2"));
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn dropping_the_runtime_under_a_live_connection_returns() {
    let Some(broker) = broker() else { return };
    for (name, rt) in runtimes() {
        let conn = rt.block_on(connect(&broker.uri())).unwrap();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            drop(rt);
            let _ = done_tx.send(());
        });
        let dropped = done_rx.recv_timeout(std::time::Duration::from_secs(60));
        assert!(dropped.is_ok(), "{name}: the runtime's drop hung under lapin");
        drop(conn);
    }
}
