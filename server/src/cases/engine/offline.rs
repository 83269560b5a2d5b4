//! [`OfflineEngine`]: the [`CaseEngine`] seam with no live sync. Writes go straight to storage
//! and no sockets are served; the admin CLI uses it (no server running), and so do tests of the
//! platform.

use std::sync::Arc;

use automerge::Automerge;
use axum::extract::ws::WebSocket;
use peerlog_core::ids::{CaseId, DeviceId};

use super::{BoxFuture, CaseEngine, DocEdit, EngineError};
use crate::sync::SyncMetrics;
use crate::sync::ports::{DocAppend, DocStorage, Principal};

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
