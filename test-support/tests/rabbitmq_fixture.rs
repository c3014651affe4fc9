//! The private RabbitMQ node: it serves AMQP on its own port, answers
//! `rabbitmqctl`, and is gone once the test process that started it ends.
#![cfg(feature = "rabbitmq")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use weft_test_support::rabbitmq::{broker, wait_for_exit};

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn the_node_speaks_amqp_on_its_own_port_and_answers_ctl() {
    let Some(broker) = broker() else { return };
    let mut stream = TcpStream::connect(("127.0.0.1", broker.port())).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(b"AMQP\x00\x00\x09\x01").unwrap();
    // The server's first frame: a method frame (type 1) on channel 0,
    // `connection.start` (class 10, method 10).
    let mut head = [0; 11];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(head[0], 1);
    assert_eq!(&head[1..3], &[0, 0]);
    assert_eq!(&head[7..11], &[0, 10, 0, 10]);

    let status = broker.ctl(&["status"]).unwrap();
    assert!(String::from_utf8_lossy(&status.stdout).contains(broker.node()));
    assert!(
        broker
            .uri()
            .ends_with(&format!("127.0.0.1:{}/%2f", broker.port()))
    );
}

/// Set in the child process of [`the_node_is_stopped_when_its_process_ends`].
const CHILD: &str = "WEFT_FIXTURE_CHILD";

#[test]
#[cfg_attr(
    weft_no_rabbitmq,
    ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server"
)]
fn the_node_is_stopped_when_its_process_ends() {
    if std::env::var_os(CHILD).is_some() {
        // The child: start a node, say which, and end without any cleanup.
        let Some(broker) = broker() else { return };
        let pid = std::fs::read_to_string(broker.dir().join("pid")).unwrap();
        let mut out = std::io::stdout();
        writeln!(out, "BEAM_PID={}", pid.trim()).unwrap();
        writeln!(out, "NODE_DIR={}", broker.dir().display()).unwrap();
        writeln!(out, "GUARDIAN_PID={}", broker.guardian_pid()).unwrap();
        out.flush().unwrap();
        std::process::exit(0);
    }
    if weft_test_support::rabbitmq::scripts_dir().is_none() {
        return;
    }
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "the_node_is_stopped_when_its_process_ends",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "child failed: {stdout}{}",
        String::from_utf8_lossy(&child.stderr)
    );
    let field = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in: {stdout}"))
            .to_owned()
    };
    let beam: u32 = field("BEAM_PID=").parse().unwrap();
    let guardian: u32 = field("GUARDIAN_PID=").parse().unwrap();
    let dir = field("NODE_DIR=");
    // The guardian stops the node and then removes its directory: once it
    // has exited, both must be gone (bounded, the stop takes seconds).
    let bound = Duration::from_secs(120);
    assert!(
        wait_for_exit(guardian, bound).unwrap(),
        "the guardian ({guardian}) outlived its test process by 2 minutes"
    );
    assert!(
        wait_for_exit(beam, Duration::ZERO).unwrap(),
        "the node's VM ({beam}) outlived its guardian"
    );
    assert!(!Path::new(&dir).exists(), "{dir} outlived the node");
}
