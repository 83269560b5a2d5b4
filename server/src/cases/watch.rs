//! The server's watch loop: once a second it reads the database's change counter (bumped by
//! triggers on every identity, case and outbox change, whichever process made it — the admin CLI
//! included). On a change it reloads the access cache, disconnects newly revoked devices, tells
//! the sync engine to re-check access, applies queued case edits and refreshes directories. It
//! also flushes coordinator reads to the access log and deletes expired secrets and dashboard
//! sessions.

use std::collections::HashSet;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::cases::upkeep;
use crate::clock::now_ms;
use crate::db::{identity, outbox};
use crate::state::AppState;

/// How often the loop looks for changes.
pub const POLL: Duration = Duration::from_secs(1);

/// Ticks between expired-secret clean-ups and full directory refreshes (the write grace of
/// closed cases ends with time, not with a database change).
const SLOW_TICKS: u64 = 600;

/// Starts the loop; abort the handle to stop it.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut last: Option<i64> = None;
        let mut interval = tokio::time::interval(POLL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut tick: u64 = 0;
        loop {
            interval.tick().await;
            tick += 1;
            let slow = tick.is_multiple_of(SLOW_TICKS);
            if let Err(e) = step(&state, &mut last, slow).await {
                tracing::warn!(error = %e, "watch step failed; retrying");
            }
        }
    })
}

/// One round: react to a change (or force with `slow`), flush reads.
pub async fn step(
    state: &AppState,
    last: &mut Option<i64>,
    slow: bool,
) -> Result<(), upkeep::UpkeepError> {
    let db = state.db.clone();
    let counter = tokio::task::spawn_blocking(move || db.read(|tx| outbox::change_counter(tx)))
        .await
        .map_err(|_| upkeep::UpkeepError::Join)??;
    if Some(counter) != *last || slow {
        on_change(state).await?;
        *last = Some(counter);
    }
    let db = state.db.clone();
    let access = state.access.clone();
    tokio::task::spawn_blocking(move || {
        access.flush_reads(&db)?;
        if slow {
            db.write(|tx| {
                identity::delete_expired(tx, now_ms())?;
                crate::db::logins::delete_expired_sessions(tx, now_ms())
            })?;
        }
        Ok::<_, crate::db::DbError>(())
    })
    .await
    .map_err(|_| upkeep::UpkeepError::Join)??;
    Ok(())
}

/// Reacts to a database change.
pub async fn on_change(state: &AppState) -> Result<(), upkeep::UpkeepError> {
    let db = state.db.clone();
    let access = state.access.clone();
    let previous = tokio::task::spawn_blocking(move || access.reload(&db))
        .await
        .map_err(|_| upkeep::UpkeepError::Join)??;
    state
        .metrics
        .access_reloads
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let before: HashSet<_> = previous.revoked_devices();
    for device in state.access.snapshot().revoked_devices() {
        if !before.contains(&device) {
            tracing::info!(device = %device, "device revoked; disconnecting");
            state.engine.disconnect_device(&device);
        }
    }
    state.engine.access_changed();
    let report = upkeep::run(
        &state.db,
        &state.access,
        state.engine.as_ref(),
        &state.metrics,
    )
    .await?;
    if report != upkeep::Report::default() {
        tracing::info!(
            edits = report.edits_applied,
            dropped = report.edits_dropped,
            directories = report.directories_written,
            "documents brought up to date"
        );
    }
    Ok(())
}
