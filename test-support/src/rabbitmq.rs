//! A private RabbitMQ node per test binary.
//!
//! [`broker`] starts one node the first time a test of the binary asks for
//! it, and every later test shares it. The node is the machine's own
//! `rabbitmq-server` (Debian's package) run as a private instance: its own
//! node name, AMQP, distribution and epmd ports (picked free on loopback),
//! config, cookie, pid file, data and log directories, all under
//! `target/rabbitmq/<node>/`. Starting takes about 8 s.
//!
//! # Stopping
//!
//! Rust never drops statics, so the node is not stopped by a destructor: a
//! *guardian* process, started before the node in a session of its own,
//! holds the read end of a pipe whose write end only this process holds.
//! When this process ends — tests done, a panic, even `SIGKILL` — the pipe
//! closes and the guardian stops the node (`rabbitmqctl stop`, `kill -9` as
//! the fallback), kills the node's private epmd and removes the node's
//! directory. Nothing is left running a few seconds after the binary exits
//! (`pgrep -a beam` shows it).
//!
//! # Where rabbitmq-server is missing: skipped, never passed
//!
//! The convention, for every test that needs the broker:
//!
//! ```ignore
//! #[test]
//! #[cfg_attr(weft_no_rabbitmq, ignore = "rabbitmq-server is not installed: apt-get install rabbitmq-server")]
//! fn round_trip() {
//!     let Some(broker) = weft_test_support::rabbitmq::broker() else { return };
//!     // ... broker.uri() ...
//! }
//! ```
//!
//! - The crate's build script looks for the server as [`scripts_dir`] does
//!   and, when it is missing, sets `cfg(weft_no_rabbitmq)` and prints a
//!   cargo warning: the tests are then *ignored*, and cargo's summary counts
//!   them as skipped, each with the line saying how to install it.
//! - [`broker`] itself returns `None` where the server is missing, after
//!   printing [`INSTALL_HINT`] once, loudly, past the test harness's output
//!   capture — the guard for a binary built where the server was and run
//!   where it is not.
//!
//! The server is looked for in `$WEFT_RABBITMQ_BIN` (a directory holding
//! `rabbitmq-server` and `rabbitmqctl`) where that is set, else in Debian's
//! `/usr/lib/rabbitmq/bin` (the real scripts: `/usr/sbin`'s wrappers switch
//! to the `rabbitmq` user). `WEFT_RABBITMQ_BIN=/nowhere` shows what a
//! machine without the server sees.

use std::fs;
use std::io::{self, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

mod cluster;
mod exit;

pub use self::cluster::{Cluster, cluster};
pub use self::exit::wait_for_exit;

/// The line a test prints where `rabbitmq-server` is missing.
pub const INSTALL_HINT: &str = "rabbitmq-server is not installed: apt-get install rabbitmq-server";

/// Debian's directory of the real RabbitMQ scripts.
const DEBIAN_SCRIPTS: &str = "/usr/lib/rabbitmq/bin";

/// How long `rabbitmqctl wait` may take for the node to boot, in seconds.
const BOOT_TIMEOUT_S: u32 = 120;

/// A running private RabbitMQ node; see the [module docs](self).
#[derive(Debug)]
pub struct Broker {
    node: Node,
    scripts: PathBuf,
    /// The guardian's stdin: closed when this process ends, which stops
    /// the node. Never written.
    _guardian: ChildStdin,
    /// The guardian's process, alive until the node is stopped and its
    /// directory removed.
    guardian_pid: u32,
}

/// The private broker of this test binary, started on the first call;
/// `None`, after printing [`INSTALL_HINT`] once, where `rabbitmq-server` is
/// not installed.
///
/// # Panics
///
/// Panics if the server is installed but the node does not start; the
/// message names the node's log directory.
pub fn broker() -> Option<&'static Broker> {
    static BROKER: OnceLock<Option<Broker>> = OnceLock::new();
    let broker = BROKER.get_or_init(|| match scripts_dir() {
        Some(scripts) => Some(Broker::start(scripts, "").unwrap_or_else(|e| panic!("{e}"))),
        None => {
            skipped();
            None
        }
    });
    broker.as_ref()
}

