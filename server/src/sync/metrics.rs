//! Counters of the sync engine, updated lock-free and read as a plain snapshot for `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Live counters (shared by connections, hub threads and the storage threads).
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub(crate) connections_open: AtomicU64,
    pub(crate) connections_total: AtomicU64,
    pub(crate) connections_refused: AtomicU64,
    pub(crate) messages_in: AtomicU64,
    pub(crate) messages_out: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) protocol_errors: AtomicU64,
    pub(crate) doc_unavailable_sent: AtomicU64,
    pub(crate) docs_loaded: AtomicU64,
    pub(crate) doc_loads: AtomicU64,
    pub(crate) doc_evictions: AtomicU64,
    pub(crate) commits: AtomicU64,
    pub(crate) committed_appends: AtomicU64,
    pub(crate) commit_micros_total: AtomicU64,
    pub(crate) commit_micros_max: AtomicU64,
    pub(crate) load_micros_total: AtomicU64,
    pub(crate) storage_failures: AtomicU64,
    pub(crate) changes_refused: AtomicU64,
}

impl Metrics {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn dec(counter: &AtomicU64) {
        counter.fetch_sub(1, Relaxed);
    }

    pub(crate) fn record_commit(&self, appends: usize, micros: u64) {
        Self::inc(&self.commits);
        Self::add(&self.committed_appends, appends as u64);
        Self::add(&self.commit_micros_total, micros);
        self.commit_micros_max.fetch_max(micros, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> SyncMetrics {
        SyncMetrics {
            connections_open: self.connections_open.load(Relaxed),
            connections_total: self.connections_total.load(Relaxed),
            connections_refused: self.connections_refused.load(Relaxed),
            messages_in: self.messages_in.load(Relaxed),
            messages_out: self.messages_out.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            protocol_errors: self.protocol_errors.load(Relaxed),
            doc_unavailable_sent: self.doc_unavailable_sent.load(Relaxed),
            docs_loaded: self.docs_loaded.load(Relaxed),
            doc_loads: self.doc_loads.load(Relaxed),
            doc_evictions: self.doc_evictions.load(Relaxed),
            commits: self.commits.load(Relaxed),
            committed_appends: self.committed_appends.load(Relaxed),
            commit_micros_total: self.commit_micros_total.load(Relaxed),
            commit_micros_max: self.commit_micros_max.load(Relaxed),
            load_micros_total: self.load_micros_total.load(Relaxed),
            storage_failures: self.storage_failures.load(Relaxed),
            changes_refused: self.changes_refused.load(Relaxed),
        }
    }
}

/// A point-in-time copy of the sync engine's counters. Totals count since start; `*_open` and
/// `docs_loaded` are gauges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncMetrics {
    pub connections_open: u64,
    pub connections_total: u64,
    /// Connections closed by the engine for a protocol violation or limit.
    pub connections_refused: u64,
    pub messages_in: u64,
    pub messages_out: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub protocol_errors: u64,
    pub doc_unavailable_sent: u64,
    pub docs_loaded: u64,
    pub doc_loads: u64,
    pub doc_evictions: u64,
    /// Group commits (one durable storage transaction each).
    pub commits: u64,
    /// Document appends written by those commits.
    pub committed_appends: u64,
    pub commit_micros_total: u64,
    pub commit_micros_max: u64,
    pub load_micros_total: u64,
    pub storage_failures: u64,
    /// Device change sets refused at the door (schema, relay-owned fields, quotas).
    pub changes_refused: u64,
}
