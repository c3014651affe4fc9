//! weft runtimes of both flavours, on real time or with the clock paused.

// ANCHOR: paused-runtimes
/// A current-thread runtime with the clock paused from the start.
pub fn paused_current_thread() -> weft::Runtime {
    weft::Runtime::builder()
        .current_thread()
        .start_paused(true)
        .build()
        .unwrap()
}

/// Both flavours, with the clock paused from the start.
pub fn paused_runtimes() -> Vec<(&'static str, weft::Runtime)> {
    vec![
        ("current_thread", paused_current_thread()),
        (
            "multi_thread",
            weft::Runtime::builder()
                .worker_threads(2)
                .start_paused(true)
                .build()
                .unwrap(),
        ),
    ]
}
// ANCHOR_END: paused-runtimes

/// Both flavours, on real time.
pub fn runtimes() -> Vec<(&'static str, weft::Runtime)> {
    vec![
        (
            "current_thread",
            weft::Runtime::builder().current_thread().build().unwrap(),
        ),
        (
            "multi_thread",
            weft::Runtime::builder().worker_threads(2).build().unwrap(),
        ),
    ]
}
