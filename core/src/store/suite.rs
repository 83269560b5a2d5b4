//! The one test suite every [`Store`](super::Store) implementation passes: `store_suite!(make)`.
//!
//! `make` is an expression evaluated afresh in every test; it yields `(store, guard)`, where the
//! guard keeps whatever the store needs alive (a temporary directory) and is `()` otherwise.
//! Documents are real Automerge documents with a fixed actor, so every run writes the same bytes.

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, AutomergeError, ChangeHash, ROOT};

use crate::ids::CaseId;

/// A fixed case id; different `n` give different cases.
pub(crate) fn case(n: u8) -> CaseId {
    CaseId::from_bytes([n; 16])
}

/// A change hash no document made.
pub(crate) fn unknown_hash() -> ChangeHash {
    ChangeHash([0xEE; 32])
}

/// A document under test, with the raw bytes and hash of every change made so far.
#[derive(Debug)]
pub(crate) struct TestDoc {
    pub(crate) doc: Automerge,
    pub(crate) changes: Vec<Vec<u8>>,
    pub(crate) hashes: Vec<ChangeHash>,
}

impl TestDoc {
    pub(crate) fn new(actor: &str) -> Self {
        Self {
            doc: Automerge::new().with_actor(ActorId::from(actor.as_bytes())),
            changes: Vec::new(),
            hashes: Vec::new(),
        }
    }

    /// Makes one change that puts `value` at `key` in the root map; returns its index.
    pub(crate) fn put(&mut self, key: &str, value: &str) -> usize {
        self.doc
            .transact::<_, _, AutomergeError>(|tx| {
                tx.put(ROOT, key, value)?;
                Ok(())
            })
            .unwrap();
        let change = self.doc.get_last_local_change().unwrap();
        self.changes.push(change.raw_bytes().to_vec());
        self.hashes.push(change.hash());
        self.changes.len() - 1
    }

    /// A document with `n` changes.
    pub(crate) fn with_changes(actor: &str, n: usize) -> Self {
        let mut doc = Self::new(actor);
        for i in 0..n {
            doc.put(&format!("k{i}"), &format!("v{i}"));
        }
        doc
    }

    pub(crate) fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }
}

/// Heads of the document that `bytes` (a snapshot and/or changes) load to.
pub(crate) fn loaded_heads(bytes: &[u8]) -> Vec<ChangeHash> {
    Automerge::load(bytes).unwrap().get_heads()
}

