//! The sync engine: automerge-repo protocol v1 over WebSocket, as a hub on the bare automerge crate.
//!
//! Layout:
//! - `session.rs` — one connection's protocol state machine (handshake, identity, limits), sans IO;
//! - `hub.rs` — documents, per-(document, connection) sync states, durability and eviction, sans IO;
//! - `runtime.rs` — hub shard threads, loader threads and the group-committing storage writer;
//! - `socket.rs` — the WebSocket driver and a minimal router for tests;
//! - `ports.rs` — what the engine needs from the rest of the relay.
//!
//! The rest of the relay holds a [`SyncService`] (a cheap clone) and calls [`SyncService::upgrade`]
//! from its authenticated `GET /sync` route.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use automerge::{ActorId, Automerge};
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::response::Response;
use peerlog_core::ids::{CaseId, DeviceId};
use peerlog_core::protocol::PeerId;
use tokio::sync::{Notify, oneshot};

mod config;
mod hub;
mod metrics;
pub mod ports;
mod quota;
mod runtime;
mod session;
mod socket;
#[cfg(test)]
mod testkit;

pub use config::{SyncConfig, random_storage_id};
pub use metrics::SyncMetrics;
pub use socket::{TokenAuth, router};

use hub::{ConnId, HubConfig, Input};
use metrics::Metrics;
use ports::{AccessPolicy, DocStorage};
use runtime::{RuntimeConfig, ShardMsg, Shards};

/// Read and write buffer of each WebSocket. tungstenite allocates its 128 KiB default eagerly
/// per connection: half the relay's heap at 200 phones. Case sync frames are mostly far smaller,
/// and larger ones still arrive whole (the buffer refills), so 8 KiB costs little.
const WS_BUFFER_BYTES: usize = 8 * 1024;

/// The relay's WebSocket settings: frames and messages up to `max_frame_bytes`, small buffers.
pub fn configure_upgrade(ws: WebSocketUpgrade, max_frame_bytes: usize) -> WebSocketUpgrade {
    ws.max_message_size(max_frame_bytes)
        .max_frame_size(max_frame_bytes)
        .read_buffer_size(WS_BUFFER_BYTES)
        .write_buffer_size(WS_BUFFER_BYTES)
}

/// Why a server-side document write failed. No document content in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("document storage failed; the change was not stored")]
    Storage,
    #[error("the stored document could not be loaded")]
    Load,
    #[error("the update function panicked; nothing it left unfinished was kept")]
    UpdatePanicked,
    #[error("the sync engine has stopped")]
    Stopped,
}

/// The sync engine. Cheap to clone; all clones share one engine.
#[derive(Clone, Debug)]
pub struct SyncService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: SyncConfig,
    server_peer: PeerId,
    shards: Shards,
    metrics: Arc<Metrics>,
    next_conn: AtomicU64,
    /// Open connections per device, so that revocation can close them at once.
    devices: Mutex<HashMap<DeviceId, HashMap<ConnId, Arc<Notify>>>>,
}

impl SyncService {
    /// Starts the engine's threads (hub shards, loaders, storage writer). They stop when the last
    /// clone of the service and the last connection are gone.
    pub fn new(
        storage: Arc<dyn DocStorage>,
        access: Arc<dyn AccessPolicy>,
        config: SyncConfig,
    ) -> Self {
        let server_peer = PeerId::new(config.peer_id.clone()).unwrap_or_else(|_| {
            tracing::warn!("configured sync peer id is empty or too long; using the default");
            PeerId::new("peerlog-relay").unwrap_or_else(|_| unreachable!("a valid literal"))
        });
        let metrics = Arc::new(Metrics::default());
        let shards = runtime::start(
            storage,
            access,
            RuntimeConfig {
                hub: HubConfig {
                    peer_id: server_peer.clone(),
                    actor: ActorId::random(),
                    max_loaded_docs: config.max_loaded_docs,
                    compact_after_appends: config.compact_after_appends,
                    check_content: config.check_content,
                    max_doc_ops: config.max_doc_ops,
                    device_quota: Arc::new(quota::DeviceQuota::new(
                        config.max_device_bytes_per_day,
                    )),
                },
                shards: config.shards,
                load_threads: config.load_threads,
                max_commit_batch: config.max_commit_batch,
            },
            metrics.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                config,
                server_peer,
                shards,
                metrics,
                next_conn: AtomicU64::new(1),
                devices: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Our peer id on the wire.
    pub fn peer_id(&self) -> &str {
        self.inner.server_peer.as_str()
    }

    /// Completes an authenticated WebSocket upgrade and serves the connection for `principal`.
    /// Sets the WebSocket layer's message size limit to `max_frame_bytes`.
    pub fn upgrade(&self, ws: WebSocketUpgrade, principal: ports::Principal) -> Response {
        let max = self.inner.config.max_frame_bytes;
        let service = self.clone();
        configure_upgrade(ws, max)
            .on_upgrade(move |socket| async move { service.serve_socket(socket, principal).await })
    }

    /// Serves an already upgraded WebSocket for an authenticated principal until it closes.
    pub async fn serve_socket(&self, socket: WebSocket, principal: ports::Principal) {
        socket::serve(self.inner.clone(), socket, principal).await;
    }

    /// Writes a document on the relay's behalf (case creation and closure, directory documents),
    /// creating it if storage does not have it. Returns once the change is durable; connected
    /// peers syncing the document are then brought up to date. `f` runs on a hub thread: keep
    /// it short and do not block in it.
    pub async fn update_doc<R, F>(&self, doc: CaseId, f: F) -> Result<R, SyncError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Automerge) -> R + Send + 'static,
    {
        let slot = Arc::new(Mutex::new(None));
        let out = slot.clone();
        let run: hub::UpdateFn = Box::new(move |am: &mut Automerge| {
            let r = f(am);
            *out.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
        });
        let (tx, rx) = oneshot::channel();
        let done: hub::UpdateDone = Box::new(move |result| {
            let _ = tx.send(result);
        });
        self.inner
            .shards
            .for_doc(&doc)
            .send(ShardMsg::Input(Input::Update { doc, run, done }, None))
            .map_err(|_| SyncError::Stopped)?;
        rx.await.map_err(|_| SyncError::Stopped)??;
        let r = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        r.ok_or(SyncError::UpdatePanicked)
    }

    /// Closes every open connection of a device at once (revocation).
    pub fn disconnect_device(&self, device: &DeviceId) {
        let devices = self.inner.devices.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(conns) = devices.get(device) {
            for kill in conns.values() {
                kill.notify_one();
            }
        }
    }

    /// Re-evaluates access for every open (document, connection) pair: call after a case was
    /// reassigned or closed, or a user's role or team changed.
    pub fn access_changed(&self) {
        for shard in self.inner.shards.all() {
            let _ = shard.send(ShardMsg::Input(Input::AccessChanged, None));
        }
    }

    /// The engine's counters.
    pub fn metrics(&self) -> SyncMetrics {
        self.inner.metrics.snapshot()
    }
}

impl Inner {
    fn register(&self, device: &DeviceId, conn: ConnId, kill: Arc<Notify>) {
        let mut devices = self.devices.lock().unwrap_or_else(|p| p.into_inner());
        devices
            .entry(device.clone())
            .or_default()
            .insert(conn, kill);
    }

    fn unregister(&self, device: &DeviceId, conn: ConnId) {
        let mut devices = self.devices.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(conns) = devices.get_mut(device) {
            conns.remove(&conn);
            if conns.is_empty() {
                devices.remove(device);
            }
        }
    }

    fn next_conn(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests;
