//! Torn writes: every truncation point and a bit flip at every byte of the
//! last records. A torn tail is cut off and reported; a bad record with
//! valid ones after it is an error naming the segment and the offset.

use std::path::{Path, PathBuf};
use weft_disk::frame::{self, HEADER_LEN};
use weft_disk::fs::{FileSystem, SimFs};
use weft_disk::{OpenError, Options, SyncPolicy};

const DIR: &str = "/log";

fn payload(offset: u64) -> Vec<u8> {
    format!("payload of record {offset}").into_bytes()
}

/// The files of a log holding `records` records in segments of about
/// `segment_bytes`: (name, bytes), segments in order, lock file left out.
fn image(records: u64, segment_bytes: u64) -> Vec<(String, Vec<u8>)> {
    let fs = SimFs::new();
    let log = Options::new()
        .segment_bytes(segment_bytes)
        .sync(SyncPolicy::Always)
        .open_in(fs.clone(), DIR)
        .unwrap()
        .log;
    for offset in 0..records {
        log.append(&payload(offset)).unwrap();
    }
    drop(log);
    let mut names: Vec<String> = fs
        .list(Path::new(DIR))
        .unwrap()
        .into_iter()
        .filter(|n| n.ends_with(".log"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let bytes = fs.read(&Path::new(DIR).join(&name)).unwrap();
            (name, bytes)
        })
        .collect()
}

/// A file system holding `files`, all synced.
fn restore(files: &[(String, Vec<u8>)]) -> SimFs {
    let fs = SimFs::new();
    fs.create_dir_all(Path::new(DIR)).unwrap();
    for (name, bytes) in files {
        let file = fs.open(&Path::new(DIR).join(name), true).unwrap();
        file.append(bytes).unwrap();
        file.sync_data().unwrap();
    }
    fs.sync_dir(Path::new(DIR)).unwrap();
    fs
}

/// Where each record of a segment's bytes starts, and where the last ends.
fn boundaries(bytes: &[u8]) -> Vec<usize> {
    let mut at = vec![0];
    for item in frame::Frames::new(bytes, u32::MAX) {
        let (position, payload) = item.unwrap();
        at.push(position + HEADER_LEN + payload.len());
    }
    at
}

/// Opens the log on `fs` and checks it holds records `0..expected`.
fn assert_holds(fs: SimFs, expected: u64) -> weft_disk::Recovery {
    let opened = Options::new().open_in(fs.clone(), DIR).unwrap();
    let log = opened.log;
    assert_eq!(log.end(), expected);
    let records = log.read(0, usize::MAX).unwrap();
    assert_eq!(records.len() as u64, expected);
    for record in &records {
        assert_eq!(record.payload, payload(record.offset));
    }
    // The repaired log takes appends and reopens clean.
    assert_eq!(log.blocking_append(b"after").unwrap(), expected);
    drop(log);
    let again = Options::new().open_in(fs, DIR).unwrap();
    assert_eq!(again.recovery.torn, None);
    assert_eq!(again.log.end(), expected + 1);
    opened.recovery
}

#[test]
fn every_truncation_point_of_the_last_records_recovers_a_valid_prefix() {
    let files = image(12, 200);
    assert!(files.len() > 1, "the test wants several segments");
    let (last_name, last) = files.last().unwrap();
    let before: u64 = files[..files.len() - 1]
        .iter()
        .map(|(_, b)| boundaries(b).len() as u64 - 1)
        .sum();
    let ends = boundaries(last);
    let records_in_last = ends.len() - 1;
    assert!(records_in_last >= 3);
    // Every cut within the last three records.
    for cut in ends[records_in_last - 3]..=last.len() {
        let mut cut_files = files.clone();
        cut_files.last_mut().unwrap().1.truncate(cut);
        let whole = ends.iter().filter(|&&end| end <= cut && end > 0).count() as u64;
        let recovery = assert_holds(restore(&cut_files), before + whole);
        let valid = *ends.iter().rev().find(|&&end| end <= cut).unwrap();
        match recovery.torn {
            None => assert_eq!(valid, cut, "cut {cut}: a clean cut is not reported"),
            Some(torn) => {
                assert_eq!(torn.segment, PathBuf::from(DIR).join(last_name), "cut {cut}");
                assert_eq!(torn.position, valid as u64, "cut {cut}");
                assert_eq!(torn.bytes, (cut - valid) as u64, "cut {cut}");
                assert!(torn.error.is_truncated(), "cut {cut}: {}", torn.error);
            }
        }
    }
}

#[test]
fn a_bit_flip_anywhere_in_the_last_record_is_a_torn_tail() {
    let files = image(12, 200);
    let before: u64 = files[..files.len() - 1]
        .iter()
        .map(|(_, b)| boundaries(b).len() as u64 - 1)
        .sum();
    let last = &files.last().unwrap().1;
    let ends = boundaries(last);
    let start = ends[ends.len() - 2];
    for byte in start..last.len() {
        let mut flipped = files.clone();
        flipped.last_mut().unwrap().1[byte] ^= 1 << (byte % 8);
        let recovery = assert_holds(restore(&flipped), before + ends.len() as u64 - 2);
        let torn = recovery
            .torn
            .unwrap_or_else(|| panic!("flip at byte {byte} not reported"));
        assert_eq!(torn.position, start as u64, "flip at byte {byte}");
        assert_eq!(torn.bytes, (last.len() - start) as u64);
    }
}

