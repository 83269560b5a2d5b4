//! The handle without a relay: keys, one handle per store, use before enrolment and after close.
//! (Enrolment, sync and wipe orders run against a real relay in `tests/{python,kotlin,swift}`.)

use super::*;

fn key(byte: u8) -> Vec<u8> {
    vec![byte; KEY_LEN]
}

fn dir_string(dir: &tempfile::TempDir) -> String {
    dir.path().join("store").display().to_string()
}

#[test]
fn the_key_must_be_32_bytes_and_must_match() {
    let dir = tempfile::tempdir().unwrap();
    let err = Peerlog::open(dir_string(&dir), vec![1; 31]).unwrap_err();
    assert!(matches!(err, ApiError::InvalidInput { field, .. } if field == "key"));

    let first = Peerlog::open(dir_string(&dir), key(1)).unwrap();
    first.close_store();
    assert_eq!(
        Peerlog::open(dir_string(&dir), key(2)).unwrap_err(),
        ApiError::NeedsReenrolment
    );
    // The failed open released the directory: the right key still opens it.
    Peerlog::open(dir_string(&dir), key(1))
        .unwrap()
        .close_store();
}

#[test]
fn one_handle_per_store_until_closed_or_freed() {
    let dir = tempfile::tempdir().unwrap();
    let first = Peerlog::open(dir_string(&dir), key(1)).unwrap();
    let err = Peerlog::open(dir_string(&dir), key(1)).unwrap_err();
    assert!(matches!(err, ApiError::InvalidInput { field, .. } if field == "directory"));
    first.close_store();
    let second = Peerlog::open(dir_string(&dir), key(1)).unwrap();
    drop(second);
    Peerlog::open(dir_string(&dir), key(1)).unwrap();
}

#[test]
fn before_enrolment_and_after_close_calls_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let handle = Peerlog::open(dir_string(&dir), key(1)).unwrap();
    assert!(!handle.is_enrolled());
    assert_eq!(handle.list_cases().unwrap_err(), ApiError::NeedsReenrolment);
    assert_eq!(
        handle.pending_count().unwrap_err(),
        ApiError::NeedsReenrolment
    );
    let bad_id = handle.case_detail("not a case".to_owned()).unwrap_err();
    assert!(matches!(bad_id, ApiError::InvalidInput { field, .. } if field == "caseId"));
    handle.close_store();
    handle.close_store();
    assert!(matches!(
        handle.list_cases().unwrap_err(),
        ApiError::Internal { .. }
    ));
}

#[test]
fn wipe_store_deletes_the_files() {
    let dir = tempfile::tempdir().unwrap();
    Peerlog::open(dir_string(&dir), key(1))
        .unwrap()
        .close_store();
    let file = dir.path().join("store").join(STORE_FILE);
    assert!(file.exists());
    wipe_store(dir_string(&dir)).unwrap();
    assert!(!file.exists());
    // A fresh store opens with any key.
    Peerlog::open(dir_string(&dir), key(9)).unwrap();
}

#[test]
fn a_call_that_panicked_closes_the_handle_and_the_store_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let handle = Peerlog::open(dir_string(&dir), key(1)).unwrap();
    let other = Arc::clone(&handle);
    let crashed = std::thread::spawn(move || {
        let _held = other.state.lock();
        panic!("a panic while the lock is held (expected by this test)");
    })
    .join();
    assert!(crashed.is_err());
    assert!(matches!(
        handle.list_cases().unwrap_err(),
        ApiError::Internal { .. }
    ));
    Peerlog::open(dir_string(&dir), key(1)).unwrap();
}
