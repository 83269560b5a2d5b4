//! The SQLite store seen from outside: no plaintext in its files, wrong keys, newer schemas, tampering.

use std::fs;
use std::path::{Path, PathBuf};

use automerge::transaction::Transactable;
use automerge::{Automerge, AutomergeError, ChangeHash, ObjType, ROOT};
use peerlog_core::crypto::{KEY_LEN, StoreKey};
use peerlog_core::ids::CaseId;
use peerlog_core::store::{SqliteStore, Store, StoreError};
use rusqlite::Connection;
use tempfile::TempDir;

const NOTE: &str = "MARKER-ZEBRA-7731";
const ALIAS: &str = "Kari Nordmann-test";
const SECRET: &str = "SECRET-ORCA-5150";

fn key(byte: u8) -> StoreKey {
    StoreKey::from_bytes(&[byte; KEY_LEN]).unwrap()
}

fn case(n: u8) -> CaseId {
    CaseId::from_bytes([n; 16])
}

fn store_path(dir: &TempDir) -> PathBuf {
    dir.path().join("store.sqlite")
}

/// The database file and its WAL companions.
fn store_files(path: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [path.to_path_buf(), with("-wal"), with("-shm")]
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// A case document whose changes and snapshot carry the note and alias as atomic strings.
struct MarkedDoc {
    doc: Automerge,
    changes: Vec<Vec<u8>>,
    hashes: Vec<ChangeHash>,
}

impl MarkedDoc {
    /// Keeps the bytes and hash of the change just made.
    fn record_last_change(&mut self) {
        let change = self.doc.get_last_local_change().unwrap();
        self.changes.push(change.raw_bytes().to_vec());
        self.hashes.push(change.hash());
    }
}

fn marked_doc() -> MarkedDoc {
    let mut marked = MarkedDoc {
        doc: Automerge::new(),
        changes: Vec::new(),
        hashes: Vec::new(),
    };
    marked
        .doc
        .transact::<_, _, AutomergeError>(|tx| {
            let user = tx.put_object(ROOT, "serviceUser", ObjType::Map)?;
            tx.put(&user, "alias", ALIAS)
        })
        .unwrap();
    marked.record_last_change();
    marked
        .doc
        .transact::<_, _, AutomergeError>(|tx| {
            let contacts = tx.put_object(ROOT, "contacts", ObjType::Map)?;
            let contact = tx.put_object(&contacts, "00000000000000c1", ObjType::Map)?;
            tx.put(&contact, "note", NOTE)
        })
        .unwrap();
    marked.record_last_change();
    marked
}

/// Writes the marked document to a store as changes (case 1) and as a snapshot (case 2).
fn write_marked(store: &mut SqliteStore, doc: &MarkedDoc) {
    for (change, hash) in doc.changes.iter().zip(&doc.hashes) {
        store.append_changes(&case(1), change, &[*hash]).unwrap();
    }
    store
        .replace_with_snapshot(&case(2), &doc.doc.save())
        .unwrap();
    store.put_secret("device-key", SECRET.as_bytes()).unwrap();
}

/// Asserts no file of the store holds a marker; returns how many bytes were scanned.
fn assert_no_plaintext(path: &Path, must_exist: &[bool; 3]) -> usize {
    let mut scanned = 0;
    let mut case_id_seen = false;
    for (file, must) in store_files(path).iter().zip(must_exist) {
        let Ok(bytes) = fs::read(file) else {
            assert!(!must, "{} is missing", file.display());
            continue;
        };
        assert!(
            !must || !bytes.is_empty(),
            "{} is empty, so the scan would prove nothing",
            file.display()
        );
        for marker in [NOTE, ALIAS, SECRET, "Nordmann", "ZEBRA"] {
            assert!(
                !contains(&bytes, marker),
                "{marker:?} in {}",
                file.display()
            );
        }
        case_id_seen |= contains(&bytes, &case(1).to_string());
        scanned += bytes.len();
    }
    // Case ids are stored in clear: finding one proves the scan reads the data that was written.
    assert!(case_id_seen, "the scan did not see the stored case id");
    scanned
}

#[test]
fn the_scan_finds_markers_in_unsealed_bytes() {
    let doc = marked_doc();
    assert!(contains(&doc.changes[0], ALIAS));
    assert!(contains(&doc.changes[1], NOTE));
    let snapshot = doc.doc.save();
    assert!(contains(&snapshot, ALIAS) && contains(&snapshot, NOTE));

    // The same bytes in a plain file, as an unencrypted store would keep them, are found.
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.bin");
    fs::write(&plain, [doc.changes.concat(), snapshot].concat()).unwrap();
    let bytes = fs::read(&plain).unwrap();
    assert!(contains(&bytes, NOTE) && contains(&bytes, ALIAS));
}

#[test]
fn store_files_hold_no_plaintext_while_open_and_after_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let doc = marked_doc();
    let mut store = SqliteStore::open(&path, key(1)).unwrap();
    write_marked(&mut store, &doc);

    // Open: the changes sit in the WAL, not yet checkpointed.
    assert_no_plaintext(&path, &[true, true, true]);

    // Compaction frees pages that held the sealed changes; still nothing in clear.
    store
        .replace_with_snapshot(&case(1), &doc.doc.save())
        .unwrap();
    assert_no_plaintext(&path, &[true, true, true]);

    // Closed: checkpointed into the main file (SQLite removes the WAL files on a clean close).
    drop(store);
    let scanned = assert_no_plaintext(&path, &[true, false, false]);
    assert!(scanned >= 4096, "only {scanned} bytes scanned");

    // And the content is still all there under the key.
    let store = SqliteStore::open(&path, key(1)).unwrap();
    let stored = store.load_case(&case(2)).unwrap().unwrap();
    assert_eq!(
        Automerge::load(&stored.concatenated()).unwrap().get_heads(),
        doc.doc.get_heads()
    );
    assert_eq!(
        store.get_secret("device-key").unwrap(),
        Some(SECRET.as_bytes().to_vec())
    );
}

