//! Tests of a device's local cases: durable edits, confirmation by the relay, rollback on failure.

use automerge::ChangeHash;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::document::test_support::{NOW, sample_case, sample_contact};
use crate::store::{MemoryStore, StoredCase};

/// A store that can be told to fail its next writes, as a full disk would.
#[derive(Debug, Default)]
struct FlakyStore {
    inner: MemoryStore,
    fail_writes: bool,
    /// Fail only compactions (a snapshot needs room for the whole case at once).
    fail_snapshots: bool,
}

fn disk_full() -> StoreError {
    StoreError::Write {
        what: "changes",
        source: rusqlite::Error::ExecuteReturnedResults,
    }
}

impl Store for FlakyStore {
    fn case_ids(&self) -> Result<Vec<CaseId>, StoreError> {
        self.inner.case_ids()
    }
    fn load_case(&self, case: &CaseId) -> Result<Option<StoredCase>, StoreError> {
        self.inner.load_case(case)
    }
    fn append_changes(
        &mut self,
        case: &CaseId,
        changes: &[u8],
        local: &[ChangeHash],
    ) -> Result<(), StoreError> {
        if self.fail_writes {
            return Err(disk_full());
        }
        self.inner.append_changes(case, changes, local)
    }
    fn replace_with_snapshot(&mut self, case: &CaseId, snapshot: &[u8]) -> Result<(), StoreError> {
        if self.fail_writes || self.fail_snapshots {
            return Err(disk_full());
        }
        self.inner.replace_with_snapshot(case, snapshot)
    }
    fn delete_case(&mut self, case: &CaseId) -> Result<(), StoreError> {
        self.inner.delete_case(case)
    }
    fn pending_changes(&self, case: &CaseId) -> Result<Vec<ChangeHash>, StoreError> {
        self.inner.pending_changes(case)
    }
    fn pending_count(&self) -> Result<u64, StoreError> {
        self.inner.pending_count()
    }
    fn mark_confirmed(&mut self, case: &CaseId, hashes: &[ChangeHash]) -> Result<(), StoreError> {
        self.inner.mark_confirmed(case, hashes)
    }
    fn get_secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get_secret(name)
    }
    fn put_secret(&mut self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.inner.put_secret(name, value)
    }
    fn delete_secret(&mut self, name: &str) -> Result<(), StoreError> {
        self.inner.delete_secret(name)
    }
}

fn setup<S: Store>(store: S, rng: &mut ChaCha8Rng) -> (LocalCases<S>, CaseDoc) {
    let relay = sample_case(rng);
    let mut cases = LocalCases::open(store, "phone".parse().unwrap(), rng).unwrap();
    assert_eq!(cases.receive(&relay.id(), &relay.save()).unwrap(), 1);
    (cases, relay)
}

fn log(
    cases: &mut LocalCases<impl Store>,
    case: &CaseId,
    rng: &mut ChaCha8Rng,
) -> Result<crate::ids::ContactId, LocalError> {
    cases.edit(case, NOW, rng, |doc, ctx| {
        doc.log_contact(ctx, &sample_contact(NOW))
    })
}

#[test]
fn edits_are_stored_and_survive_reopening() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (mut cases, relay) = setup(MemoryStore::default(), &mut rng);
    let id = log(&mut cases, &relay.id(), &mut rng).unwrap();
    let before = cases.read(&relay.id()).unwrap();
    let actor = cases
        .doc(&relay.id())
        .unwrap()
        .automerge()
        .get_actor()
        .clone();

    let reopened =
        LocalCases::open(cases.into_store(), "phone".parse().unwrap(), &mut rng).unwrap();
    assert_eq!(reopened.read(&relay.id()).unwrap(), before);
    assert!(before.contacts.contains_key(&id));
    assert_eq!(
        reopened.doc(&relay.id()).unwrap().automerge().get_actor(),
        &actor,
        "the device keeps its actor id across restarts"
    );
    assert_eq!(reopened.pending_count().unwrap(), 1);
}

