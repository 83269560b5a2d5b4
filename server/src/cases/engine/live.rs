//! [`LiveEngine`]: the [`CaseEngine`] seam over the sync engine's [`SyncService`].

use automerge::Automerge;
use axum::extract::ws::WebSocket;
use peerlog_core::ids::{CaseId, DeviceId};

use crate::cases::engine::{BoxFuture, CaseEngine, DocEdit, EngineError};
use crate::sync::SyncMetrics;
use crate::sync::ports::Principal;
use crate::sync::{SyncError, SyncService};

/// The live sync engine behind the platform's seam.
#[derive(Debug, Clone)]
pub struct LiveEngine {
    service: SyncService,
    max_frame_bytes: usize,
}

impl LiveEngine {
    pub fn new(service: SyncService, max_frame_bytes: usize) -> Self {
        Self {
            service,
            max_frame_bytes,
        }
    }

    pub fn service(&self) -> &SyncService {
        &self.service
    }
}

fn engine_error(e: SyncError) -> EngineError {
    match e {
        SyncError::Stopped => EngineError::Closed,
        other => EngineError::Engine(other),
    }
}

impl CaseEngine for LiveEngine {
    fn serve(&self, socket: WebSocket, who: Principal) -> BoxFuture<'static, ()> {
        let service = self.service.clone();
        Box::pin(async move { service.serve_socket(socket, who).await })
    }

    fn max_frame_bytes(&self) -> usize {
        self.max_frame_bytes
    }

    fn update_doc(&self, doc: CaseId, edit: DocEdit) -> BoxFuture<'_, Result<(), EngineError>> {
        Box::pin(async move {
            self.service
                .update_doc(doc, move |am: &mut Automerge| edit(am))
                .await
                .map_err(engine_error)?
                .map_err(EngineError::Edit)
        })
    }

    fn disconnect_device(&self, device: &DeviceId) {
        self.service.disconnect_device(device);
    }

    fn access_changed(&self) {
        self.service.access_changed();
    }

    fn metrics(&self) -> SyncMetrics {
        self.service.metrics()
    }
}
