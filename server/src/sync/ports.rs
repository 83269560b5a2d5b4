//! The sync engine's ports: what it needs from the rest of the relay (who is asking, may they,
//! where documents live) and what the rest of the relay may ask of it.
//!
//! The engine (`sync/`) and the relay's identity, access and storage code meet only here.

use automerge::{Automerge, Change, ChangeHash};
use peerlog_core::ids::{CaseId, DeviceId, UserId};

/// A relay user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Prw,
    Coordinator,
    Admin,
}

/// An authenticated device connection: the user, their role and the device. The peer id the
/// device must use on the wire is derived from the device (see [`Principal::peer_id`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    pub user: UserId,
    pub role: Role,
    pub device: DeviceId,
}

impl Principal {
    /// The automerge-repo peer id bound to this device: a connection whose `join` carries any
    /// other sender id is refused.
    pub fn peer_id(&self) -> String {
        format!("device-{}", self.device)
    }
}

/// What a principal may do with one document. `None` is indistinguishable on the wire from a
/// document that does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    None,
    Read,
    ReadWrite,
}

/// Decides access per (principal, document). Called on every sync message, so it must answer
/// from memory (implementations cache and invalidate). A revoked device gets `None` everywhere.
pub trait AccessPolicy: Send + Sync + 'static {
    fn access(&self, who: &Principal, doc: &CaseId) -> Access;

    /// The door check: may a device's new `changes`, already applied to the engine's in-memory
    /// copy `am` of `doc`, be kept? Called before anything of them is stored or sent to anyone;
    /// on a refusal the engine reverts its copy, tells the device why and closes the connection.
    fn check_write(
        &self,
        who: &Principal,
        doc: &CaseId,
        am: &Automerge,
        changes: &[&Change],
    ) -> Result<(), WriteRefused>;
}

/// Why a device's changes were not kept. Names a rule or a schema field, never content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteRefused {
    /// A short stable code for metrics and logs (`relay-owned`, `too-deep`, `quota`, …).
    pub code: &'static str,
    /// The reason sent to the device in the protocol `error` message.
    pub reason: String,
}

/// Why the relay's document storage failed. No document content in it.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("document storage failed while {step}")]
    Failed {
        step: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// One document's new changes in a group commit.
#[derive(Debug, Clone)]
pub struct DocAppend {
    pub doc: CaseId,
    /// Encoded changes, concatenated (as `CaseDoc::changes_since` returns them).
    pub changes: Vec<u8>,
    /// Which device wrote them (for the access log); `None` for the relay itself.
    pub written_by: Option<Principal>,
    pub hashes: Vec<ChangeHash>,
}

/// Where the relay keeps documents. Blocking calls: the engine runs them off the async threads.
pub trait DocStorage: Send + Sync + 'static {
    /// All stored bytes of a document (snapshot and changes concatenated), `None` if unknown.
    fn load(&self, doc: &CaseId) -> Result<Option<Vec<u8>>, StorageError>;
    /// Appends the changes of many documents in ONE durable transaction (fsync before return):
    /// the engine's group commit. Nothing is reported stored to any peer before this returns.
    fn append(&self, batch: &[DocAppend]) -> Result<(), StorageError>;
    /// Replaces a document's stored changes with one snapshot (compaction), atomically.
    fn compact(&self, doc: &CaseId, snapshot: &[u8]) -> Result<(), StorageError>;
}
