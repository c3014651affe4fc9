//! A private RabbitMQ cluster on this machine: [`cluster`].
//!
//! Each node is a private node as [`broker`](super::broker)'s is (its own
//! name, AMQP and distribution ports, config and data directory), and all
//! of them share one cookie and one private epmd, so that they find each
//! other and nothing else. Each node defaults a quorum queue's
//! `x-quorum-initial-group-size` to the cluster's size (`quorum_cluster_size`
//! in its `advanced.config`), so a queue declared without one is
//! replicated on every node (RabbitMQ's own default is 3 members). The
//! nodes boot side by side; then every node but the first, one by one,
//! `stop_app` / `join_cluster <first>` / `start_app`, and the first awaits
//! all of them online. Three nodes take about 15 s on an idle 2-core
//! machine, 25 s under load.
//!
//! A test can then kill a node the hard way ([`Cluster::kill_node`]:
//! `SIGKILL` to its Erlang VM) and boot it again ([`Cluster::start_node`]).
//!
//! # Stopping
//!
//! As for the single broker, a guardian process started before the nodes
//! waits for this process to end (or for the [`Cluster`] to be dropped),
//! then kills every node of the cluster (`kill -9` of the pids the nodes
//! wrote, twice, a few seconds apart, so that a node booting at that
//! moment goes too), stops the private epmd and removes the cluster's
//! directory, `target/rabbitmq/<stem>/`. Nodes are killed rather than
//! stopped: their data is removed anyway, and stopping a cluster node by
//! node takes seconds each.

use super::{
    BOOT_TIMEOUT_S, Node, cookie, free_ports, scripts_dir, skipped, spawn_guardian, target_dir,
    unique_node_name,
};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Output, Stdio};
use std::time::Duration;

/// A running private RabbitMQ cluster; see [`cluster`]. Nodes are
/// numbered from 0, node 0 being the one the others joined.
///
/// Dropping it stops and removes every node (through the guardian, a few
/// seconds later).
#[derive(Debug)]
pub struct Cluster {
    nodes: Vec<Node>,
    scripts: PathBuf,
    dir: PathBuf,
    /// The guardian's stdin: closed when this process ends or the cluster
    /// is dropped, which stops the nodes. Never written.
    _guardian: ChildStdin,
}

/// A private cluster of `size` nodes (at least one) on this machine;
/// `None`, after printing [`INSTALL_HINT`](super::INSTALL_HINT), where
/// `rabbitmq-server` is not installed. See the [module docs](crate::rabbitmq).
///
/// Each call starts a cluster of its own: a test binary that needs one
/// should start it once.
///
/// # Panics
///
/// Panics if the server is installed but a node does not start or join;
/// the message names the node's log directory.
///
/// # Examples
///
/// ```no_run
/// let Some(cluster) = weft_test_support::rabbitmq::cluster(3) else { return };
/// assert_eq!(cluster.size(), 3);
/// let status = cluster.ctl(0, &["cluster_status"]).unwrap();
/// assert!(String::from_utf8_lossy(&status.stdout).contains(cluster.node(2)));
/// ```
pub fn cluster(size: usize) -> Option<Cluster> {
    match scripts_dir() {
        Some(scripts) => Some(Cluster::start(scripts, size.max(1)).unwrap_or_else(|e| panic!("{e}"))),
        None => {
            skipped();
            None
        }
    }
}

impl Cluster {
    /// How many nodes the cluster has.
    pub fn size(&self) -> usize {
        self.nodes.len()
    }

    /// The AMQP URI of the default user (`guest`, loopback only) on the
    /// default vhost of node `i`.
    ///
    /// # Panics
    ///
    /// Panics if there is no node `i`.
    pub fn uri(&self, i: usize) -> String {
        self.nodes[i].uri()
    }

    /// Node `i`'s AMQP port, on 127.0.0.1.
    ///
    /// # Panics
    ///
    /// Panics if there is no node `i`.
    pub fn port(&self, i: usize) -> u16 {
        self.nodes[i].amqp_port
    }

