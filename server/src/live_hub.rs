//! [`LiveHub`]: the [`SyncHub`] seam over the sync engine's [`SyncService`].

use automerge::Automerge;
use axum::extract::ws::WebSocket;
use peerlog_core::ids::{CaseId, DeviceId};

use crate::hub::{BoxFuture, DocEdit, HubError, SyncHub};
use crate::metrics::SyncNumbers;
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

    fn metrics(&self) -> SyncNumbers {
        let m = self.service.metrics();
        SyncNumbers {
            connections_open: m.connections_open,
            connections_total: m.connections_total,
            connections_refused: m.connections_refused,
            messages_in: m.messages_in,
            messages_out: m.messages_out,
            bytes_in: m.bytes_in,
            bytes_out: m.bytes_out,
            protocol_errors: m.protocol_errors,
            docs_loaded: m.docs_loaded,
            doc_loads: m.doc_loads,
            doc_evictions: m.doc_evictions,
            commits: m.commits,
            committed_appends: m.committed_appends,
            storage_failures: m.storage_failures,
        }
    }
}
