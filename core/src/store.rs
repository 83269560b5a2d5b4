//! The local store contract: where a device keeps its case documents, changes and small secrets.
//!
//! One trait, two implementations ([`MemoryStore`] and [`SqliteStore`]) that pass one shared test
//! suite (`store/suite.rs`). Stores see case documents only as opaque bytes; what the bytes mean is
//! the business of [`crate::document`]. Every method that writes is durable when it returns.

use automerge::ChangeHash;

use crate::ids::CaseId;

mod error;
mod memory;
mod sqlite;
#[cfg(test)]
mod suite;

pub use error::StoreError;
pub use memory::MemoryStore;
pub use sqlite::SqliteStore;

/// Everything stored for one case: the latest compacted snapshot (if any) and the changes
/// appended after it, in the order they were appended.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StoredCase {
    pub snapshot: Option<Vec<u8>>,
    pub changes: Vec<Vec<u8>>,
}

/// Shows sizes only: the bytes are case content.
impl std::fmt::Debug for StoredCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCase")
            .field("snapshot_bytes", &self.snapshot.as_ref().map(Vec::len))
            .field("changes", &self.changes.len())
            .finish()
    }
}

impl StoredCase {
    /// All chunks concatenated, in the form `automerge::Automerge::load` accepts.
    pub fn concatenated(&self) -> Vec<u8> {
        let mut all = self.snapshot.clone().unwrap_or_default();
        for change in &self.changes {
            all.extend_from_slice(change);
        }
        all
    }
}

/// Storage for a device's cases. Implementations must make every write durable before returning
/// (an app reports "saved" as soon as the call returns) and must keep case content unreadable at
/// rest where the medium outlives the process.
pub trait Store {
    /// Ids of every case held, in id order.
    fn case_ids(&self) -> Result<Vec<CaseId>, StoreError>;

    /// The stored snapshot and changes of a case, or `None` if the case is not held.
    fn load_case(&self, case: &CaseId) -> Result<Option<StoredCase>, StoreError>;

    /// Appends one encoded change (or several concatenated) to a case as one chunk, creating the
    /// case if new (empty `changes` store no chunk). `local` lists hashes of changes made on this
    /// device, which stay pending until confirmed; a hash already pending is not added twice.
    fn append_changes(
        &mut self,
        case: &CaseId,
        changes: &[u8],
        local: &[ChangeHash],
    ) -> Result<(), StoreError>;

    /// Replaces everything stored for a case with one snapshot (compaction). Atomic: after a
    /// crash either the old changes or the new snapshot are there, never neither. Pending hashes
    /// are kept. Creates the case if it is not held.
    fn replace_with_snapshot(&mut self, case: &CaseId, snapshot: &[u8]) -> Result<(), StoreError>;

    /// Removes a case and all it held (erasure or reassignment away from this device).
    fn delete_case(&mut self, case: &CaseId) -> Result<(), StoreError>;

    /// Hashes of local changes the relay has not confirmed yet, per case, in the order they were
    /// first recorded; empty for a case not held.
    fn pending_changes(&self, case: &CaseId) -> Result<Vec<ChangeHash>, StoreError>;

    /// Number of local changes not yet confirmed by the relay, over all cases.
    fn pending_count(&self) -> Result<u64, StoreError>;

    /// Marks local changes as confirmed by the relay (no longer pending). Hashes not pending are
    /// ignored, so confirming twice is harmless.
    fn mark_confirmed(&mut self, case: &CaseId, hashes: &[ChangeHash]) -> Result<(), StoreError>;

    /// A small sealed value by name (device key, sync state, settings).
    fn get_secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Stores a small sealed value by name, replacing any previous value.
    fn put_secret(&mut self, name: &str, value: &[u8]) -> Result<(), StoreError>;

    /// Removes a named value; no error if absent.
    fn delete_secret(&mut self, name: &str) -> Result<(), StoreError>;
}
