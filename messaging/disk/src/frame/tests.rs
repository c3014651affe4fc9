use super::*;
use weft_test_support::rng::Rng;

fn encoded(payloads: &[&[u8]]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for payload in payloads {
        encode(payload, &mut bytes).unwrap();
    }
    bytes
}

#[test]
fn round_trip_including_empty_payloads() {
    let bytes = encoded(&[b"", b"a", &[7u8; 300]]);
    let records: Vec<_> = Frames::new(&bytes, 1024).map(Result::unwrap).collect();
    assert_eq!(
        records,
        vec![(0, &b""[..]), (12, &b"a"[..]), (25, &[7u8; 300][..])]
    );
}

#[test]
fn zeros_are_not_a_record() {
    assert!(matches!(decode(&[0u8; 64], 1024), Err(FrameError::Header { .. })));
}

#[test]
fn every_truncation_is_reported_as_truncated() {
    let bytes = encoded(&[b"hello", b"world"]);
    let first = HEADER_LEN + 5;
    for cut in 0..bytes.len() {
        let mut frames = Frames::new(&bytes[..cut], 1024);
        let records = frames.by_ref().filter(Result::is_ok).count();
        if cut == 0 || cut == first {
            assert_eq!(frames.valid_len(), cut);
            continue;
        }
        let expected_valid = if cut < first { 0 } else { first };
        assert_eq!(records, usize::from(cut > first), "cut {cut}");
        assert_eq!(frames.valid_len(), expected_valid, "cut {cut}");
        let (at, error) = Frames::new(&bytes[..cut], 1024).find_map(Result::err).unwrap();
        assert_eq!(at, expected_valid);
        assert!(error.is_truncated(), "cut {cut}: {error}");
        assert_eq!(resync(&bytes[..cut], at, &error, 1024), None, "cut {cut}");
    }
}

#[test]
fn every_single_bit_flip_is_caught_and_names_its_part() {
    let bytes = encoded(&[b"payload!"]);
    for byte in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[byte] ^= 1 << bit;
            let error = decode(&flipped, 1024).unwrap_err();
            if byte < HEADER_LEN {
                assert!(
                    matches!(error, FrameError::Header { .. }),
                    "byte {byte} bit {bit}: {error}"
                );
            } else {
                assert!(
                    matches!(error, FrameError::Checksum { len: 8, .. }),
                    "byte {byte} bit {bit}"
                );
            }
        }
    }
}

#[test]
fn a_length_over_the_limit_is_too_long() {
    let bytes = encoded(&[&[1u8; 100]]);
    assert_eq!(decode(&bytes, 99), Err(FrameError::TooLong { len: 100, max: 99 }));
    assert!(decode(&bytes, 100).is_ok());
    assert_eq!(
        FrameError::TooLong { len: 100, max: 99 }.to_string(),
        "record length 100 over the limit of 99"
    );
}

#[test]
fn resync_finds_the_record_after_a_bad_one() {
    let bytes = encoded(&[b"one", b"two", b"three"]);
    // Damage anywhere in the second record: header or payload.
    for bad_byte in 15..30 {
        let mut flipped = bytes.clone();
        flipped[bad_byte] ^= 0x10;
        let (at, error) = Frames::new(&flipped, 1024).find_map(Result::err).unwrap();
        assert_eq!(at, 15);
        assert_eq!(
            resync(&flipped, at, &error, 1024),
            Some(30),
            "flip at {bad_byte}: {error}"
        );
    }
    // The last record damaged: nothing follows.
    let mut last = bytes.clone();
    last[40] ^= 1;
    let (at, error) = Frames::new(&last, 1024).find_map(Result::err).unwrap();
    assert_eq!(resync(&last, at, &error, 1024), None);
    let truncated = FrameError::Truncated { have: 0, need: 12 };
    assert_eq!(resync(&[], 5, &truncated, 1024), None);
    let header = FrameError::Header {
        stored: 0,
        computed: 1,
    };
    assert_eq!(resync(&bytes, usize::MAX, &header, 1024), None);
    let checksum = FrameError::Checksum {
        len: u32::MAX,
        stored: 0,
        computed: 1,
    };
    assert_eq!(resync(&bytes, usize::MAX - 3, &checksum, 1024), None);
}

#[test]
fn a_torn_record_is_torn_whatever_its_payload_holds() {
    let inner = encoded(&[b"inner"]);
    let mut payload = b"xx".to_vec();
    payload.extend_from_slice(&inner);
    payload.extend_from_slice(b"tail of the outer payload");
    let outer = encoded(&[&payload]);
    let torn = &outer[..HEADER_LEN + 2 + inner.len()];
    let (at, error) = Frames::new(torn, 1024).find_map(Result::err).unwrap();
    assert!(error.is_truncated());
    assert_eq!(resync(torn, at, &error, 1024), None);
}

/// Property: on any bytes, decoding, walking and resyncing never panic, a
/// walk's records lie inside the bytes and re-encode to exactly them.
#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..3000 {
        let len = rng.below(200) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Mix in real records, so walks get past the first frame, and
        // damage them now and then.
        if round % 2 == 0 {
            let mut prefix = Vec::new();
            for _ in 0..rng.below(4) {
                let payload: Vec<u8> = (0..rng.below(20)).map(|_| rng.next() as u8).collect();
                encode(&payload, &mut prefix).unwrap();
            }
            if round % 4 == 0 && !prefix.is_empty() {
                let at = rng.below(prefix.len() as u64) as usize;
                prefix[at] ^= 1 << rng.below(8);
            }
            prefix.extend_from_slice(&bytes);
            bytes = prefix;
        }
        let max_len = [0, 1, 16, 1024, u32::MAX][round % 5];
        let _ = decode(&bytes, max_len);
        let mut frames = Frames::new(&bytes, max_len);
        let mut rebuilt = Vec::new();
        for item in frames.by_ref() {
            match item {
                Ok((at, payload)) => {
                    assert_eq!(at, rebuilt.len());
                    encode(payload, &mut rebuilt).unwrap();
                }
                Err((at, error)) => {
                    assert_eq!(at, rebuilt.len());
                    if let Some(next) = resync(&bytes, at, &error, max_len) {
                        assert!(next > at && decode(&bytes[next..], max_len).is_ok());
                    }
                }
            }
        }
        assert_eq!(&bytes[..frames.valid_len()], &rebuilt[..]);
    }
}
