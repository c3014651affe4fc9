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
        vec![(0, &b""[..]), (8, &b"a"[..]), (17, &[7u8; 300][..])]
    );
}

#[test]
fn zeros_are_not_a_record() {
    assert!(matches!(
        decode(&[0u8; 64], 1024),
        Err(FrameError::Checksum { .. })
    ));
}

#[test]
fn every_truncation_is_reported_as_truncated() {
    let bytes = encoded(&[b"hello", b"world"]);
    for cut in 0..bytes.len() {
        let mut frames = Frames::new(&bytes[..cut], 1024);
        let records = frames.by_ref().filter(Result::is_ok).count();
        if cut == 0 || cut == 13 {
            assert_eq!(frames.valid_len(), cut);
            continue;
        }
        let expected_valid = if cut < 13 { 0 } else { 13 };
        assert_eq!(records, usize::from(cut > 13), "cut {cut}");
        assert_eq!(frames.valid_len(), expected_valid, "cut {cut}");
        let (at, error) = Frames::new(&bytes[..cut], 1024).find_map(Result::err).unwrap();
        assert_eq!(at, expected_valid);
        assert!(error.is_truncated(), "cut {cut}: {error}");
    }
}

#[test]
fn every_single_bit_flip_is_caught() {
    let bytes = encoded(&[b"payload!"]);
    for byte in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.clone();
            flipped[byte] ^= 1 << bit;
            assert!(decode(&flipped, 1024).is_err(), "flip at byte {byte} bit {bit}");
        }
    }
}

#[test]
fn an_oversized_length_is_too_long_not_truncated() {
    let mut bytes = encoded(&[b"abc"]);
    bytes[3] = 0x80;
    assert!(matches!(
        decode(&bytes, 1024),
        Err(FrameError::TooLong { max: 1024, .. })
    ));
    let too_big = vec![0u8; 2048];
    assert!(matches!(encode(&too_big, &mut Vec::new()), Ok(())));
}

#[test]
fn resync_finds_the_record_after_a_bad_one() {
    let bytes = encoded(&[b"one", b"two", b"three"]);
    for bad_byte in 11..22 {
        let mut flipped = bytes.clone();
        flipped[bad_byte] ^= 0x10;
        assert_eq!(resync(&flipped, 11, 1024), Some(22), "flip at {bad_byte}");
    }
    assert_eq!(
        resync(&bytes[..30], 22, 1024),
        None,
        "a torn last record has nothing after it"
    );
    assert_eq!(resync(&[], 5, 1024), None);
    assert_eq!(resync(&bytes, usize::MAX, 1024), None);
}

/// Property: on any bytes, decoding, walking and resyncing never panic, a
/// walk's records lie inside the bytes and re-encode to exactly them.
#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..3000 {
        let len = rng.below(200) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Mix in real records, so walks get past the first frame.
        if round % 2 == 0 {
            let mut prefix = Vec::new();
            for _ in 0..rng.below(4) {
                let payload: Vec<u8> = (0..rng.below(20)).map(|_| rng.next() as u8).collect();
                encode(&payload, &mut prefix).unwrap();
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
                Err((at, _)) => {
                    assert_eq!(at, rebuilt.len());
                    let _ = resync(&bytes, at, max_len);
                }
            }
        }
        assert_eq!(&bytes[..frames.valid_len()], &rebuilt[..]);
    }
}
