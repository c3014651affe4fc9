//! Segment files: named by the offset of their first record.

use std::path::{Path, PathBuf};

/// Segment files end in this.
const SUFFIX: &str = ".log";

/// Digits in a segment's name: enough for any `u64`, so names sort as
/// numbers do.
const DIGITS: usize = 20;

/// One segment file of the log.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    /// The offset of its first record; its name.
    pub(crate) base: u64,
    pub(crate) path: PathBuf,
    /// Its records.
    pub(crate) records: u64,
    /// Its length in bytes: where the next record goes.
    pub(crate) bytes: u64,
    /// Its records known to be on disk, and their length in bytes.
    pub(crate) synced_records: u64,
    pub(crate) synced_bytes: u64,
}

impl Segment {
    pub(crate) fn new(dir: &Path, base: u64) -> Segment {
        Segment {
            base,
            path: crate::fs::join(dir, &name(base)),
            records: 0,
            bytes: 0,
            synced_records: 0,
            synced_bytes: 0,
        }
    }

    /// The offset after its last record.
    pub(crate) fn end(&self) -> u64 {
        self.base + self.records
    }
}

/// The file name of the segment whose first record is `base`.
pub(crate) fn name(base: u64) -> String {
    format!("{base:0DIGITS$}{SUFFIX}")
}

/// The first offset of the segment named `name`, or `None` for a file that
/// is not a segment (the lock file, a stray file).
pub(crate) fn parse(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SUFFIX)?;
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_as_numbers() {
        for base in [0, 9, 10, 12_345, u64::MAX] {
            assert_eq!(parse(&name(base)), Some(base));
        }
        assert!(name(9) < name(10));
        assert_eq!(name(7), "00000000000000000007.log");
    }

    #[test]
    fn other_files_are_not_segments() {
        for other in [
            "LOCK",
            "7.log",
            "0000000000000000000x.log",
            "00000000000000000007.tmp",
            "99999999999999999999.log",
        ] {
            assert_eq!(parse(other), None, "{other}");
        }
    }
}
