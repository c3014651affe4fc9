//! The testing chapter's examples: a race that the current-thread runtime
//! makes certain, and the same test made certain on every runtime by
//! waiting for the event itself instead of for a guess at how long it takes.

mod support;

use support::runtimes;
use weft::sync::{broadcast, oneshot};
use weft::task::JoinHandle;

// ANCHOR: listener
/// Spawns a task that subscribes to `tx`, says so on `subscribed`, and
/// returns the first value it hears (`None` if every sender is gone first).
fn spawn_listener(
    tx: &broadcast::Sender<&'static str>,
    subscribed: oneshot::Sender<()>,
) -> JoinHandle<Option<&'static str>> {
    let tx = tx.clone();
    weft::spawn(async move {
        let mut rx = tx.subscribe();
        drop(tx);
        // The test may not be listening for this; that is fine.
        let _ = subscribed.send(());
        rx.recv().await.ok()
    })
}
// ANCHOR_END: listener

#[test]
fn a_value_sent_before_the_listener_ran_reaches_nobody() {
    let rt = weft::Runtime::builder().current_thread().build().unwrap();
    rt.block_on(async {
        let (tx, rx) = broadcast::channel(8);
        drop(rx);
        let (subscribed_tx, _subscribed_rx) = oneshot::channel();
        // ANCHOR: racy-send
        let listener = spawn_listener(&tx, subscribed_tx);
        // On the current-thread runtime the listener has not run yet: it
        // runs when this task first waits. Nobody has subscribed, so the
        // value reaches nobody — every time, not one run in twenty.
        assert!(tx.send("hello").is_err());
        drop(tx);
        assert_eq!(listener.await.unwrap(), None);
        // ANCHOR_END: racy-send
    });
}

#[test]
fn the_listener_says_when_it_has_subscribed() {
    for (flavour, rt) in runtimes() {
        rt.block_on(async {
            let (tx, rx) = broadcast::channel(8);
            drop(rx);
            // ANCHOR: ordered-send
            let (subscribed_tx, subscribed_rx) = oneshot::channel();
            let listener = spawn_listener(&tx, subscribed_tx);
            // Wait for the event itself, not for a guess at how long it takes.
            subscribed_rx.await.unwrap();
            assert_eq!(tx.send("hello").unwrap(), 1, "{flavour}");
            assert_eq!(listener.await.unwrap(), Some("hello"), "{flavour}");
            // ANCHOR_END: ordered-send
        });
    }
}
