use super::*;

fn setup() -> (SimFs, PathBuf) {
    let fs = SimFs::new();
    let dir = PathBuf::from("/d");
    fs.create_dir_all(&dir).unwrap();
    (fs, dir)
}

#[test]
fn unsynced_file_may_vanish_and_synced_entry_stays() {
    let (fs, dir) = setup();
    let a = fs.open(&dir.join("a"), true).unwrap();
    a.append(b"x").unwrap();
    a.sync_data().unwrap();
    let mut vanished = 0;
    for seed in 0..64 {
        if fs.power_cut(seed).read(&dir.join("a")).is_err() {
            vanished += 1;
        }
    }
    assert!(
        vanished > 0 && vanished < 64,
        "the entry is random before sync_dir: {vanished}"
    );
    fs.sync_dir(&dir).unwrap();
    for seed in 0..64 {
        assert_eq!(fs.power_cut(seed).read(&dir.join("a")).unwrap(), b"x");
    }
}

#[test]
fn power_cut_keeps_synced_and_a_prefix_of_the_rest() {
    let (fs, dir) = setup();
    let a = fs.open(&dir.join("a"), true).unwrap();
    fs.sync_dir(&dir).unwrap();
    a.append(b"0123").unwrap();
    a.sync_data().unwrap();
    a.append(b"456789").unwrap();
    let mut lengths = BTreeSet::new();
    for seed in 0..200 {
        let image = fs.power_cut(seed).read(&dir.join("a")).unwrap();
        assert!(b"0123456789".starts_with(&image) && image.len() >= 4);
        lengths.insert(image.len());
    }
    assert_eq!(lengths.len(), 7, "every cut point from 4 to 10 bytes shows up");
}

#[test]
fn remove_and_rename_are_durable_only_after_sync_dir() {
    let (fs, dir) = setup();
    fs.open(&dir.join("a"), true).unwrap();
    fs.sync_dir(&dir).unwrap();
    fs.rename(&dir.join("a"), &dir.join("b")).unwrap();
    assert!(fs.read(&dir.join("a")).is_err());
    let undone = (0..64)
        .filter(|&s| fs.power_cut(s).read(&dir.join("a")).is_ok())
        .count();
    assert!(undone > 0);
    fs.sync_dir(&dir).unwrap();
    fs.remove(&dir.join("b")).unwrap();
    fs.sync_dir(&dir).unwrap();
    for seed in 0..16 {
        assert!(fs.power_cut(seed).list(&dir).unwrap().is_empty());
    }
}

#[test]
fn failed_sync_drops_the_dirty_data_and_a_retry_lies() {
    let (fs, dir) = setup();
    let a = fs.open(&dir.join("a"), true).unwrap();
    fs.sync_dir(&dir).unwrap();
    a.append(b"ok").unwrap();
    a.sync_data().unwrap();
    a.append(b"lost").unwrap();
    fs.fail_syncs(1);
    assert_eq!(a.sync_data().unwrap_err().kind(), io::ErrorKind::Other);
    assert_eq!(fs.read(&dir.join("a")).unwrap(), b"oklost", "still readable");
    a.sync_data().unwrap();
    assert_eq!(fs.power_cut(1).read(&dir.join("a")).unwrap(), b"ok\0\0\0\0");
}

#[test]
fn full_disk_writes_what_fits() {
    let (fs, dir) = setup();
    fs.set_capacity(Some(5));
    let a = fs.open(&dir.join("a"), true).unwrap();
    a.append(b"abc").unwrap();
    let error = a.append(b"defg").unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::StorageFull);
    assert_eq!(a.size().unwrap(), 5);
    a.set_len(3).unwrap();
    assert_eq!(fs.read(&dir.join("a")).unwrap(), b"abc");
}

#[test]
fn a_lock_is_exclusive_until_dropped() {
    let (fs, dir) = setup();
    let held = fs.lock(&dir.join("LOCK")).unwrap();
    let error = fs.lock(&dir.join("LOCK")).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::WouldBlock);
    drop(held);
    fs.lock(&dir.join("LOCK")).unwrap();
}

#[test]
fn paths_outside_known_dirs_are_errors_not_panics() {
    let fs = SimFs::new();
    assert!(fs.open(Path::new("/nowhere/a"), true).is_err());
    assert!(fs.list(Path::new("/nowhere")).is_err());
    assert!(fs.sync_dir(Path::new("/nowhere")).is_err());
    assert!(fs.remove(Path::new("/nowhere/a")).is_err());
}