/// Prints [`INSTALL_HINT`] past the harness's capture, which only takes
/// `print!`s.
fn skipped() {
    let _ = writeln!(io::stderr(), "\n!!! SKIPPED: {INSTALL_HINT}\n");
}

/// A private node of its own, not shared, with `extra` appended to its
/// `rabbitmq.conf` (say a TLS listener: `listeners.ssl.default = ...`,
/// `ssl_options.cacertfile = ...`); `None`, after printing
/// [`INSTALL_HINT`], where `rabbitmq-server` is not installed. Each call
/// starts a node (about 8 s); each is stopped when this process ends, as
/// [`broker`]'s is.
///
/// # Panics
///
/// As [`broker`]; a config the node refuses is a node that does not start.
pub fn broker_with_config(extra: &str) -> Option<Broker> {
    let Some(scripts) = scripts_dir() else {
        skipped();
        return None;
    };
    Some(Broker::start(scripts, extra).unwrap_or_else(|e| panic!("{e}")))
}

/// The directory holding `rabbitmq-server` and `rabbitmqctl`, or `None`
/// where RabbitMQ is not installed: `$WEFT_RABBITMQ_BIN` where it is set,
/// else Debian's `/usr/lib/rabbitmq/bin`.
pub fn scripts_dir() -> Option<PathBuf> {
    let dir =
        std::env::var_os("WEFT_RABBITMQ_BIN").map_or_else(|| PathBuf::from(DEBIAN_SCRIPTS), PathBuf::from);
    (dir.join("rabbitmq-server").is_file() && dir.join("rabbitmqctl").is_file()).then_some(dir)
}

impl Broker {
    /// The AMQP URI of the default user (`guest`, loopback only) on the
    /// default vhost.
    pub fn uri(&self) -> String {
        self.node.uri()
    }

    /// An AMQP URI with these credentials and this (percent-encoded) vhost.
    pub fn uri_with(&self, user: &str, password: &str, vhost: &str) -> String {
        self.node.uri_with(user, password, vhost)
    }

    /// The AMQP port, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.node.amqp_port
    }

    /// The node's name (`weft-<pid>-<n>@localhost`).
    pub fn node(&self) -> &str {
        &self.node.name
    }

    /// The process that stops the node and removes its directory once
    /// this test process ends: when it has exited, both are done.
    pub fn guardian_pid(&self) -> u32 {
        self.guardian_pid
    }

    /// The node's directory: config, data (`mnesia/`) and logs (`log/`).
    pub fn dir(&self) -> &Path {
        &self.node.dir
    }

    /// Restarts the broker application inside its VM (`rabbitmqctl
    /// stop_app`, `start_app`, `await_startup`): every connection drops,
    /// durable queues and their messages stay, and the node serves again
    /// when this returns.
    ///
    /// # Errors
    ///
    /// As [`ctl`](Broker::ctl), for the step that failed.
    pub fn restart_app(&self) -> io::Result<()> {
        self.ctl(&["stop_app"])?;
        self.ctl(&["start_app"])?;
        self.ctl(&["await_startup"])?;
        Ok(())
    }

    /// Runs `rabbitmqctl` against this node (`add_user`, `add_vhost`,
    /// `list_queues`, ...) and returns its output, failing if it fails.
    ///
    /// # Errors
    ///
    /// The spawn's error, or `io::ErrorKind::Other` with the tool's output
    /// when it exits unsuccessfully.
    pub fn ctl(&self, args: &[&str]) -> io::Result<Output> {
        self.node.run(&self.scripts, "rabbitmqctl", args)
    }

    fn start(scripts: PathBuf, extra: &str) -> io::Result<Broker> {
        let name = unique_node_name("");
        let dir = target_dir()
            .join("rabbitmq")
            .join(name.split('@').next().unwrap_or("node"));
        let ports = free_ports(&[false, true, false])?;
        let node = Node::prepare(name, dir, [ports[0], ports[1], ports[2]], &cookie(), extra)?;
        // The guardian first, so a node that half-starts is stopped too.
        let script = r#"
            cat >/dev/null
            timeout 60 "$WEFT_CTL" stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 ||
                { [ -f "$RABBITMQ_PID_FILE" ] && kill -9 "$(cat "$RABBITMQ_PID_FILE")"; }
            epmd -kill >/dev/null 2>&1
            rm -rf "$WEFT_NODE_DIR"
        "#;
        let (guardian, guardian_pid) = spawn_guardian(script, &scripts, &node.env, &node.dir)?;
        let broker = Broker {
            node,
            scripts,
            _guardian: guardian,
            guardian_pid,
        };
        broker.node.boot(&broker.scripts)?;
        Ok(broker)
    }
}

