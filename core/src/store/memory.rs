//! [`MemoryStore`]: the store in plain maps, for tests and simulations; nothing outlives the process.

use std::collections::BTreeMap;
use std::fmt;

use automerge::ChangeHash;

use super::{Store, StoreError, StoredCase};
use crate::ids::CaseId;

/// A [`Store`] in memory with the same semantics as [`super::SqliteStore`] (it passes the same
/// suite). Not encrypted: it never reaches a disk. Its `Debug` output shows counts, not content.
#[derive(Default)]
pub struct MemoryStore {
    cases: BTreeMap<CaseId, StoredCase>,
    /// Pending hashes per case, in the order they were first recorded.
    pending: BTreeMap<CaseId, Vec<ChangeHash>>,
    secrets: BTreeMap<String, Vec<u8>>,
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("cases", &self.cases.len())
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

impl Store for MemoryStore {
    fn case_ids(&self) -> Result<Vec<CaseId>, StoreError> {
        Ok(self.cases.keys().copied().collect())
    }

    fn load_case(&self, case: &CaseId) -> Result<Option<StoredCase>, StoreError> {
        Ok(self.cases.get(case).cloned())
    }

    fn append_changes(
        &mut self,
        case: &CaseId,
        changes: &[u8],
        local: &[ChangeHash],
    ) -> Result<(), StoreError> {
        let stored = self.cases.entry(*case).or_default();
        if !changes.is_empty() {
            stored.changes.push(changes.to_vec());
        }
        if !local.is_empty() {
            let pending = self.pending.entry(*case).or_default();
            for hash in local {
                if !pending.contains(hash) {
                    pending.push(*hash);
                }
            }
        }
        Ok(())
    }

    fn replace_with_snapshot(&mut self, case: &CaseId, snapshot: &[u8]) -> Result<(), StoreError> {
        self.cases.insert(
            *case,
            StoredCase {
                snapshot: Some(snapshot.to_vec()),
                changes: Vec::new(),
            },
        );
        Ok(())
    }

    fn delete_case(&mut self, case: &CaseId) -> Result<(), StoreError> {
        self.cases.remove(case);
        self.pending.remove(case);
        Ok(())
    }

    fn pending_changes(&self, case: &CaseId) -> Result<Vec<ChangeHash>, StoreError> {
        Ok(self.pending.get(case).cloned().unwrap_or_default())
    }

    fn pending_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .pending
            .values()
            .map(|hashes| hashes.len() as u64)
            .sum())
    }

    fn mark_confirmed(&mut self, case: &CaseId, hashes: &[ChangeHash]) -> Result<(), StoreError> {
        if let Some(pending) = self.pending.get_mut(case) {
            pending.retain(|hash| !hashes.contains(hash));
            if pending.is_empty() {
                self.pending.remove(case);
            }
        }
        Ok(())
    }

    fn get_secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.secrets.get(name).cloned())
    }

    fn put_secret(&mut self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.secrets.insert(name.to_owned(), value.to_vec());
        Ok(())
    }

    fn delete_secret(&mut self, name: &str) -> Result<(), StoreError> {
        self.secrets.remove(name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryStore;

    crate::store::suite::store_suite!((MemoryStore::default(), ()));
}
