//! Relay metrics in the Prometheus text format: the platform's own counters (auth failures,
//! storage latency) plus the sync engine's snapshot (connections, messages, bytes, documents).

use crate::sync::SyncMetrics;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Latency bucket bounds in seconds.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.0,
];

/// A fixed-bucket latency histogram, updated lock-free.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micros
            .fetch_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels},le=\"{bound}\"}} {}",
                bucket.load(Relaxed)
            );
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
    }
}

/// Which authentication step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Enrol,
    Challenge,
    Token,
    Bearer,
    RateLimited,
    Revoked,
    /// A dashboard sign-in with a wrong name or password.
    Login,
    /// A wrong or replayed TOTP code at dashboard sign-in.
    SecondFactor,
}

impl AuthFailure {
    const ALL: [AuthFailure; 8] = [
        AuthFailure::Enrol,
        AuthFailure::Challenge,
        AuthFailure::Token,
        AuthFailure::Bearer,
        AuthFailure::RateLimited,
        AuthFailure::Revoked,
        AuthFailure::Login,
        AuthFailure::SecondFactor,
    ];

    fn label(self) -> &'static str {
        match self {
            AuthFailure::Enrol => "enrol",
            AuthFailure::Challenge => "challenge",
            AuthFailure::Token => "token",
            AuthFailure::Bearer => "bearer",
            AuthFailure::RateLimited => "rate_limited",
            AuthFailure::Revoked => "revoked",
            AuthFailure::Login => "dashboard_login",
            AuthFailure::SecondFactor => "dashboard_second_factor",
        }
    }
}

/// The platform's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    auth_failures: [AtomicU64; 8],
    pub storage_load: Histogram,
    pub storage_append: Histogram,
    pub storage_compact: Histogram,
    pub tokens_issued: AtomicU64,
    pub enrolments: AtomicU64,
    pub access_reloads: AtomicU64,
    pub directory_writes: AtomicU64,
}

impl Metrics {
    pub fn auth_failure(&self, kind: AuthFailure) {
        let idx = AuthFailure::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(0);
        self.auth_failures[idx].fetch_add(1, Relaxed);
    }

    pub fn auth_failures(&self, kind: AuthFailure) -> u64 {
        let idx = AuthFailure::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(0);
        self.auth_failures[idx].load(Relaxed)
    }

    /// The Prometheus text exposition of everything.
    pub fn render(&self, sync: &SyncMetrics) -> String {
        let mut out = String::with_capacity(4096);
        let mut counter = |name: &str, help: &str, kind: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        counter(
            "peerlog_sync_connections",
            "Open sync connections.",
            "gauge",
            sync.connections_open,
        );
        counter(
            "peerlog_sync_connections_total",
            "Sync connections accepted since start.",
            "counter",
            sync.connections_total,
        );
        counter(
            "peerlog_sync_connections_refused_total",
            "Sync connections closed for a protocol violation or limit.",
            "counter",
            sync.connections_refused,
        );
        counter(
            "peerlog_sync_messages_received_total",
            "Sync messages received.",
            "counter",
            sync.messages_in,
        );
        counter(
            "peerlog_sync_messages_sent_total",
            "Sync messages sent.",
            "counter",
            sync.messages_out,
        );
        counter(
            "peerlog_sync_bytes_received_total",
            "Sync bytes received.",
            "counter",
            sync.bytes_in,
        );
        counter(
            "peerlog_sync_bytes_sent_total",
            "Sync bytes sent.",
            "counter",
            sync.bytes_out,
        );
        counter(
            "peerlog_sync_protocol_errors_total",
            "Malformed or refused sync messages.",
            "counter",
            sync.protocol_errors,
        );
        counter(
            "peerlog_docs_loaded",
            "Documents held in memory.",
            "gauge",
            sync.docs_loaded,
        );
        counter(
            "peerlog_doc_loads_total",
            "Documents loaded from storage.",
            "counter",
            sync.doc_loads,
        );
        counter(
            "peerlog_doc_evictions_total",
            "Documents evicted from memory.",
            "counter",
            sync.doc_evictions,
        );
        counter(
            "peerlog_commits_total",
            "Group commits (one fsynced transaction each).",
            "counter",
            sync.commits,
        );
        counter(
            "peerlog_committed_appends_total",
            "Document appends in group commits.",
            "counter",
            sync.committed_appends,
        );
        counter(
            "peerlog_storage_failures_total",
            "Failed storage operations.",
            "counter",
            sync.storage_failures,
        );
        counter(
            "peerlog_tokens_issued_total",
            "Access tokens issued.",
            "counter",
            self.tokens_issued.load(Relaxed),
        );
        counter(
            "peerlog_enrolments_total",
            "Devices enrolled.",
            "counter",
            self.enrolments.load(Relaxed),
        );
        counter(
            "peerlog_access_reloads_total",
            "Reloads of the access cache after a database change.",
            "counter",
            self.access_reloads.load(Relaxed),
        );
        counter(
            "peerlog_directory_writes_total",
            "Directory document updates.",
            "counter",
            self.directory_writes.load(Relaxed),
        );

        let _ = writeln!(
            out,
            "# HELP peerlog_auth_failures_total Failed authentication attempts by step.\n# TYPE peerlog_auth_failures_total counter"
        );
        for kind in AuthFailure::ALL {
            let _ = writeln!(
                out,
                "peerlog_auth_failures_total{{step=\"{}\"}} {}",
                kind.label(),
                self.auth_failures(kind)
            );
        }
        let _ = writeln!(
            out,
            "# HELP peerlog_storage_seconds Relay storage latency by operation.\n# TYPE peerlog_storage_seconds histogram"
        );
        self.storage_load
            .render(&mut out, "peerlog_storage_seconds", "op=\"load\"");
        self.storage_append
            .render(&mut out, "peerlog_storage_seconds", "op=\"append\"");
        self.storage_compact
            .render(&mut out, "peerlog_storage_seconds", "op=\"compact\"");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.auth_failure(AuthFailure::Token);
        m.storage_append.observe(Duration::from_millis(3));
        let text = m.render(&SyncMetrics {
            connections_open: 2,
            ..SyncMetrics::default()
        });
        assert!(text.contains("peerlog_sync_connections 2\n"));
        assert!(text.contains("peerlog_auth_failures_total{step=\"token\"} 1\n"));
        assert!(text.contains("peerlog_storage_seconds_bucket{op=\"append\",le=\"0.005\"} 1\n"));
        assert!(text.contains("peerlog_storage_seconds_bucket{op=\"append\",le=\"0.0025\"} 0\n"));
        assert!(text.contains("peerlog_storage_seconds_count{op=\"append\"} 1\n"));
    }
}
