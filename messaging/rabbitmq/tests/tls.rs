//! `amqps://` (feature `tls`) against a private node with a TLS listener
//! whose certificates this test makes with the `openssl` tool: a CA of
//! its own and a server certificate it signs for 127.0.0.1. Run with
//! `cargo test -p weft-rabbitmq --features tls --test tls`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use weft::queue::Utf8;
use weft_rabbitmq::{Connection, Error, QueueOptions, Uri};
use weft_test_support::rabbitmq::{Broker, broker_with_config};

/// A bound on every wait, so that a broken broker fails the test rather
/// than hanging it. Never asserted on.
const BOUND: Duration = Duration::from_secs(30);

/// The CA certificate (PEM) and the TLS port of the node, started once.
struct TlsNode {
    _broker: Broker,
    ca: String,
    port: u16,
}

/// Runs `openssl` with `args` in `dir`, failing the test if it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a server certificate for 127.0.0.1 signed by it, in a fresh
/// directory: `ca.pem`, `server.pem`, `server.key`.
fn certificates() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("weft-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let days = ["-days", "2"];
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=weft test ca",
            days[0],
            days[1],
        ],
    );
    openssl(
        &dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-extfile",
            "server.ext",
            days[0],
            days[1],
        ],
    );
    dir
}

/// The node of this binary, with a TLS listener on a free loopback port;
/// `None` where `rabbitmq-server` is not installed.
fn node() -> Option<&'static TlsNode> {
    static NODE: OnceLock<Option<TlsNode>> = OnceLock::new();
    NODE.get_or_init(|| {
        weft_test_support::rabbitmq::scripts_dir()?;
        let dir = certificates();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let file = |name: &str| dir.join(name).display().to_string();
        let config = format!(
            "listeners.ssl.default = 127.0.0.1:{port}\n\
             ssl_options.cacertfile = {}\n\
             ssl_options.certfile = {}\n\
             ssl_options.keyfile = {}\n\
             ssl_options.verify = verify_none\n\
             ssl_options.fail_if_no_peer_cert = false\n",
            file("ca.pem"),
            file("server.pem"),
            file("server.key"),
        );
        let broker = broker_with_config(&config)?;
        let ca = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
        Some(TlsNode {
            _broker: broker,
            ca,
            port,
        })
    })
    .as_ref()
}

async fn connect(uri: Uri) -> Result<Connection, Error> {
    let kit = weft::compat::async_rs::current();
    match weft::time::timeout(BOUND, Connection::connect_uri_with_runtime(uri, kit)).await {
        Ok(connected) => connected,
        Err(_) => panic!("no answer to the tls handshake within {BOUND:?}"),
    }
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_queue_round_trip_runs_over_amqps_with_the_test_ca() {
    let Some(node) = node() else { return };
    // ANCHOR: amqps
    let uri = Uri::parse(&format!("amqps://guest:guest@127.0.0.1:{}/%2f", node.port))
        .unwrap()
        .with_tls_roots(node.ca.clone());
    // ANCHOR_END: amqps
    let rt = weft::Runtime::new().unwrap();
    rt.block_on(async {
        let conn = connect(uri).await.unwrap();
        let jobs = weft_rabbitmq::queue(&conn, "weft-tls", &QueueOptions::new(), Utf8)
            .await
            .unwrap();
        jobs.producer().publish("over tls".to_string()).await.unwrap();
        // The consumer outlives the delivery: dropping it would requeue.
        let mut consumer = jobs.consumer();
        let job = weft::time::timeout(BOUND, consumer.recv())
            .await
            .expect("a delivery within the bound")
            .unwrap();
        assert_eq!(*job, "over tls");
        job.ack().unwrap();
        conn.close().await.unwrap();
    });
}

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn a_broker_certificate_from_an_unknown_ca_is_refused_at_connect() {
    let Some(node) = node() else { return };
    // The system's roots only: the test CA is not among them.
    let uri = Uri::parse(&format!("amqps://guest:guest@127.0.0.1:{}/%2f", node.port)).unwrap();
    let rt = weft::Runtime::new().unwrap();
    let refused = rt.block_on(connect(uri));
    let err = refused.expect_err("a certificate no root vouches for was accepted");
    // A typed error at connect, naming the cause ("invalid peer
    // certificate: UnknownIssuer"), not a retry loop.
    assert!(matches!(err, Error::Io(_)), "{err:?}");
    assert!(err.to_string().contains("certificate"), "{err}");
}
