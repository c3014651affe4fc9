//! Sets `cfg(weft_no_rabbitmq)` where `rabbitmq-server` is not installed,
//! so the broker tests are counted as ignored (skipped), never as passed.
//! The lookup is `rabbitmq::scripts_dir`'s.
//
// The same as messaging/rabbitmq/build.rs (a `duplicates` pair, left): a
// cfg reaches only the crate whose build script sets it.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(weft_no_rabbitmq)");
    println!("cargo::rerun-if-env-changed=WEFT_RABBITMQ_BIN");
    let dir = std::env::var("WEFT_RABBITMQ_BIN").unwrap_or_else(|_| "/usr/lib/rabbitmq/bin".to_owned());
    let server = Path::new(&dir).join("rabbitmq-server");
    println!("cargo::rerun-if-changed={}", server.display());
    let found = server.is_file() && Path::new(&dir).join("rabbitmqctl").is_file();
    if !found {
        println!("cargo::rustc-cfg=weft_no_rabbitmq");
        println!(
            "cargo::warning=the broker tests are skipped: rabbitmq-server is not installed: apt-get install rabbitmq-server"
        );
    }
}