#[test]
fn data_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let doc = marked_doc();
    {
        let mut store = SqliteStore::open(&path, key(1)).unwrap();
        write_marked(&mut store, &doc);
    }
    let store = SqliteStore::open(&path, key(1)).unwrap();
    assert_eq!(store.case_ids().unwrap(), vec![case(1), case(2)]);
    assert_eq!(
        store.load_case(&case(1)).unwrap().unwrap().changes,
        doc.changes
    );
    assert_eq!(store.pending_changes(&case(1)).unwrap(), doc.hashes);
}

#[test]
fn a_wrong_key_is_refused_and_the_right_key_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    let doc = marked_doc();
    {
        let mut store = SqliteStore::open(&path, key(1)).unwrap();
        write_marked(&mut store, &doc);
    }
    let err = SqliteStore::open(&path, key(2)).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey), "{err:?}");
    assert_eq!(err.to_string(), "the store key does not open this store");

    let store = SqliteStore::open(&path, key(1)).unwrap();
    assert_eq!(
        store.load_case(&case(1)).unwrap().unwrap().changes,
        doc.changes
    );
}

#[test]
fn a_store_from_a_newer_app_version_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    drop(SqliteStore::open(&path, key(1)).unwrap());
    let raw = Connection::open(&path).unwrap();
    raw.pragma_update(None, "user_version", 99).unwrap();
    drop(raw);

    let err = SqliteStore::open(&path, key(1)).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 99, supported } if supported < 99),
        "{err:?}"
    );
    let raw = Connection::open(&path).unwrap();
    let version: i64 = raw
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, 99);
}

