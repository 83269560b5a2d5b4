//! A device's cases: documents held in memory, every edit saved durably to a [`Store`] before it
//! is reported done, and the bookkeeping of which local changes the relay has confirmed.

use std::collections::{BTreeMap, BTreeSet};

use automerge::sync::SyncDoc;
use automerge::{ActorId, Automerge, ChangeHash, ReadDoc, sync};
use rand::RngCore;

use crate::directory::{self, Directory};
use crate::document::schema::check::{Refusal, check_device_changes};
use crate::document::{CaseDoc, DocumentError, EditCtx, EditError};
use crate::ids::{CaseId, DeviceId};
use crate::model::{Case, UnixMillis};
use crate::store::{Store, StoreError};

/// After this many stored changes a case is compacted into one snapshot.
const COMPACT_AFTER_CHANGES: usize = 64;
/// Name of the stored Automerge actor id of this device.
const ACTOR_SECRET: &str = "automerge-actor";

/// Names of the stored directory document id and bytes, and of the last successful sync time.
const DIRECTORY_ID_SECRET: &str = "directory-id";
const DIRECTORY_DOC_SECRET: &str = "directory-doc";
const LAST_SYNC_SECRET: &str = "last-sync";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// What the lost-phone policy allows right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockState {
    /// Synced recently enough: everything works.
    Open,
    /// Too long without a sync: no case content is readable or writable until the next sync.
    Locked,
    /// Far too long: the app must destroy the store and its key now.
    MustWipe,
}

fn sync_state_name(case: &CaseId) -> String {
    format!("sync-state/{case}")
}

