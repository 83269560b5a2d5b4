//! Test-only fakes for the engine's ports: in-memory document storage (optionally gated, to hold
//! a commit open) and a table-driven access policy.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};

use peerlog_core::ids::CaseId;

use automerge::{Automerge, Change, ReadDoc};

use super::ports::{
    Access, AccessPolicy, DocAppend, DocStorage, Principal, Role, StorageError, WriteRefused,
};

pub(crate) fn principal(user: &str, role: Role, device: &str) -> Principal {
    Principal {
        user: user.parse().expect("user id"),
        role,
        device: device.parse().expect("device id"),
    }
}

pub(crate) fn case(n: u8) -> CaseId {
    CaseId::from_bytes([n; 16])
}

/// Access by (device, document); everything else is `None`.
#[derive(Debug, Default)]
pub(crate) struct TableAccess {
    grants: Mutex<HashMap<(String, CaseId), Access>>,
    /// The door check of these tests: refuse any document that gains this root key.
    refused_key: Mutex<Option<&'static str>>,
}

impl TableAccess {
    pub(crate) fn grant(&self, who: &Principal, doc: CaseId, access: Access) {
        self.grants
            .lock()
            .unwrap()
            .insert((who.device.to_string(), doc), access);
    }

    pub(crate) fn refuse_root_key(&self, key: &'static str) {
        *self.refused_key.lock().unwrap() = Some(key);
    }
}

impl AccessPolicy for TableAccess {
    fn access(&self, who: &Principal, doc: &CaseId) -> Access {
        self.grants
            .lock()
            .unwrap()
            .get(&(who.device.to_string(), *doc))
            .copied()
            .unwrap_or(Access::None)
    }

    fn check_write(
        &self,
        _who: &Principal,
        _doc: &CaseId,
        am: &Automerge,
        _changes: &[&Change],
    ) -> Result<(), WriteRefused> {
        match *self.refused_key.lock().unwrap() {
            Some(key) if am.get(automerge::ROOT, key).ok().flatten().is_some() => {
                Err(WriteRefused {
                    code: "test-refusal",
                    reason: "a key these tests refuse".to_owned(),
                })
            }
            _ => Ok(()),
        }
    }
}

/// Documents as concatenated chunks in memory. `hold()` makes `append` block until `release()`.
#[derive(Debug, Default)]
pub(crate) struct MemStorage {
    docs: Mutex<HashMap<CaseId, Vec<u8>>>,
    gate: Mutex<bool>,
    opened: Condvar,
    /// Every event in order: "append:<n docs>", "returned".
    pub(crate) log: Mutex<Vec<String>>,
}

impl MemStorage {
    pub(crate) fn get(&self, doc: &CaseId) -> Option<Vec<u8>> {
        self.docs.lock().unwrap().get(doc).cloned()
    }

    pub(crate) fn hold(&self) {
        *self.gate.lock().unwrap() = true;
    }

    pub(crate) fn release(&self) {
        *self.gate.lock().unwrap() = false;
        self.opened.notify_all();
    }
}

impl DocStorage for MemStorage {
    fn load(&self, doc: &CaseId) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.get(doc))
    }

    fn append(&self, batch: &[DocAppend]) -> Result<(), StorageError> {
        let mut held = self.gate.lock().unwrap();
        while *held {
            held = self.opened.wait(held).unwrap();
        }
        drop(held);
        let mut docs = self.docs.lock().unwrap();
        for a in batch {
            docs.entry(a.doc).or_default().extend_from_slice(&a.changes);
        }
        self.log
            .lock()
            .unwrap()
            .push(format!("append:{}", batch.len()));
        Ok(())
    }

    fn compact(&self, doc: &CaseId, snapshot: &[u8]) -> Result<(), StorageError> {
        self.docs.lock().unwrap().insert(*doc, snapshot.to_vec());
        Ok(())
    }
}

/// Shares one fake between the engine (as a trait object) and the test.
pub(crate) fn shared<T: Default>() -> Arc<T> {
    Arc::new(T::default())
}