#[test]
fn a_file_that_is_not_a_store_gives_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(&dir);
    fs::write(&path, vec![0x42; 8192]).unwrap();
    let err = SqliteStore::open(&path, key(1)).unwrap_err();
    assert!(!matches!(err, StoreError::WrongKey), "{err:?}");

    let missing = dir.path().join("no-such-dir").join("store.sqlite");
    let err = SqliteStore::open(&missing, key(1)).unwrap_err();
    assert!(matches!(err, StoreError::Open(_)), "{err:?}");
}

/// Opens a store, writes the marked document, closes it and hands back a raw connection.
fn written_store(dir: &TempDir) -> (PathBuf, Connection) {
    let path = store_path(dir);
    let mut store = SqliteStore::open(&path, key(1)).unwrap();
    write_marked(&mut store, &marked_doc());
    drop(store);
    let raw = Connection::open(&path).unwrap();
    (path, raw)
}

fn assert_corrupt<T: std::fmt::Debug>(result: Result<T, StoreError>, expected: &str) {
    match result {
        Err(StoreError::Corrupt { what }) => assert_eq!(what, expected),
        other => panic!("expected corrupt {expected}, got {other:?}"),
    }
}

#[test]
fn a_flipped_byte_in_a_sealed_change_is_reported_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let (path, raw) = written_store(&dir);
    let (seq, mut sealed): (i64, Vec<u8>) = raw
        .query_row(
            "SELECT seq, sealed FROM changes ORDER BY seq LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    let middle = sealed.len() / 2;
    sealed[middle] ^= 0x20;
    raw.execute(
        "UPDATE changes SET sealed = ?1 WHERE seq = ?2",
        rusqlite::params![sealed, seq],
    )
    .unwrap();
    drop(raw);

    let store = SqliteStore::open(&path, key(1)).unwrap();
    let result = store.load_case(&case(1));
    assert_corrupt(result, "change");
    let message = store.load_case(&case(1)).unwrap_err().to_string();
    assert!(
        !message.contains(NOTE) && !message.contains(ALIAS),
        "{message}"
    );
    // The other case is unharmed.
    assert!(store.load_case(&case(2)).unwrap().is_some());
}

#[test]
fn a_truncated_sealed_change_is_reported_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let (path, raw) = written_store(&dir);
    raw.execute("UPDATE changes SET sealed = substr(sealed, 1, 5)", [])
        .unwrap();
    drop(raw);
    let store = SqliteStore::open(&path, key(1)).unwrap();
    assert_corrupt(store.load_case(&case(1)), "change");
}

#[test]
fn a_sealed_blob_moved_to_another_case_or_kind_does_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let (path, raw) = written_store(&dir);
    // A change of case 1 copied into case 2.
    raw.execute(
        "INSERT INTO changes (case_id, sealed)
         SELECT ?1, sealed FROM changes WHERE case_id = ?2 LIMIT 1",
        [case(2).to_string(), case(1).to_string()],
    )
    .unwrap();
    drop(raw);
    let store = SqliteStore::open(&path, key(1)).unwrap();
    assert_corrupt(store.load_case(&case(2)), "change");
    drop(store);

    // Case 2's sealed snapshot copied in as one of its changes: the kind is bound too.
    let dir = tempfile::tempdir().unwrap();
    let (path, raw) = written_store(&dir);
    raw.execute(
        "INSERT INTO changes (case_id, sealed) SELECT case_id, snapshot FROM cases WHERE case_id = ?1",
        [case(2).to_string()],
    )
    .unwrap();
    // And one secret's value under another name.
    raw.execute(
        "INSERT INTO secrets (name, sealed) SELECT 'sync-state', sealed FROM secrets",
        [],
    )
    .unwrap();
    drop(raw);
    let store = SqliteStore::open(&path, key(1)).unwrap();
    assert_corrupt(store.load_case(&case(2)), "change");
    assert_corrupt(store.get_secret("sync-state"), "secret");
    assert_eq!(
        store.get_secret("device-key").unwrap(),
        Some(SECRET.as_bytes().to_vec())
    );
}