/// What went wrong with a device's local cases. Never carries case content.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("this device holds no such case")]
    UnknownCase,
    #[error("the device has not synced for too long; sync to unlock")]
    Locked,
    /// The user may read this case but not change it (the relay would never accept the edit).
    #[error("this case is read-only for this user")]
    ReadOnly,
    /// The case left this user's directory (reassigned, closed away): the device keeps it sealed
    /// only until its unsynced changes have reached the relay, and takes no new edits.
    #[error("this case was handed over; it takes no new edits")]
    HandingOver,
    #[error("the stored actor id is damaged")]
    BadActor,
    #[error("the directory document is damaged")]
    BadDirectory,
    #[error("a stored case could not be loaded")]
    Load(#[source] DocumentError),
    #[error("the relay would refuse this edit: {0}")]
    Refused(#[source] Refusal),
    #[error(transparent)]
    Edit(#[from] EditError),
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The cases one device holds, backed by a store.
#[derive(Debug)]
pub struct LocalCases<S: Store> {
    store: S,
    device: DeviceId,
    actor: ActorId,
    cases: BTreeMap<CaseId, CaseDoc>,
    /// Changes stored since each case's last snapshot.
    uncompacted: BTreeMap<CaseId, usize>,
    /// Cases whose stored data did not load (see [`LocalCases::quarantined`]).
    quarantined: BTreeSet<CaseId>,
    compaction_failures: u64,
    /// The user's directory document (read-only, written by the relay), once known.
    directory: Option<(CaseId, Automerge)>,
    locked: bool,
}

impl<S: Store> LocalCases<S> {
    /// Opens the cases held in `store`. A new store gets a fresh random actor id for this device.
    pub fn open(mut store: S, device: DeviceId, rng: &mut dyn RngCore) -> Result<Self, LocalError> {
        let actor = match store.get_secret(ACTOR_SECRET)? {
            Some(bytes) if bytes.len() == 16 => ActorId::from(bytes),
            Some(_) => return Err(LocalError::BadActor),
            None => {
                let mut bytes = [0u8; 16];
                rng.fill_bytes(&mut bytes);
                store.put_secret(ACTOR_SECRET, &bytes)?;
                ActorId::from(bytes)
            }
        };
        let mut cases = BTreeMap::new();
        let mut uncompacted = BTreeMap::new();
        let mut quarantined = BTreeSet::new();
        for id in store.case_ids()? {
            // One damaged case must not close the whole store (and a wipe would lose every other
            // case's unsynced edits): it is set aside, its stored bytes untouched.
            let loaded = store
                .load_case(&id)
                .map_err(LocalError::from)
                .and_then(|stored| {
                    let Some(stored) = stored else {
                        return Ok(None);
                    };
                    let doc = CaseDoc::load(id, &stored.concatenated(), actor.clone())
                        .map_err(LocalError::Load)?;
                    Ok(Some((doc, stored.changes.len())))
                });
            match loaded {
                Ok(Some((doc, changes))) => {
                    uncompacted.insert(id, changes);
                    cases.insert(id, doc);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(case = %id, error = %e, "a stored case does not load; set aside");
                    quarantined.insert(id);
                }
            }
        }
        let directory = match store.get_secret(DIRECTORY_ID_SECRET)? {
            Some(id) => {
                let id: CaseId = String::from_utf8(id)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or(LocalError::BadDirectory)?;
                let doc = match store.get_secret(DIRECTORY_DOC_SECRET)? {
                    Some(bytes) => Automerge::load(&bytes).map_err(|_| LocalError::BadDirectory)?,
                    None => Automerge::new(),
                };
                Some((id, doc))
            }
            None => None,
        };
        Ok(Self {
            store,
            device,
            actor,
            cases,
            uncompacted,
            quarantined,
            compaction_failures: 0,
            directory,
            locked: false,
        })
    }

    /// Cases whose stored data did not load when the store was opened: set aside (never synced
    /// or shown, their bytes kept), so that every other case works. The app tells the user.
    pub fn quarantined(&self) -> Vec<CaseId> {
        self.quarantined.iter().copied().collect()
    }

    pub fn is_quarantined(&self, case: &CaseId) -> bool {
        self.quarantined.contains(case)
    }

    /// Compactions that failed since the store was opened (each is retried after the next edit;
    /// the edits themselves were saved).
    pub fn compaction_failures(&self) -> u64 {
        self.compaction_failures
    }

    /// Sets the id of this user's directory document (given at enrolment).
    pub fn set_directory_id(&mut self, id: CaseId) -> Result<(), LocalError> {
        if self
            .directory
            .as_ref()
            .is_some_and(|(known, _)| *known == id)
        {
            return Ok(());
        }
        self.store
            .put_secret(DIRECTORY_ID_SECRET, id.to_string().as_bytes())?;
        self.store.delete_secret(DIRECTORY_DOC_SECRET)?;
        self.directory = Some((id, Automerge::new()));
        Ok(())
    }

    pub fn directory_id(&self) -> Option<CaseId> {
        self.directory.as_ref().map(|(id, _)| *id)
    }

    /// The directory as last received; `None` before the first sync.
    pub fn directory(&self) -> Option<Directory> {
        let (_, doc) = self.directory.as_ref()?;
        directory::read(doc).ok()
    }

    /// Records a successful sync at `now` (unlocks a locked store).
    pub fn record_sync(&mut self, now: UnixMillis) -> Result<(), LocalError> {
        self.store
            .put_secret(LAST_SYNC_SECRET, &now.to_be_bytes())?;
        self.locked = false;
        Ok(())
    }

    /// The last successful sync, if any.
    pub fn last_sync(&self) -> Result<Option<UnixMillis>, LocalError> {
        Ok(self
            .store
            .get_secret(LAST_SYNC_SECRET)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map(i64::from_be_bytes))
    }

    /// Applies the organisation's lost-phone policy (from the directory; defaults before the
    /// first sync) at `now`: locks case content after `lock_after_days` without a successful
    /// sync and tells the app to wipe after `wipe_after_days`. A device that never synced counts
    /// from when it first applied the policy.
    pub fn apply_lost_phone_policy(&mut self, now: UnixMillis) -> Result<LockState, LocalError> {
        let policy = self.directory().map(|d| d.lost_phone).unwrap_or_default();
        let last = match self.last_sync()? {
            Some(t) => t,
            None => {
                self.record_sync(now)?;
                now
            }
        };
        let days = now.saturating_sub(last).max(0) / DAY_MS;
        let state = if days >= i64::from(policy.wipe_after_days) {
            LockState::MustWipe
        } else if days >= i64::from(policy.lock_after_days) {
            LockState::Locked
        } else {
            LockState::Open
        };
        self.locked = state != LockState::Open;
        Ok(state)
    }

    pub fn device(&self) -> &DeviceId {
        &self.device
    }

    pub fn case_ids(&self) -> Vec<CaseId> {
        self.cases.keys().copied().collect()
    }

    pub fn doc(&self, case: &CaseId) -> Option<&CaseDoc> {
        self.cases.get(case)
    }

    /// Reads one case.
    pub fn read(&self, case: &CaseId) -> Result<Case, LocalError> {
        if self.locked {
            return Err(LocalError::Locked);
        }
        Ok(self
            .cases
            .get(case)
            .ok_or(LocalError::UnknownCase)?
            .read()?)
    }

    /// Every readable case (cases still waiting for their first sync are skipped).
    pub fn read_all(&self) -> Vec<Case> {
        if self.locked {
            return Vec::new();
        }
        self.cases
            .values()
            .filter_map(|doc| doc.read().ok())
            .collect()
    }

    /// Runs one operation on a case and saves the resulting change durably before returning.
    /// If saving fails, the in-memory document is rolled back to what the store holds, so memory
    /// never shows an edit that would be lost.
    pub fn edit<T>(
        &mut self,
        case: &CaseId,
        now: UnixMillis,
        rng: &mut dyn RngCore,
        op: impl FnOnce(&mut CaseDoc, &mut EditCtx<'_>) -> Result<T, EditError>,
    ) -> Result<T, LocalError> {
        if self.locked {
            return Err(LocalError::Locked);
        }
        if !self.cases.contains_key(case) {
            return Err(LocalError::UnknownCase);
        }
        if let Some(directory) = self.directory() {
            match directory.cases.get(case) {
                // A case the user may only read (a coordinator's team case): an edit could never
                // sync.
                Some(entry) if entry.access == directory::CaseAccess::Read => {
                    return Err(LocalError::ReadOnly);
                }
                Some(_) => {}
                // No longer listed: held only until its unsynced changes have reached the relay.
                None => return Err(LocalError::HandingOver),
            }
        }
        let doc = self.cases.get_mut(case).ok_or(LocalError::UnknownCase)?;
        let before = doc.heads();
        let mut ctx = EditCtx {
            now,
            device: &self.device,
            rng,
        };
        let result = match op(doc, &mut ctx) {
            Ok(result) => result,
            Err(e) => {
                // An earlier operation of the closure may have written: undo it with the rest.
                if doc.heads() != before {
                    revert(doc, *case, &before, &self.actor)?;
                }
                return Err(e.into());
            }
        };
        // The relay's door check, run here first: an honest app never holds a change the relay
        // would refuse (it would stay pending for ever).
        let changes = doc.automerge().get_changes(&before);
        let refs: Vec<&automerge::Change> = changes.iter().collect();
        if let Err(refusal) = check_device_changes(doc.automerge(), &refs) {
            revert(doc, *case, &before, &self.actor)?;
            return Err(LocalError::Refused(refusal));
        }
        let (bytes, hashes) = doc.changes_since(&before);
        self.persist(case, &bytes, &hashes)?;
        Ok(result)
    }

    /// Merges changes (or a whole saved document) received from the relay, storing what was new.
    /// A case not held yet is created. Returns the number of new changes.
    pub fn receive(&mut self, case: &CaseId, bytes: &[u8]) -> Result<usize, LocalError> {
        self.merge_remote(case, |doc| doc.apply_encoded(bytes).map(|_| ()))
    }

    /// Applies one automerge sync message from the relay for a case (creating the case if this
    /// device does not hold it yet) and stores what was new. Returns the number of new changes.
    pub fn receive_sync_message(
        &mut self,
        case: &CaseId,
        state: &mut sync::State,
        message: sync::Message,
    ) -> Result<usize, LocalError> {
        if let Some((id, doc)) = self.directory.as_mut()
            && id == case
        {
            let before = doc.get_heads();
            doc.receive_sync_message(state, message)
                .map_err(|_| LocalError::BadDirectory)?;
            let new = doc.get_changes(&before).len();
            if new > 0 {
                let bytes = doc.save();
                self.store.put_secret(DIRECTORY_DOC_SECRET, &bytes)?;
            }
            return Ok(new);
        }
        self.merge_remote(case, |doc| doc.receive_sync_message(state, message))
    }

    /// The next sync message for the relay about a case; for a case not held yet, a request.
    pub fn generate_sync_message(
        &self,
        case: &CaseId,
        state: &mut sync::State,
    ) -> Option<sync::Message> {
        if let Some((id, doc)) = &self.directory
            && id == case
        {
            return doc.generate_sync_message(state);
        }
        match self.cases.get(case) {
            Some(doc) => doc.generate_sync_message(state),
            None => CaseDoc::empty(*case, self.actor.clone()).generate_sync_message(state),
        }
    }

    /// The sync state kept with the relay for a case from the last session (fresh if none):
    /// a reconnect with nothing new then costs one small round trip, not a bloom filter of the
    /// whole history.
    pub fn sync_state(&self, case: &CaseId) -> Result<sync::State, LocalError> {
        Ok(self
            .store
            .get_secret(&sync_state_name(case))?
            .and_then(|bytes| sync::State::decode(&bytes).ok())
            .unwrap_or_default())
    }

    /// Keeps a case's sync state for the next session.
    pub fn save_sync_state(
        &mut self,
        case: &CaseId,
        state: &sync::State,
    ) -> Result<(), LocalError> {
        Ok(self
            .store
            .put_secret(&sync_state_name(case), &state.encode())?)
    }

    /// Runs `merge` on a case's document (created empty if new) and stores the new changes; on
    /// failure memory is put back to what the store holds.
    fn merge_remote(
        &mut self,
        case: &CaseId,
        merge: impl FnOnce(&mut CaseDoc) -> Result<(), DocumentError>,
    ) -> Result<usize, LocalError> {
        // Set aside: nothing is merged into a case whose stored data does not load.
        if self.quarantined.contains(case) {
            return Ok(0);
        }
        let actor = self.actor.clone();
        let doc = self
            .cases
            .entry(*case)
            .or_insert_with(|| CaseDoc::empty(*case, actor));
        let before = doc.heads();
        if let Err(err) = merge(doc) {
            self.reload(case)?;
            return Err(err.into());
        }
        let (new_bytes, new_hashes) = doc.changes_since(&before);
        if new_hashes.is_empty() {
            if before.is_empty() && doc.heads().is_empty() {
                self.cases.remove(case);
            }
            return Ok(0);
        }
        self.persist(case, &new_bytes, &[])?;
        Ok(new_hashes.len())
    }

    /// Local changes of one case the relay has not confirmed yet.
    pub fn pending_for(&self, case: &CaseId) -> Result<usize, LocalError> {
        Ok(self.store.pending_changes(case)?.len())
    }

    /// Whether the case is held but no longer listed in the directory: it waits to hand over
    /// its unsynced changes and is not shown in the case list.
    pub fn is_handing_over(&self, case: &CaseId) -> bool {
        self.cases.contains_key(case)
            && self
                .directory()
                .is_some_and(|directory| !directory.cases.contains_key(case))
    }

    /// Local changes the relay has not confirmed yet, over all cases.
    pub fn pending_count(&self) -> Result<u64, LocalError> {
        Ok(self.store.pending_count()?)
    }

    /// Records that the relay's document has `relay_heads`: every pending local change that is an
    /// ancestor of a head this device knows is confirmed. Returns how many were confirmed.
    pub fn confirm(
        &mut self,
        case: &CaseId,
        relay_heads: &[ChangeHash],
    ) -> Result<usize, LocalError> {
        let doc = self.cases.get(case).ok_or(LocalError::UnknownCase)?;
        let known: Vec<ChangeHash> = relay_heads
            .iter()
            .filter(|h| doc.automerge().get_change_by_hash(h).is_some())
            .copied()
            .collect();
        let not_at_relay: BTreeSet<ChangeHash> = doc
            .automerge()
            .get_changes(&known)
            .iter()
            .map(|c| c.hash())
            .collect();
        let confirmed: Vec<ChangeHash> = self
            .store
            .pending_changes(case)?
            .into_iter()
            .filter(|h| !not_at_relay.contains(h))
            .collect();
        self.store.mark_confirmed(case, &confirmed)?;
        Ok(confirmed.len())
    }

    /// Removes a case and all its history from this device (reassigned away, or erased).
    pub fn remove_case(&mut self, case: &CaseId) -> Result<(), LocalError> {
        self.store.delete_case(case)?;
        self.store.delete_secret(&sync_state_name(case))?;
        self.cases.remove(case);
        self.uncompacted.remove(case);
        Ok(())
    }

    /// Replaces a case's stored changes with one snapshot.
    pub fn compact(&mut self, case: &CaseId) -> Result<(), LocalError> {
        let doc = self.cases.get(case).ok_or(LocalError::UnknownCase)?;
        self.store.replace_with_snapshot(case, &doc.save())?;
        self.uncompacted.insert(*case, 0);
        Ok(())
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn into_store(self) -> S {
        self.store
    }

    fn persist(
        &mut self,
        case: &CaseId,
        bytes: &[u8],
        local: &[ChangeHash],
    ) -> Result<(), LocalError> {
        if bytes.is_empty() {
            return Ok(());
        }
        if let Err(err) = self.store.append_changes(case, bytes, local) {
            self.reload(case)?;
            return Err(err.into());
        }
        let count = self.uncompacted.entry(*case).or_insert(0);
        *count += 1;
        // The edit is durable now: a compaction that fails is logged and retried after the next
        // edit, never reported as a failed edit (an app would log the contact twice).
        if *count >= COMPACT_AFTER_CHANGES
            && let Err(e) = self.compact(case)
        {
            self.compaction_failures += 1;
            tracing::warn!(case = %case, error = %e, "compaction failed; retried after the next edit");
        }
        Ok(())
    }

    /// Puts the in-memory document back to what the store holds.
    fn reload(&mut self, case: &CaseId) -> Result<(), LocalError> {
        match self.store.load_case(case)? {
            Some(stored) => {
                let doc = CaseDoc::load(*case, &stored.concatenated(), self.actor.clone())
                    .map_err(LocalError::Load)?;
                self.cases.insert(*case, doc);
            }
            None => {
                self.cases.remove(case);
            }
        }
        Ok(())
    }
}

/// Puts `doc` back to `before` (changes made in memory, none of them stored yet).
fn revert(
    doc: &mut CaseDoc,
    case: CaseId,
    before: &[ChangeHash],
    actor: &ActorId,
) -> Result<(), LocalError> {
    let reverted = doc
        .automerge()
        .fork_at(before)
        .map_err(DocumentError::from)?
        .with_actor(actor.clone());
    *doc = CaseDoc::from_automerge(case, reverted)?;
    Ok(())
}

#[cfg(test)]
mod tests;