#[test]
fn only_changes_the_relay_holds_are_confirmed() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (mut cases, mut relay) = setup(MemoryStore::default(), &mut rng);
    let case = relay.id();
    log(&mut cases, &case, &mut rng).unwrap();
    let heads_after_first = cases.doc(&case).unwrap().heads();
    log(&mut cases, &case, &mut rng).unwrap();
    assert_eq!(cases.pending_count().unwrap(), 2);

    // Heads the device does not know confirm nothing.
    assert_eq!(cases.confirm(&case, &[ChangeHash([7; 32])]).unwrap(), 0);
    // The relay has the first contact only.
    assert_eq!(cases.confirm(&case, &heads_after_first).unwrap(), 1);
    assert_eq!(cases.pending_count().unwrap(), 1);
    // The relay receives everything; the second is confirmed; confirming again is harmless.
    let (bytes, _) = cases.doc(&case).unwrap().changes_since(&relay.heads());
    relay.apply_encoded(&bytes).unwrap();
    assert_eq!(cases.confirm(&case, &relay.heads()).unwrap(), 1);
    assert_eq!(cases.confirm(&case, &relay.heads()).unwrap(), 0);
    assert_eq!(cases.pending_count().unwrap(), 0);
}

#[test]
fn a_failed_save_leaves_no_phantom_edit() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (mut cases, relay) = setup(FlakyStore::default(), &mut rng);
    let case = relay.id();
    let kept = log(&mut cases, &case, &mut rng).unwrap();
    let heads = cases.doc(&case).unwrap().heads();

    cases.store.fail_writes = true;
    assert!(matches!(
        log(&mut cases, &case, &mut rng),
        Err(LocalError::Store(_))
    ));
    assert_eq!(
        cases.doc(&case).unwrap().heads(),
        heads,
        "memory matches the store"
    );
    assert_eq!(cases.read(&case).unwrap().contacts.len(), 1);

    cases.store.fail_writes = false;
    log(&mut cases, &case, &mut rng).unwrap();
    let case_now = cases.read(&case).unwrap();
    assert_eq!(case_now.contacts.len(), 2);
    assert!(case_now.contacts.contains_key(&kept));
}

#[test]
fn garbage_from_the_network_is_refused_and_creates_nothing() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (mut cases, relay) = setup(MemoryStore::default(), &mut rng);
    let stranger = CaseId::random(&mut rng);
    assert!(
        cases
            .receive(&stranger, b"\x85\x6f\x4a\x83 not automerge")
            .is_err()
    );
    assert_eq!(cases.case_ids(), vec![relay.id()]);
    assert!(cases.store().load_case(&stranger).unwrap().is_none());
    // A real document under the wrong id is refused too.
    assert!(matches!(
        cases.receive(&stranger, &relay.save()),
        Err(LocalError::Document(DocumentError::IdMismatch))
    ));
    assert_eq!(cases.case_ids(), vec![relay.id()]);
}

#[test]
fn compaction_keeps_every_edit_and_the_pending_list() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (mut cases, relay) = setup(MemoryStore::default(), &mut rng);
    let case = relay.id();
    for _ in 0..(COMPACT_AFTER_CHANGES + 5) {
        log(&mut cases, &case, &mut rng).unwrap();
    }
    let stored = cases.store().load_case(&case).unwrap().unwrap();
    assert!(stored.snapshot.is_some(), "compacted into a snapshot");
    assert!(stored.changes.len() < COMPACT_AFTER_CHANGES);
    let before = cases.read(&case).unwrap();
    let reopened =
        LocalCases::open(cases.into_store(), "phone".parse().unwrap(), &mut rng).unwrap();
    assert_eq!(reopened.read(&case).unwrap(), before);
    assert_eq!(
        reopened.pending_count().unwrap(),
        (COMPACT_AFTER_CHANGES + 5) as u64
    );
}

#[test]
fn removing_a_case_removes_its_history() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let (mut cases, relay) = setup(MemoryStore::default(), &mut rng);
    log(&mut cases, &relay.id(), &mut rng).unwrap();
    cases.remove_case(&relay.id()).unwrap();
    assert!(cases.case_ids().is_empty());
    assert!(cases.store().load_case(&relay.id()).unwrap().is_none());
    assert_eq!(cases.pending_count().unwrap(), 0);
    assert!(matches!(
        cases.read(&relay.id()),
        Err(LocalError::UnknownCase)
    ));
}

