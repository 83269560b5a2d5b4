//! The sync engine's settings: identity on the wire, limits, cache size, threads.

use std::time::Duration;

/// Settings of the sync engine. `Default` gives sensible production values; the platform overrides
/// `peer_id` and, importantly, `storage_id` (keep it stable across restarts so that clients can
/// reuse their persisted sync states).
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Our peer id in `peer` replies and as `senderId` of everything we send.
    pub peer_id: String,
    /// Our storage id, advertised in `peer.peerMetadata.storageId`.
    pub storage_id: String,
    /// Largest accepted WebSocket message, checked before decoding (and configured in the
    /// WebSocket layer so that larger frames are never buffered).
    pub max_frame_bytes: usize,
    /// Sustained messages per second one connection may send.
    pub max_messages_per_sec: u32,
    /// Burst allowance on top of the sustained rate.
    pub message_burst: u32,
    /// How many distinct documents one connection may speak about.
    pub max_docs_per_connection: usize,
    /// How many documents stay loaded in memory (across all shards); least recently used
    /// documents beyond this are evicted once their changes are durable.
    pub max_loaded_docs: usize,
    /// Hub threads; each owns the documents whose id hashes to it.
    pub shards: usize,
    /// Threads that load (and parse) documents from storage.
    pub load_threads: usize,
    /// Compact a document's stored changes into one snapshot after this many appends.
    pub compact_after_appends: u32,
    /// WebSocket ping interval; a peer silent for two intervals is disconnected.
    pub ping_interval: Duration,
    /// Outgoing messages queued per connection before it is dropped as too slow.
    pub outbox_capacity: usize,
    /// Incoming messages per connection queued in the hub before reading pauses (backpressure).
    pub inbound_in_flight: usize,
    /// Most appends in one group commit.
    pub max_commit_batch: usize,
    /// Check every device change against the case schema before keeping it (the door check).
    /// Off only in tests and the benchmark's comparison run.
    pub check_content: bool,
    /// Most operations one document may hold. A two-year case from the report generator holds
    /// about 1/100 of the default (BENCHMARKS.md).
    pub max_doc_ops: u64,
    /// Bytes of changes one device may send per UTC day.
    pub max_device_bytes_per_day: u64,
}

impl Default for SyncConfig {
    fn default() -> Self {
        let shards = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
            .clamp(1, 8);
        Self {
            peer_id: "peerlog-relay".to_owned(),
            storage_id: random_storage_id(),
            max_frame_bytes: 8 * 1024 * 1024,
            max_messages_per_sec: 500,
            message_burst: 2000,
            max_docs_per_connection: 4096,
            max_loaded_docs: 10_000,
            shards,
            load_threads: 2,
            compact_after_appends: 64,
            ping_interval: Duration::from_secs(15),
            outbox_capacity: 4096,
            inbound_in_flight: 32,
            max_commit_batch: 4096,
            check_content: true,
            max_doc_ops: 2_000_000,
            max_device_bytes_per_day: 64 * 1024 * 1024,
        }
    }
}

/// A random storage id in the UUID text form automerge-repo uses.
pub fn random_storage_id() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
