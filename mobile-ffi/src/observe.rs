//! The observer the app registers to hear about remote changes and the sync state, and the sync
//! report `sync_now` returns.

use std::sync::Arc;

use peerlog_core::client::ClientEvent;
use peerlog_core::net;

/// Where syncing stands.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SyncState {
    /// A sync session started.
    Syncing,
    /// The session finished; `pending` local changes are not yet at the relay.
    Synced { pending: u64 },
    /// The session failed; edits are kept and a later sync resumes. `reason` names the step.
    Failed { reason: String },
    /// The organisation revoked this device: its local data was destroyed.
    Wiped,
}

/// Implemented by the app to hear about changes that arrive from other devices and about
/// syncing. Called on a background thread, after the library released its lock, so the app may
/// call back into the library from here.
#[uniffi::export(callback_interface)]
pub trait Observer: Send + Sync {
    /// Cases that changed because of another device or the relay (new changes merged, a case
    /// added, removed or reassigned away): reload them.
    fn cases_changed(&self, case_ids: Vec<String>);
    /// The sync state changed.
    fn sync_state_changed(&self, state: SyncState);
}

/// What one `sync_now` did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Protocol messages sent and received.
    pub sent: u32,
    pub received: u32,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Local changes the relay confirmed in this session.
    pub confirmed: u32,
    /// Local changes still not at the relay ("n changes not yet synced").
    pub pending: u64,
    /// Cases changed by other devices (or new on this device).
    pub changed_cases: Vec<String>,
    /// Cases no longer listed for this user; removed from this device.
    pub removed_cases: Vec<String>,
    /// Problems with single cases that did not fail the session (ids and reasons only).
    pub errors: Vec<String>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<&net::SyncReport> for SyncReport {
    fn from(r: &net::SyncReport) -> Self {
        let mut changed = Vec::new();
        let mut removed = Vec::new();
        let mut errors = Vec::new();
        for event in &r.events {
            match event {
                ClientEvent::CaseChanged { case, .. } => changed.push(case.to_string()),
                ClientEvent::CaseRemoved { case, dropped } => {
                    removed.push(case.to_string());
                    if *dropped > 0 {
                        errors.push(format!(
                            "case {case} was removed by the relay with {dropped} unsynced changes"
                        ));
                    }
                }
                ClientEvent::HandingOver { case, pending } => {
                    errors.push(format!(
                        "case {case} left this user's list; {pending} changes wait to hand over"
                    ));
                }
                ClientEvent::Unavailable { case } => {
                    errors.push(format!("case {case} is not available at the relay"));
                }
                ClientEvent::Ready
                | ClientEvent::Confirmed { .. }
                | ClientEvent::DirectoryChanged => {}
            }
        }
        for list in [&mut changed, &mut removed] {
            list.sort();
            list.dedup();
        }
        Self {
            sent: count(r.sent_frames),
            received: count(r.received_frames),
            bytes_sent: r.bytes_sent as u64,
            bytes_received: r.bytes_received as u64,
            confirmed: count(r.confirmed),
            pending: r.pending_after,
            changed_cases: changed,
            removed_cases: removed,
            errors,
        }
    }
}

impl SyncReport {
    /// Every case the app should reload.
    pub(crate) fn touched_cases(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .changed_cases
            .iter()
            .chain(&self.removed_cases)
            .cloned()
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// Calls the observer, if any, shielding the library from a misbehaving one: a panic raised
/// while calling it (UniFFI turns a foreign exception in a callback into one) is caught and
/// logged, never unwound into the library.
pub(crate) fn notify(observer: Option<&Arc<dyn Observer>>, call: impl FnOnce(&dyn Observer)) {
    let Some(observer) = observer else {
        return;
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call(observer.as_ref())));
    if result.is_err() {
        tracing::warn!("the app's observer failed; ignored");
    }
}
