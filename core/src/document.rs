//! One Automerge document per case: creating, loading, merging and reading it.
//!
//! The operations a phone performs live in `document/ops.rs`; each runs in one Automerge
//! transaction that is committed with a timestamp or rolled back whole, so a refused input never
//! leaves a half-written document.

use automerge::sync::SyncDoc;
use automerge::transaction::CommitOptions;
use automerge::{ActorId, Automerge, AutomergeError, ChangeHash};
use jiff::civil::Date;
use rand::RngCore;

use crate::ids::{CaseId, DeviceId, TeamId, UserId};
use crate::model::{Boundaries, Case, ServiceUser, UnixMillis};

mod ops;
mod read;
pub mod schema;
pub mod validate;

pub use ops::{ContactPatch, NewContact, NewGoal};
pub use validate::{Invalid, Problem};

/// Why a document could not be read. Names a path in the document, never its content.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("the document lacks {path}")]
    Missing { path: &'static str },
    #[error("{path} has the wrong type")]
    WrongType { path: &'static str },
    #[error("{path} holds a value this version cannot read")]
    BadValue { path: &'static str },
    #[error("the document has schema {found}; this version understands up to {supported}")]
    NewerSchema { found: u64, supported: u64 },
    #[error("the document's caseId does not match the id it is stored under")]
    IdMismatch,
    #[error("the document nests objects deeper than the case schema")]
    TooDeep,
    #[error("the document bytes could not be loaded")]
    Load(#[source] Box<AutomergeError>),
    #[error("merging changes failed")]
    Merge(#[source] Box<AutomergeError>),
    #[error("automerge refused an internal write")]
    Automerge(#[source] Box<AutomergeError>),
}

impl DocumentError {
    fn load(e: AutomergeError) -> Self {
        DocumentError::Load(Box::new(e))
    }

    fn merge(e: AutomergeError) -> Self {
        DocumentError::Merge(Box::new(e))
    }
}

impl From<AutomergeError> for DocumentError {
    fn from(e: AutomergeError) -> Self {
        DocumentError::Automerge(Box::new(e))
    }
}

/// Why an operation on a case was refused. The document is unchanged in every case.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("invalid input: {0}")]
    Invalid(#[from] Invalid),
    #[error("no such {what} in this case")]
    NotFound { what: &'static str },
    #[error("the contact was deleted")]
    ContactDeleted,
    #[error("the case is closed")]
    CaseClosed,
    #[error(transparent)]
    Document(#[from] DocumentError),
}

impl From<AutomergeError> for EditError {
    fn from(e: AutomergeError) -> Self {
        EditError::Document(e.into())
    }
}

/// What every edit needs from the outside world: the time, the device, and randomness for new ids.
pub struct EditCtx<'a> {
    pub now: UnixMillis,
    pub device: &'a DeviceId,
    pub rng: &'a mut dyn RngCore,
}

impl std::fmt::Debug for EditCtx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EditCtx")
            .field("now", &self.now)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

/// Everything a coordinator decides when opening a case.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub id: CaseId,
    pub team: TeamId,
    pub prw: UserId,
    pub service_user: ServiceUser,
    pub started_on: Date,
    pub planned_end: Date,
    pub boundaries: Boundaries,
}

/// A case document with the actor id of the device (or relay) that edits it.
#[derive(Debug, Clone)]
pub struct CaseDoc {
    id: CaseId,
    doc: Automerge,
}

impl CaseDoc {
    /// Creates the document of a new case. Only the relay does this in production (devices never
    /// create documents), but tests and tools use it too.
    pub fn create(new: NewCase, actor: ActorId, ctx: &mut EditCtx<'_>) -> Result<Self, EditError> {
        let mut doc = Automerge::new().with_actor(actor);
        let now = ctx.now;
        doc.transact_with(
            |_| commit_options("create-case", now),
            |tx| ops::write_new_case(tx, &new, ctx),
        )
        .map_err(|failure| failure.error)?;
        Ok(Self { id: new.id, doc })
    }

    /// Loads a document from saved bytes (a snapshot and/or changes, concatenated), checks that it
    /// is a case document with the expected id, and upgrades an older schema.
    pub fn load(id: CaseId, bytes: &[u8], actor: ActorId) -> Result<Self, DocumentError> {
        let doc = Automerge::load(bytes).map_err(DocumentError::load)?;
        Self::from_automerge(id, doc.with_actor(actor))
    }

    /// An empty document for a case this device has been granted but not yet received; sync fills
    /// it. Reading it fails with [`DocumentError::Missing`] until the first changes arrive.
    pub fn empty(id: CaseId, actor: ActorId) -> Self {
        Self {
            id,
            doc: Automerge::new().with_actor(actor),
        }
    }

    /// Wraps an Automerge document after checking its id and schema.
    pub fn from_automerge(id: CaseId, doc: Automerge) -> Result<Self, DocumentError> {
        let mut case = Self { id, doc };
        if !case.doc.is_empty() {
            case.check_identity()?;
        }
        Ok(case)
    }

    pub fn id(&self) -> CaseId {
        self.id
    }

    pub fn automerge(&self) -> &Automerge {
        &self.doc
    }

    /// Direct access for the sync layer (applying sync messages). Case content must only be
    /// written through the operations.
    pub fn automerge_mut(&mut self) -> &mut Automerge {
        &mut self.doc
    }

    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The whole document, compacted.
    pub fn save(&self) -> Vec<u8> {
        self.doc.save()
    }

    /// Encoded changes made since `heads`, concatenated, with their hashes.
    pub fn changes_since(&self, heads: &[ChangeHash]) -> (Vec<u8>, Vec<ChangeHash>) {
        let mut bytes = Vec::new();
        let mut hashes = Vec::new();
        for change in self.doc.get_changes(heads) {
            bytes.extend_from_slice(change.raw_bytes());
            hashes.push(change.hash());
        }
        (bytes, hashes)
    }

    /// Applies encoded changes or a saved document from elsewhere. Returns how many changes were
    /// new. Afterwards the document's identity and schema are checked again.
    pub fn apply_encoded(&mut self, bytes: &[u8]) -> Result<usize, DocumentError> {
        let applied = self
            .doc
            .load_incremental(bytes)
            .map_err(DocumentError::merge)?;
        self.check_identity()?;
        Ok(applied)
    }

    /// Applies one automerge sync message from a peer, then checks identity and schema again.
    pub fn receive_sync_message(
        &mut self,
        state: &mut automerge::sync::State,
        message: automerge::sync::Message,
    ) -> Result<(), DocumentError> {
        self.doc
            .receive_sync_message(state, message)
            .map_err(DocumentError::merge)?;
        self.check_identity()
    }

    /// The next automerge sync message for a peer, if there is anything to say.
    pub fn generate_sync_message(
        &self,
        state: &mut automerge::sync::State,
    ) -> Option<automerge::sync::Message> {
        self.doc.generate_sync_message(state)
    }

    /// Merges another replica of the same case into this one.
    pub fn merge(&mut self, other: &mut CaseDoc) -> Result<(), DocumentError> {
        if other.id != self.id {
            return Err(DocumentError::IdMismatch);
        }
        self.doc
            .merge(&mut other.doc)
            .map_err(DocumentError::merge)?;
        self.check_identity()
    }

    /// Reads the whole case into typed values.
    pub fn read(&self) -> Result<Case, DocumentError> {
        read::case(&self.doc, self.id)
    }

    fn check_identity(&mut self) -> Result<(), DocumentError> {
        if self.doc.is_empty() {
            return Ok(());
        }
        let stored_id = read::root_case_id(&self.doc)?;
        if stored_id != self.id {
            return Err(DocumentError::IdMismatch);
        }
        let found = read::schema_version(&self.doc)?;
        if found > schema::CURRENT_SCHEMA {
            return Err(DocumentError::NewerSchema {
                found,
                supported: schema::CURRENT_SCHEMA,
            });
        }
        if found < schema::CURRENT_SCHEMA {
            self.doc
                .transact_with(
                    |_| commit_options("upgrade-schema", 0),
                    |tx| schema::upgrade(tx, found),
                )
                .map_err(|failure| failure.error)?;
        }
        Ok(())
    }

    /// Runs one operation in a transaction, refusing every edit of a closed case unless
    /// `allow_closed`. Commits with the edit's time; rolls back on any error.
    fn edit<T>(
        &mut self,
        name: &'static str,
        ctx: &mut EditCtx<'_>,
        allow_closed: bool,
        op: impl FnOnce(
            &mut automerge::transaction::Transaction<'_>,
            &mut EditCtx<'_>,
        ) -> Result<T, EditError>,
    ) -> Result<T, EditError> {
        if !allow_closed && read::is_closed(&self.doc)? {
            return Err(EditError::CaseClosed);
        }
        let now = ctx.now;
        self.doc
            .transact_with(|_| commit_options(name, now), |tx| op(tx, ctx))
            .map(|success| success.result)
            .map_err(|failure| failure.error)
    }
}

/// Commit options for a local edit: the change's time in seconds (automerge's convention; it
/// leaves it 0 otherwise) and the operation's name, which carries no personal data.
fn commit_options(name: &str, now: UnixMillis) -> CommitOptions {
    CommitOptions::default()
        .with_time(now.div_euclid(1000))
        .with_message(name)
}

#[cfg(test)]
mod convergence;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