    /// Node `i`'s name (`weft-<pid>-<n>-<i>@localhost`).
    ///
    /// # Panics
    ///
    /// Panics if there is no node `i`.
    pub fn node(&self, i: usize) -> &str {
        &self.nodes[i].name
    }

    /// The number of the node called `name`, if it is one of this
    /// cluster's.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|node| node.name == name)
    }

    /// The cluster's directory: one directory per node (config, data in
    /// `mnesia/`, logs in `log/`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `rabbitmqctl` against node `i` and returns its output, failing
    /// if it fails.
    ///
    /// # Errors
    ///
    /// The spawn's error, or `io::ErrorKind::Other` with the tool's output
    /// when it exits unsuccessfully.
    ///
    /// # Panics
    ///
    /// Panics if there is no node `i`.
    pub fn ctl(&self, i: usize, args: &[&str]) -> io::Result<Output> {
        self.nodes[i].run(&self.scripts, "rabbitmqctl", args)
    }

    /// Waits, up to `bound`, until every member of the quorum queue
    /// `queue` (on the default vhost) holds the same log as its leader, as
    /// node `via` reports it (`rabbitmq-queues quorum_status`): after a
    /// node is booted again, until its member has caught up. A member
    /// that is online but behind cannot count towards a majority, so a
    /// second loss before then leaves the queue refusing publishes until
    /// it catches up. Asks again every 200 ms: the tool has no way to wait.
    ///
    /// # Errors
    ///
    /// As [`ctl`](Cluster::ctl)'s; `TimedOut` when `bound` passes first.
    ///
    /// # Panics
    ///
    /// Panics if there is no node `via`.
    pub fn await_quorum_in_sync(&self, via: usize, queue: &str, bound: Duration) -> io::Result<()> {
        let start = std::time::Instant::now();
        loop {
            let out = self.nodes[via].run(
                &self.scripts,
                "rabbitmq-queues",
                &["quorum_status", "--formatter", "json", queue],
            )?;
            let text = String::from_utf8_lossy(&out.stdout);
            let field = |line: &str, name: &str| -> Option<u64> {
                let rest = &line[line.find(&format!("\"{name}\":"))? + name.len() + 3..];
                rest.split([',', '}']).next()?.trim().parse().ok()
            };
            let members: Vec<(u64, u64)> = text
                .lines()
                .filter_map(|line| Some((field(line, "Log Index")?, field(line, "Commit Index")?)))
                .collect();
            if members.len() == self.nodes.len() && members.windows(2).all(|w| w[0] == w[1]) {
                return Ok(());
            }
            if start.elapsed() > bound {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{queue}'s members not in sync after {bound:?}: {text}"),
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The number of the node leading the quorum queue `queue` (on the
    /// default vhost), as node `via` sees it; `None` where `via` knows no
    /// such queue or no leader.
    ///
    /// # Errors
    ///
    /// As [`ctl`](Cluster::ctl)'s.
    ///
    /// # Panics
    ///
    /// Panics if there is no node `via`.
    pub fn quorum_leader(&self, via: usize, queue: &str) -> io::Result<Option<usize>> {
        let out = self.ctl(
            via,
            &["list_queues", "-q", "--no-table-headers", "name", "leader"],
        )?;
        let text = String::from_utf8_lossy(&out.stdout);
        let leader = text.lines().find_map(|line| {
            let (name, leader) = line.split_once('\t')?;
            (name == queue).then(|| self.index_of(leader.trim()))?
        });
        Ok(leader)
    }

    /// Kills node `i`'s Erlang VM with `SIGKILL` and waits until it is
    /// gone: no shutdown, no goodbye to the other nodes or the clients.
    ///
    /// # Errors
    ///
    /// When the node has no pid (it is not running), or `kill` fails.
    ///
    /// # Panics
    ///
    /// Panics if there is no node `i`.
    pub fn kill_node(&self, i: usize) -> io::Result<()> {
        let node = &self.nodes[i];
        let pid_file = node.pid_file();
        // ANCHOR: kill-node
        let pid = fs::read_to_string(&pid_file)?.trim().to_owned();
        let killed = Command::new("kill")
            .args(["-9", &pid])
            .stdin(Stdio::null())
            .output()?;
        if !killed.status.success() {
            return Err(io::Error::other(format!(
                "kill -9 {pid} ({}) failed: {}",
                node.name,
                String::from_utf8_lossy(&killed.stderr)
            )));
        }
        // ANCHOR_END: kill-node
        // Gone once it has exited (a zombie waiting for init included).
        let exited = pid
            .parse()
            .map_err(|_| io::Error::other(format!("{pid_file:?} holds no pid: {pid:?}")))
            .and_then(|pid| super::wait_for_exit(pid, Duration::from_secs(30)))?;
        if !exited {
            return Err(io::Error::other(format!(
                "{} (pid {pid}) still runs 30 s after kill -9",
                node.name
            )));
        }
        // A stale pid file would let `rabbitmqctl wait` of a restart watch
        // the dead VM.
        fs::remove_file(&pid_file)
    }

    /// Boots node `i` again after [`kill_node`](Cluster::kill_node) and
    /// waits until it serves; it rejoins the cluster from its data.
    ///
    /// # Errors
    ///
    /// When the node does not start; the message names its log directory.
    ///
    /// # Panics
    ///
    /// Panics if there is no node `i`.
    pub fn start_node(&self, i: usize) -> io::Result<()> {
        self.nodes[i].boot(&self.scripts)
    }

    fn start(scripts: PathBuf, size: usize) -> io::Result<Cluster> {
        let stem = unique_node_name("");
        let stem = stem.split('@').next().unwrap_or("weft").to_owned();
        let dir = target_dir().join("rabbitmq").join(&stem);
        // Per node an AMQP and a distribution port, and one epmd port.
        let mut low = vec![false];
        for _ in 0..size {
            low.extend([false, true]);
        }
        let ports = free_ports(&low)?;
        let epmd_port = ports[0];
        let cookie = cookie();
        let mut nodes = Vec::with_capacity(size);
        for i in 0..size {
            let name = format!("{stem}-{i}@localhost");
            let node_ports = [ports[1 + 2 * i], ports[2 + 2 * i], epmd_port];
            let node = Node::prepare(name, dir.join(format!("n{i}")), node_ports, &cookie, "")?;
            // RabbitMQ's own default is 3, whatever the cluster's size.
            fs::write(
                node.dir.join("advanced.config"),
                format!("[{{rabbit, [{{quorum_cluster_size, {size}}}]}}].\n"),
            )?;
            nodes.push(node);
        }
        // The guardian first, so nodes that half-start are stopped too.
        let script = r#"
            cat >/dev/null
            for round in 1 2; do
                for pid_file in "$WEFT_NODE_DIR"/*/pid; do
                    [ -f "$pid_file" ] && kill -9 "$(cat "$pid_file")" 2>/dev/null
                done
                [ "$round" = 1 ] && sleep 3
            done
            epmd -kill >/dev/null 2>&1
            rm -rf "$WEFT_NODE_DIR"
        "#;
        let (guardian, _) = spawn_guardian(script, &scripts, &nodes[0].env, &dir)?;
        let cluster = Cluster {
            nodes,
            scripts,
            dir,
            _guardian: guardian,
        };
        // Boot them side by side, then join them one by one.
        for node in &cluster.nodes {
            node.start_detached(&cluster.scripts)?;
        }
        for node in &cluster.nodes {
            node.wait(&cluster.scripts)?;
        }
        let first = cluster.nodes[0].name.clone();
        for i in 1..size {
            cluster.ctl(i, &["stop_app"])?;
            cluster.ctl(i, &["join_cluster", &first])?;
            cluster.ctl(i, &["start_app"])?;
        }
        let timeout = BOOT_TIMEOUT_S.to_string();
        cluster.ctl(
            0,
            &["await_online_nodes", &size.to_string(), "--timeout", &timeout],
        )?;
        Ok(cluster)
    }
}