#[test]
fn an_edit_the_relay_would_refuse_is_refused_here_and_leaves_nothing_pending() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (mut cases, relay) = setup(MemoryStore::default(), &mut rng);
    let id = relay.id();
    log(&mut cases, &id, &mut rng).unwrap();
    let before = cases.doc(&id).unwrap().heads();
    let pending = cases.pending_count().unwrap();
    let refused = cases.edit(
        &id,
        NOW,
        &mut rng,
        |doc: &mut CaseDoc, _: &mut EditCtx<'_>| {
            let mut tx = doc.automerge_mut().transaction();
            automerge::transaction::Transactable::put(
                &mut tx,
                automerge::ROOT,
                "prw",
                "someone-else",
            )
            .unwrap();
            tx.commit();
            Ok(())
        },
    );
    assert!(
        matches!(
            refused,
            Err(LocalError::Refused(Refusal::RelayOwned("prw")))
        ),
        "{refused:?}"
    );
    assert_eq!(
        cases.doc(&id).unwrap().heads(),
        before,
        "the edit is undone"
    );
    assert_eq!(cases.pending_count().unwrap(), pending, "nothing pending");
    assert!(cases.doc(&id).unwrap().read().is_ok());
}

#[test]
fn an_edit_whose_compaction_fails_is_saved_and_reported_saved() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (mut cases, relay) = setup(FlakyStore::default(), &mut rng);
    let case = relay.id();
    cases.store.fail_snapshots = true;
    let mut ids = Vec::new();
    for _ in 0..(COMPACT_AFTER_CHANGES + 3) {
        ids.push(log(&mut cases, &case, &mut rng).expect("saved means saved"));
    }
    assert!(
        cases.compaction_failures() >= 4,
        "every try failed and was counted"
    );
    assert_eq!(
        cases.read(&case).unwrap().contacts.len(),
        ids.len(),
        "no duplicates"
    );
    assert_eq!(cases.pending_count().unwrap(), ids.len() as u64);

    // Compaction succeeds on a later edit; nothing was lost or written twice.
    cases.store.fail_snapshots = false;
    ids.push(log(&mut cases, &case, &mut rng).unwrap());
    let stored = cases.store().load_case(&case).unwrap().unwrap();
    assert!(stored.snapshot.is_some());
    let reopened =
        LocalCases::open(cases.into_store(), "phone".parse().unwrap(), &mut rng).unwrap();
    let contacts = reopened.read(&case).unwrap().contacts;
    assert_eq!(contacts.len(), ids.len());
    assert!(ids.iter().all(|id| contacts.contains_key(id)));
}

#[test]
fn one_damaged_case_is_set_aside_and_every_other_case_opens() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let (mut cases, relay) = setup(MemoryStore::default(), &mut rng);
    let good = relay.id();
    let kept = log(&mut cases, &good, &mut rng).unwrap();
    let damaged = sample_case(&mut rng);
    cases.receive(&damaged.id(), &damaged.save()).unwrap();
    let mut store = cases.into_store();
    store
        .append_changes(&damaged.id(), b"not an automerge chunk", &[])
        .unwrap();

    let reopened = LocalCases::open(store, "phone".parse().unwrap(), &mut rng).expect("opens");
    assert_eq!(reopened.quarantined(), vec![damaged.id()]);
    assert_eq!(reopened.case_ids(), vec![good]);
    assert!(reopened.read(&good).unwrap().contacts.contains_key(&kept));
    assert_eq!(
        reopened.pending_count().unwrap(),
        1,
        "the good case's edit is still pending"
    );
    assert!(
        reopened.store().load_case(&damaged.id()).unwrap().is_some(),
        "the damaged case's bytes are kept"
    );
}

#[test]
fn an_operation_that_fails_after_an_earlier_one_wrote_leaves_nothing_behind() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let (mut cases, relay) = setup(MemoryStore::default(), &mut rng);
    let case = relay.id();
    let before = cases.doc(&case).unwrap().heads();
    let failed = cases.edit(
        &case,
        NOW,
        &mut rng,
        |doc: &mut CaseDoc, ctx: &mut EditCtx<'_>| {
            doc.log_contact(ctx, &sample_contact(NOW))?;
            doc.log_contact(ctx, &sample_contact(NOW + 400 * 24 * 3_600_000))
        },
    );
    assert!(matches!(failed, Err(LocalError::Edit(_))), "{failed:?}");
    assert_eq!(
        cases.doc(&case).unwrap().heads(),
        before,
        "the first contact is undone too"
    );
    assert_eq!(cases.pending_count().unwrap(), 0);
    log(&mut cases, &case, &mut rng).unwrap();
    assert_eq!(cases.read(&case).unwrap().contacts.len(), 1);
}