macro_rules! store_suite {
    ($make:expr) => {
        mod suite {
            use super::*;
            use $crate::store::suite::{TestDoc, case, loaded_heads, unknown_hash};
            use $crate::store::{Store, StoredCase};

            #[test]
            fn empty_store_holds_nothing() {
                let (store, _guard) = $make;
                assert_eq!(store.case_ids().unwrap(), vec![]);
                assert_eq!(store.load_case(&case(1)).unwrap(), None);
                assert_eq!(store.pending_changes(&case(1)).unwrap(), vec![]);
                assert_eq!(store.pending_count().unwrap(), 0);
                assert_eq!(store.get_secret("device-key").unwrap(), None);
            }

            #[test]
            fn append_then_load_preserves_order_and_loads_in_automerge() {
                let (mut store, _guard) = $make;
                let doc = TestDoc::with_changes("aa01", 5);
                for change in &doc.changes {
                    store.append_changes(&case(1), change, &[]).unwrap();
                }
                let stored = store.load_case(&case(1)).unwrap().unwrap();
                assert_eq!(stored.snapshot, None);
                assert_eq!(stored.changes, doc.changes);
                assert_eq!(loaded_heads(&stored.concatenated()), doc.heads());
            }

            #[test]
            fn several_changes_appended_in_one_call_stay_one_chunk() {
                let (mut store, _guard) = $make;
                let doc = TestDoc::with_changes("aa01", 3);
                let together = doc.changes.concat();
                store
                    .append_changes(&case(1), &together, &doc.hashes)
                    .unwrap();
                let stored = store.load_case(&case(1)).unwrap().unwrap();
                assert_eq!(stored.changes, vec![together]);
                assert_eq!(loaded_heads(&stored.concatenated()), doc.heads());
                assert_eq!(store.pending_changes(&case(1)).unwrap(), doc.hashes);
            }

            #[test]
            fn empty_append_creates_the_case_without_a_chunk() {
                let (mut store, _guard) = $make;
                store.append_changes(&case(1), &[], &[]).unwrap();
                assert_eq!(store.case_ids().unwrap(), vec![case(1)]);
                assert_eq!(
                    store.load_case(&case(1)).unwrap(),
                    Some(StoredCase::default())
                );
            }

            #[test]
            fn cases_are_isolated() {
                let (mut store, _guard) = $make;
                let one = TestDoc::with_changes("aa01", 2);
                let two = TestDoc::with_changes("bb02", 3);
                for (a, b) in one.changes.iter().zip(&two.changes) {
                    store.append_changes(&case(1), a, &[]).unwrap();
                    store.append_changes(&case(2), b, &[]).unwrap();
                }
                store
                    .append_changes(&case(2), &two.changes[2], &two.hashes[2..])
                    .unwrap();
                assert_eq!(
                    store.load_case(&case(1)).unwrap().unwrap().changes,
                    one.changes
                );
                assert_eq!(
                    store.load_case(&case(2)).unwrap().unwrap().changes,
                    two.changes
                );
                assert_eq!(store.pending_changes(&case(1)).unwrap(), vec![]);
                assert_eq!(store.pending_changes(&case(2)).unwrap(), two.hashes[2..]);
                store.mark_confirmed(&case(1), &two.hashes).unwrap();
                assert_eq!(
                    store.pending_count().unwrap(),
                    1,
                    "confirming in another case"
                );
            }

            #[test]
            fn replace_with_snapshot_drops_old_changes_and_keeps_pending() {
                let (mut store, _guard) = $make;
                let mut doc = TestDoc::with_changes("aa01", 3);
                for (change, hash) in doc.changes.iter().zip(&doc.hashes) {
                    store.append_changes(&case(1), change, &[*hash]).unwrap();
                }
                let snapshot = doc.doc.save();
                store.replace_with_snapshot(&case(1), &snapshot).unwrap();
                let stored = store.load_case(&case(1)).unwrap().unwrap();
                assert_eq!(stored.snapshot.as_deref(), Some(snapshot.as_slice()));
                assert_eq!(stored.changes, Vec::<Vec<u8>>::new());
                assert_eq!(store.pending_changes(&case(1)).unwrap(), doc.hashes);

                // Changes after the snapshot load on top of it.
                let next = doc.put("after", "snapshot");
                store
                    .append_changes(&case(1), &doc.changes[next], &[doc.hashes[next]])
                    .unwrap();
                let stored = store.load_case(&case(1)).unwrap().unwrap();
                assert_eq!(stored.changes, vec![doc.changes[next].clone()]);
                assert_eq!(loaded_heads(&stored.concatenated()), doc.heads());
                assert_eq!(store.pending_count().unwrap(), 4);
            }

            #[test]
            fn a_second_snapshot_replaces_the_first() {
                let (mut store, _guard) = $make;
                let mut doc = TestDoc::with_changes("aa01", 1);
                store
                    .replace_with_snapshot(&case(1), &doc.doc.save())
                    .unwrap();
                doc.put("more", "data");
                let second = doc.doc.save();
                store.replace_with_snapshot(&case(1), &second).unwrap();
                let stored = store.load_case(&case(1)).unwrap().unwrap();
                assert_eq!(stored.snapshot, Some(second));
                assert_eq!(loaded_heads(&stored.concatenated()), doc.heads());
            }

            #[test]
            fn replace_with_snapshot_creates_an_unknown_case() {
                let (mut store, _guard) = $make;
                let doc = TestDoc::with_changes("aa01", 2);
                store
                    .replace_with_snapshot(&case(3), &doc.doc.save())
                    .unwrap();
                assert_eq!(store.case_ids().unwrap(), vec![case(3)]);
                let stored = store.load_case(&case(3)).unwrap().unwrap();
                assert_eq!(loaded_heads(&stored.concatenated()), doc.heads());
            }

            #[test]
            fn delete_case_removes_everything_including_pending() {
                let (mut store, _guard) = $make;
                let doc = TestDoc::with_changes("aa01", 2);
                let other = TestDoc::with_changes("bb02", 1);
                store
                    .replace_with_snapshot(&case(1), &doc.doc.save())
                    .unwrap();
                store
                    .append_changes(&case(1), &doc.changes[1], &doc.hashes)
                    .unwrap();
                store
                    .append_changes(&case(2), &other.changes[0], &other.hashes)
                    .unwrap();
                store.put_secret("sync-state", b"kept").unwrap();

                store.delete_case(&case(1)).unwrap();
                assert_eq!(store.load_case(&case(1)).unwrap(), None);
                assert_eq!(store.pending_changes(&case(1)).unwrap(), vec![]);
                assert_eq!(store.case_ids().unwrap(), vec![case(2)]);
                assert_eq!(store.pending_count().unwrap(), 1);
                assert_eq!(
                    store.get_secret("sync-state").unwrap(),
                    Some(b"kept".to_vec())
                );

                // Deleting again, or a case never held, is not an error.
                store.delete_case(&case(1)).unwrap();
                store.delete_case(&case(9)).unwrap();

                // A case appended after deletion starts empty.
                store
                    .append_changes(&case(1), &doc.changes[0], &[])
                    .unwrap();
                let stored = store.load_case(&case(1)).unwrap().unwrap();
                assert_eq!(stored.snapshot, None);
                assert_eq!(stored.changes, vec![doc.changes[0].clone()]);
            }

            #[test]
            fn pending_changes_stay_until_confirmed() {
                let (mut store, _guard) = $make;
                let mine = TestDoc::with_changes("aa01", 3);
                let theirs = TestDoc::with_changes("bb02", 1);
                for (change, hash) in mine.changes.iter().zip(&mine.hashes) {
                    store.append_changes(&case(1), change, &[*hash]).unwrap();
                }
                // A change that came from the relay is not pending.
                store
                    .append_changes(&case(1), &theirs.changes[0], &[])
                    .unwrap();
                assert_eq!(store.pending_changes(&case(1)).unwrap(), mine.hashes);
                assert_eq!(store.pending_count().unwrap(), 3);

                // Unknown hashes are ignored; confirming is idempotent.
                store
                    .mark_confirmed(&case(1), &[mine.hashes[0], unknown_hash()])
                    .unwrap();
                store.mark_confirmed(&case(1), &[mine.hashes[0]]).unwrap();
                assert_eq!(store.pending_changes(&case(1)).unwrap(), mine.hashes[1..]);
                assert_eq!(store.pending_count().unwrap(), 2);

                store.mark_confirmed(&case(1), &mine.hashes).unwrap();
                assert_eq!(store.pending_changes(&case(1)).unwrap(), vec![]);
                assert_eq!(store.pending_count().unwrap(), 0);
                store.mark_confirmed(&case(7), &mine.hashes).unwrap();
            }

            #[test]
            fn a_hash_recorded_twice_is_pending_once() {
                let (mut store, _guard) = $make;
                let doc = TestDoc::with_changes("aa01", 2);
                store
                    .append_changes(&case(1), &doc.changes[0], &[doc.hashes[0], doc.hashes[0]])
                    .unwrap();
                store
                    .append_changes(&case(1), &doc.changes[1], &[doc.hashes[1], doc.hashes[0]])
                    .unwrap();
                assert_eq!(store.pending_changes(&case(1)).unwrap(), doc.hashes);
                assert_eq!(store.pending_count().unwrap(), 2);
            }

            #[test]
            fn pending_count_sums_over_cases() {
                let (mut store, _guard) = $make;
                let one = TestDoc::with_changes("aa01", 2);
                let two = TestDoc::with_changes("bb02", 3);
                store
                    .append_changes(&case(1), &one.changes.concat(), &one.hashes)
                    .unwrap();
                store
                    .append_changes(&case(2), &two.changes.concat(), &two.hashes)
                    .unwrap();
                assert_eq!(store.pending_count().unwrap(), 5);
            }

            #[test]
            fn secrets_put_get_replace_delete() {
                let (mut store, _guard) = $make;
                store.put_secret("device-key", b"first").unwrap();
                store.put_secret("sync-state", b"").unwrap();
                assert_eq!(
                    store.get_secret("device-key").unwrap(),
                    Some(b"first".to_vec())
                );
                assert_eq!(store.get_secret("sync-state").unwrap(), Some(Vec::new()));

                store.put_secret("device-key", b"second").unwrap();
                assert_eq!(
                    store.get_secret("device-key").unwrap(),
                    Some(b"second".to_vec())
                );

                store.delete_secret("device-key").unwrap();
                assert_eq!(store.get_secret("device-key").unwrap(), None);
                store.delete_secret("device-key").unwrap();
                store.delete_secret("never-stored").unwrap();
                assert_eq!(store.get_secret("sync-state").unwrap(), Some(Vec::new()));
                assert_eq!(store.case_ids().unwrap(), vec![], "secrets are not cases");
            }

            #[test]
            fn case_ids_lists_every_case_in_id_order() {
                let (mut store, _guard) = $make;
                let doc = TestDoc::with_changes("aa01", 1);
                for n in [5, 1, 200, 3] {
                    store
                        .append_changes(&case(n), &doc.changes[0], &[])
                        .unwrap();
                }
                store
                    .replace_with_snapshot(&case(9), &doc.doc.save())
                    .unwrap();
                assert_eq!(
                    store.case_ids().unwrap(),
                    vec![case(1), case(3), case(5), case(9), case(200)]
                );
            }
        }
    };
}

pub(crate) use store_suite;