/// One private node's name, ports, directory and the environment that
/// points RabbitMQ's scripts at them; shared by [`Broker`] and
/// [`Cluster`].
#[derive(Debug)]
struct Node {
    name: String,
    amqp_port: u16,
    dir: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Node {
    /// Writes the node's files (cookie, config, plugins) under `dir`.
    fn prepare(name: String, dir: PathBuf, ports: [u16; 3], cookie: &str, extra: &str) -> io::Result<Node> {
        let [amqp_port, dist_port, epmd_port] = ports;
        let home = dir.join("home");
        fs::create_dir_all(&home)?;
        fs::create_dir_all(dir.join("log"))?;
        write_private(&home.join(".erlang.cookie"), cookie)?;
        fs::write(
            dir.join("rabbitmq.conf"),
            format!("listeners.tcp.1 = 127.0.0.1:{amqp_port}\nlog.console = false\n{extra}\n"),
        )?;
        fs::write(dir.join("enabled_plugins"), "[].\n")?;
        fs::write(dir.join("rabbitmq-env.conf"), "")?;
        let path = |p: &str| dir.join(p).to_string_lossy().into_owned();
        let env = vec![
            ("HOME", home.to_string_lossy().into_owned()),
            ("RABBITMQ_NODENAME", name.clone()),
            ("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1".to_owned()),
            ("RABBITMQ_NODE_PORT", amqp_port.to_string()),
            ("RABBITMQ_DIST_PORT", dist_port.to_string()),
            ("ERL_EPMD_PORT", epmd_port.to_string()),
            ("ERL_EPMD_ADDRESS", "127.0.0.1".to_owned()),
            (
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
                "-kernel inet_dist_use_interface {127,0,0,1}".to_owned(),
            ),
            ("RABBITMQ_CONFIG_FILE", path("rabbitmq.conf")),
            ("RABBITMQ_CONF_ENV_FILE", path("rabbitmq-env.conf")),
            ("RABBITMQ_ADVANCED_CONFIG_FILE", path("advanced.config")),
            ("RABBITMQ_ENABLED_PLUGINS_FILE", path("enabled_plugins")),
            ("RABBITMQ_MNESIA_BASE", path("mnesia")),
            ("RABBITMQ_LOG_BASE", path("log")),
            ("RABBITMQ_PID_FILE", path("pid")),
        ];
        Ok(Node {
            name,
            amqp_port,
            dir,
            env,
        })
    }

    fn uri(&self) -> String {
        self.uri_with("guest", "guest", "%2f")
    }

    fn uri_with(&self, user: &str, password: &str, vhost: &str) -> String {
        format!("amqp://{user}:{password}@127.0.0.1:{}/{vhost}", self.amqp_port)
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("pid")
    }

    /// A command running one of the node's scripts with the node's
    /// environment.
    fn command(&self, scripts: &Path, script: &str) -> Command {
        let mut cmd = Command::new(scripts.join(script));
        cmd.envs(self.env.iter().map(|(k, v)| (*k, v)));
        cmd
    }

    /// Runs `script args` against the node, failing if it fails.
    fn run(&self, scripts: &Path, script: &str, args: &[&str]) -> io::Result<Output> {
        let out = self
            .command(scripts, script)
            .args(args)
            .stdin(Stdio::null())
            .output()?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(io::Error::other(format!(
                "{script} {} failed ({}): {}{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            )))
        }
    }

    /// Starts the node detached and waits until it serves.
    fn boot(&self, scripts: &Path) -> io::Result<()> {
        self.start_detached(scripts)?;
        self.wait(scripts)
    }

    /// Starts the node detached, without waiting for it.
    fn start_detached(&self, scripts: &Path) -> io::Result<()> {
        let started = self
            .command(scripts, "rabbitmq-server")
            .arg("-detached")
            .stdin(Stdio::null())
            .output()?;
        self.check_started(started)
    }

    /// Waits until the node started by [`start_detached`](Node::start_detached) serves.
    fn wait(&self, scripts: &Path) -> io::Result<()> {
        let waited = self
            .command(scripts, "rabbitmqctl")
            .args(["wait", "--timeout", &BOOT_TIMEOUT_S.to_string()])
            .arg(self.pid_file())
            .stdin(Stdio::null())
            .output()?;
        self.check_started(waited)
    }

    fn check_started(&self, out: Output) -> io::Result<()> {
        if out.status.success() {
            return Ok(());
        }
        Err(io::Error::other(format!(
            "the private RabbitMQ node {} did not start ({}); its logs are in {}: {}{}",
            self.name,
            out.status,
            self.dir.join("log").display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        )))
    }
}

/// Starts a process, in a session of its own, that waits for this process
/// to end (its stdin closes), then runs `script` (with the node's
/// environment, `$WEFT_CTL` and `$WEFT_NODE_DIR`) to stop what this process
/// started and clean up.
fn spawn_guardian(
    script: &str,
    scripts: &Path,
    env: &[(&'static str, String)],
    dir: &Path,
) -> io::Result<(ChildStdin, u32)> {
    // `--wait`: should setsid have to fork, it waits for the shell, so the
    // pid returned lives as long as the guardian's work.
    let mut guardian: Child = Command::new("setsid")
        .args(["--wait", "sh", "-c", script])
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .env("WEFT_CTL", scripts.join("rabbitmqctl"))
        .env("WEFT_NODE_DIR", dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let stdin = guardian
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("the guardian has no stdin"))?;
    Ok((stdin, guardian.id()))
}

/// The `target/` directory this test binary was built in
/// (`target/<profile>/deps/<binary>`), or the system's temporary directory.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().ok();
    let deps = exe.as_deref().and_then(Path::parent);
    match deps {
        Some(deps) if deps.ends_with("deps") => deps
            .parent()
            .and_then(Path::parent)
            .map_or_else(std::env::temp_dir, Path::to_path_buf),
        _ => std::env::temp_dir(),
    }
}

/// `weft-<pid>-<nanoseconds><suffix>@localhost`: unique per process and
/// start.
fn unique_node_name(suffix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("weft-{}-{nanos}{suffix}@localhost", std::process::id())
}

/// A cookie no other node shares.
fn cookie() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("WEFT{}X{nanos}", std::process::id())
}

/// Distinct free loopback ports, one per entry of `low`; those marked
/// `true` (distribution ports) stay below 55 000: the CLI tools take ports
/// up to 10 010 above them.
fn free_ports(low: &[bool]) -> io::Result<Vec<u16>> {
    let mut held = Vec::new();
    let mut ports = Vec::with_capacity(low.len());
    for _ in 0..100 * low.len().max(1) {
        let Some(&must_be_low) = low.get(ports.len()) else {
            break;
        };
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        held.push(listener);
        if !must_be_low || port < 55_000 {
            ports.push(port);
        }
    }
    if ports.len() == low.len() {
        return Ok(ports);
    }
    Err(io::Error::other(
        "no free loopback ports for the private RabbitMQ node",
    ))
}

/// Writes `contents` to a new file readable by this user only (Erlang
/// refuses a cookie others can read).
fn write_private(path: &Path, contents: &str) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}
