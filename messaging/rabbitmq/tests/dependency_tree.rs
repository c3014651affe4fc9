//! lapin comes without a runtime of its own: the normal dependency trees
//! of weft-rabbitmq, and of weft with its `rabbitmq` feature, hold no
//! tokio, smol, async-io or async-executor; nor do they with TLS (lapin's
//! rustls, feature `tls` / `rabbitmq-tls`).

use std::path::Path;
use std::process::Command;

const FOREIGN: [&str; 6] = [
    "tokio",
    "smol",
    "async-io",
    "async-executor",
    "async-global-executor",
    "async-std",
];

/// `cargo tree -e normal --prefix none` with `args`, one crate per line.
fn tree(args: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["tree", "--offline", "-e", "normal", "--prefix", "none"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The crates of `tree` named in [`FOREIGN`].
fn foreign(tree: &str) -> Vec<&str> {
    let crates = tree.lines().filter_map(|l| l.split(' ').next());
    crates.filter(|c| FOREIGN.contains(c)).collect()
}

fn assert_no_foreign_runtime(args: &[&str]) {
    let tree = tree(args);
    assert!(
        tree.lines().any(|l| l.starts_with("lapin v")),
        "no lapin in {args:?}: {tree}"
    );
    let found = foreign(&tree);
    assert!(found.is_empty(), "{args:?} pulls in {found:?}");
}

#[test]
fn the_check_sees_a_foreign_runtime_where_there_is_one() {
    // The test support's runner compares weft with tokio and smol.
    let tree = tree(&["-p", "weft-test-support", "--features", "any-runtime"]);
    let found = foreign(&tree);
    assert!(
        found.contains(&"tokio") && found.contains(&"async-io"),
        "{found:?}"
    );
}

#[test]
fn weft_rabbitmq_holds_no_foreign_runtime() {
    assert_no_foreign_runtime(&["-p", "weft-rabbitmq"]);
}

#[test]
fn weft_with_rabbitmq_holds_no_foreign_runtime() {
    assert_no_foreign_runtime(&["-p", "weft", "--features", "rabbitmq"]);
}

#[test]
fn weft_rabbitmq_with_tls_holds_no_foreign_runtime() {
    assert_no_foreign_runtime(&["-p", "weft-rabbitmq", "--features", "tls"]);
}

#[test]
fn weft_with_rabbitmq_tls_holds_no_foreign_runtime() {
    assert_no_foreign_runtime(&["-p", "weft", "--features", "rabbitmq-tls"]);
}