#[test]
fn a_bit_flip_in_an_earlier_record_is_corruption_naming_its_offset() {
    let files = image(12, 200);
    let (last_name, last) = files.last().unwrap();
    let ends = boundaries(last);
    // The records before the last one in the last segment.
    let bad_record = ends.len() - 3;
    for byte in ends[bad_record]..ends[bad_record + 1] {
        let mut flipped = files.clone();
        flipped.last_mut().unwrap().1[byte] ^= 1 << (byte % 8);
        match Options::new().open_in(restore(&flipped), DIR) {
            Err(OpenError::Corrupt {
                segment, position, ..
            }) => {
                assert_eq!(segment, PathBuf::from(DIR).join(last_name));
                assert_eq!(position, ends[bad_record] as u64, "flip at byte {byte}");
            }
            other => panic!("flip at byte {byte}: expected Corrupt, got {other:?}"),
        }
    }
}

#[test]
fn any_damage_in_a_segment_before_the_last_is_corruption() {
    let files = image(12, 200);
    let first = &files[0].1;
    let ends = boundaries(first);
    // A torn end (a sealed segment is synced in full before the next
    // exists) and a flipped last byte.
    let mut torn = files.clone();
    torn[0].1.truncate(first.len() - 1);
    let mut flipped = files.clone();
    flipped[0].1[first.len() - 1] ^= 0x80;
    for damaged in [torn, flipped] {
        match Options::new().open_in(restore(&damaged), DIR) {
            Err(OpenError::Corrupt {
                segment,
                position,
                error,
            }) => {
                assert_eq!(segment, PathBuf::from(DIR).join(&files[0].0));
                assert_eq!(position, ends[ends.len() - 2] as u64);
                let message = OpenError::Corrupt {
                    segment,
                    position,
                    error,
                }
                .to_string();
                assert!(
                    message.starts_with("corrupt record in /log/00000000000000000000.log at byte "),
                    "{message}"
                );
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
}

#[test]
fn a_missing_segment_is_a_gap() {
    let files = image(12, 100);
    assert!(files.len() >= 3);
    let mut missing = files.clone();
    missing.remove(1);
    match Options::new().open_in(restore(&missing), DIR) {
        Err(OpenError::Gap { segment, expected }) => {
            assert_eq!(segment, PathBuf::from(DIR).join(&files[2].0));
            assert_eq!(expected, boundaries(&files[0].1).len() as u64 - 1);
        }
        other => panic!("expected Gap, got {other:?}"),
    }
}

#[test]
fn stray_files_are_left_alone() {
    let mut files = image(3, 1 << 20);
    files.push(("notes.txt".into(), b"not a segment".to_vec()));
    files.push(("123.log".into(), b"not ours either".to_vec()));
    assert_holds(restore(&files), 3);
}

#[test]
fn lowering_max_record_does_not_turn_old_records_into_damage() {
    let fs = SimFs::new();
    let log = Options::new()
        .max_record(1000)
        .open_in(fs.clone(), DIR)
        .unwrap()
        .log;
    log.blocking_append(&[1u8; 100]).unwrap();
    log.blocking_append(&[2u8; 100]).unwrap();
    drop(log);
    // The limit applies to new appends only.
    let opened = Options::new().max_record(10).open_in(fs, DIR).unwrap();
    assert_eq!(opened.recovery.torn, None);
    let records = opened.log.read(0, 10).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].payload, [2u8; 100]);
    assert!(matches!(
        opened.log.append(&[3u8; 100]),
        Err(weft_disk::LogError::TooLong { .. })
    ));
}

// ANCHOR: torn_frame_inside
#[test]
fn a_torn_record_whose_payload_holds_a_frame_is_still_a_torn_tail() {
    // A user's payload may itself hold a record (say, a copy of a log).
    // Torn after that inner record, the tail must not pass for a valid
    // record behind a bad one.
    let mut inner = Vec::new();
    frame::encode(b"a record inside a payload", &mut inner).unwrap();
    let mut outer_payload = b"prefix ".to_vec();
    outer_payload.extend_from_slice(&inner);
    outer_payload.extend_from_slice(b" and the rest of the outer payload");
    let mut outer = Vec::new();
    frame::encode(&outer_payload, &mut outer).unwrap();

    let mut files = image(3, 1 << 20);
    let keep = HEADER_LEN + b"prefix ".len() + inner.len();
    files.last_mut().unwrap().1.extend_from_slice(&outer[..keep]);
    let recovery = assert_holds(restore(&files), 3);
    let torn = recovery.torn.expect("a torn tail");
    assert_eq!(torn.bytes, keep as u64);
}
// ANCHOR_END: torn_frame_inside
