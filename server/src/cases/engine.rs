//! The seam between the relay platform and the sync engine: what the platform asks of it (serve a
//! socket, write a document as the relay, disconnect a device, re-check access, report numbers).
//!
//! Two implementations: [`offline::OfflineEngine`] writes documents straight to storage and
//! serves no sockets (the admin CLI uses it, with no server running, and so do tests of the
//! platform); [`live::LiveEngine`] wraps the sync engine's `SyncService`.

use std::future::Future;
use std::pin::Pin;

use automerge::Automerge;
use axum::extract::ws::WebSocket;
use peerlog_core::ids::{CaseId, DeviceId};

use crate::sync::SyncMetrics;
use crate::sync::ports::{Principal, StorageError};

pub mod live;
pub mod offline;

/// A boxed, sendable future (the seam stays object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a relay-side edit refused to run (the closure's own error).
pub type EditRefused = Box<dyn std::error::Error + Send + Sync>;

/// A relay-side edit of one document, run against the current document.
pub type DocEdit = Box<dyn FnOnce(&mut Automerge) -> Result<(), EditRefused> + Send>;

/// Why a relay-side document write failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the relay's document storage failed")]
    Storage(#[source] StorageError),
    #[error("the stored document does not load")]
    Load(#[source] automerge::AutomergeError),
    #[error("the edit refused to run")]
    Edit(#[source] EditRefused),
    #[error("the sync engine refused the write")]
    Engine(#[source] crate::sync::SyncError),
    #[error("the sync engine is not running")]
    Closed,
}

/// What the platform needs from the sync engine.
pub trait CaseEngine: Send + Sync + 'static {
    /// Serves one upgraded WebSocket for an authenticated device until it closes.
    fn serve(&self, socket: WebSocket, who: Principal) -> BoxFuture<'static, ()>;
    /// The largest WebSocket message to accept (configured before the upgrade).
    fn max_frame_bytes(&self) -> usize;
    /// Edits a document as the relay: persists the change, then brings connected peers up to
    /// date. Creates the document if it does not exist.
    fn update_doc(&self, doc: CaseId, edit: DocEdit) -> BoxFuture<'_, Result<(), EngineError>>;
    /// Closes every connection of a device at once (revocation).
    fn disconnect_device(&self, device: &DeviceId);
    /// Access rules changed: re-check every open (connection, document) pair.
    fn access_changed(&self);
    /// The engine's counters for `/metrics`.
    fn metrics(&self) -> SyncMetrics;
}
