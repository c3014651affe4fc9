//! Fuzzes the record decoder: on any bytes, `decode`, a `Frames` walk and
//! `resync` must not panic, and what a walk accepts must re-encode to the
//! same bytes. Run from messaging/disk: `cargo +nightly fuzz run decode`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_disk::frame::{self, Frames};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the payload limit, so the TooLong path is hit.
    let (max_len, bytes) = match data.split_first() {
        Some((&pick, rest)) => ([0, 1, 64, 4096, u32::MAX][usize::from(pick) % 5], rest),
        None => (u32::MAX, data),
    };
    let _ = frame::decode(bytes, max_len);
    let mut frames = Frames::new(bytes, max_len);
    let mut rebuilt = Vec::new();
    for item in frames.by_ref() {
        match item {
            Ok((at, payload)) => {
                assert_eq!(at, rebuilt.len());
                frame::encode(payload, &mut rebuilt).unwrap();
            }
            Err((at, error)) => {
                if let Some(next) = frame::resync(bytes, at, &error, max_len) {
                    assert!(next > at && frame::decode(&bytes[next..], max_len).is_ok());
                }
            }
        }
    }
    assert_eq!(&bytes[..frames.valid_len()], &rebuilt[..]);
});
