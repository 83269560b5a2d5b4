//! The seam between the relay platform and the sync engine: what the platform asks of it (serve a
//! socket, write a document as the relay, disconnect a device, re-check access, report numbers).
//!
//! [`OfflineEngine`] is the engine-less implementation: it writes documents straight to storage and
//! serves no sockets. The admin CLI uses it (no server running), and so do tests of the
//! platform. The live implementation wraps the sync engine's `SyncService` (`engine/live.rs`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use automerge::Automerge;
use axum::extract::ws::WebSocket;
use peerlog_core::ids::{CaseId, DeviceId};

use crate::sync::SyncMetrics;
use crate::sync::ports::{DocAppend, DocStorage, Principal, StorageError};

pub mod live;

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

/// A case engine with no live sync: writes go straight to storage.
#[derive(Clone)]
pub struct OfflineEngine {
    storage: Arc<dyn DocStorage>,
}

impl std::fmt::Debug for OfflineEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfflineEngine").finish_non_exhaustive()
    }
}

impl OfflineEngine {
    pub fn new(storage: Arc<dyn DocStorage>) -> Self {
        Self { storage }
    }

    /// Loads the document, runs the edit and appends the new changes (blocking).
    pub fn apply_blocking(&self, doc: CaseId, edit: DocEdit) -> Result<(), EngineError> {
        let mut current = match self.storage.load(&doc).map_err(EngineError::Storage)? {
            Some(bytes) => Automerge::load(&bytes).map_err(EngineError::Load)?,
            None => Automerge::new(),
        };
        let before = current.get_heads();
        edit(&mut current).map_err(EngineError::Edit)?;
        let mut changes = Vec::new();
        let mut hashes = Vec::new();
        for change in current.get_changes(&before) {
            changes.extend_from_slice(change.raw_bytes());
            hashes.push(change.hash());
        }
        if hashes.is_empty() {
            return Ok(());
        }
        self.storage
            .append(&[DocAppend {
                doc,
                changes,
                written_by: None,
                hashes,
            }])
            .map_err(EngineError::Storage)
    }
}

impl CaseEngine for OfflineEngine {
    fn serve(&self, socket: WebSocket, _who: Principal) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            // No sync engine: close at once (clients retry later).
            drop(socket);
        })
    }

    fn max_frame_bytes(&self) -> usize {
        8 * 1024 * 1024
    }

    fn update_doc(&self, doc: CaseId, edit: DocEdit) -> BoxFuture<'_, Result<(), EngineError>> {
        let this = self.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || this.apply_blocking(doc, edit))
                .await
                .map_err(|_| EngineError::Closed)?
        })
    }

    fn disconnect_device(&self, _device: &DeviceId) {}

    fn access_changed(&self) {}

    fn metrics(&self) -> SyncMetrics {
        SyncMetrics::default()
    }
}
