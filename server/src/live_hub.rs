//! [`LiveHub`]: the [`SyncHub`] seam over the sync engine's [`SyncService`].

use automerge::Automerge;
use axum::extract::ws::WebSocket;
use peerlog_core::ids::{CaseId, DeviceId};

use crate::hub::{BoxFuture, DocEdit, HubError, SyncHub};
use crate::sync::SyncMetrics;
use crate::sync::ports::Principal;
use crate::sync::{SyncError, SyncService};

/// The live sync engine behind the platform's seam.
#[derive(Debug, Clone)]
pub struct LiveHub {
    service: SyncService,
    max_frame_bytes: usize,
}

impl LiveHub {
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

fn hub_error(e: SyncError) -> HubError {
    match e {
        SyncError::Stopped => HubError::Closed,
        other => HubError::Engine(other),
    }
}

impl SyncHub for LiveHub {
    fn serve(&self, socket: WebSocket, who: Principal) -> BoxFuture<'static, ()> {
        let service = self.service.clone();
        Box::pin(async move { service.serve_socket(socket, who).await })
    }

    fn max_frame_bytes(&self) -> usize {
        self.max_frame_bytes
    }

    fn update_doc(&self, doc: CaseId, edit: DocEdit) -> BoxFuture<'_, Result<(), HubError>> {
        Box::pin(async move {
            self.service
                .update_doc(doc, move |am: &mut Automerge| edit(am))
                .await
                .map_err(hub_error)?
                .map_err(HubError::Edit)
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
