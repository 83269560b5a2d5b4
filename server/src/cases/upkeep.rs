//! Keeping documents in step with the database, through whichever [`CaseEngine`] writes them:
//! applying queued case edits (the outbox) and refreshing each user's directory document.
//!
//! The server runs this when it notices a database change (see `watch.rs`); the CLI runs it
//! with a [`crate::cases::engine::offline::OfflineEngine`] when no server is running.

use std::collections::HashMap;
use std::sync::Arc;

use automerge::Automerge;
use peerlog_core::ids::{CaseId, DeviceId, UserId};
use peerlog_core::model::CaseStatus;
use peerlog_core::{CaseDoc, EditCtx, EditError};
use rusqlite::params;

use crate::cases::access::CachedAccess;
use crate::cases::directory;
use crate::cases::engine::{CaseEngine, DocEdit, EditRefused, EngineError};
use crate::clock::now_ms;
use crate::db::outbox::{self, DocOp};
use crate::db::{Db, DbError, StepExt, cases, org};
use crate::web::metrics::Metrics;

/// Why upkeep stopped (it is retried on the next change or tick).
#[derive(Debug, thiserror::Error)]
pub enum UpkeepError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("writing a document through the sync engine failed")]
    Engine(#[source] EngineError),
    #[error("a background task failed to run")]
    Join,
}

/// What one round of upkeep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub edits_applied: usize,
    pub edits_dropped: usize,
    pub directories_written: usize,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, DbError> + Send + 'static,
) -> Result<T, UpkeepError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| UpkeepError::Join)?
        .map_err(UpkeepError::Db)
}

/// Applies queued case edits, then refreshes directories.
pub async fn run(
    db: &Arc<Db>,
    access: &CachedAccess,
    engine: &dyn CaseEngine,
    metrics: &Metrics,
) -> Result<Report, UpkeepError> {
    let mut report = drain_outbox(db, engine).await?;
    report.directories_written = refresh_directories(db, access, engine, metrics).await?;
    Ok(report)
}

/// Applies every queued case edit through the engine.
pub async fn drain_outbox(db: &Arc<Db>, engine: &dyn CaseEngine) -> Result<Report, UpkeepError> {
    let mut report = Report::default();
    let pending = {
        let db = db.clone();
        blocking(move || db.read(|tx| outbox::pending(tx))).await?
    };
    for (id, item) in pending {
        let applied = match item {
            None => {
                tracing::warn!(id, "dropped an unreadable queued edit");
                false
            }
            Some(item) => {
                let exists = {
                    let db = db.clone();
                    let doc = item.doc;
                    blocking(move || db.read(|tx| cases::get(tx, &doc))).await?
                };
                if exists.is_none() {
                    false
                } else {
                    match engine
                        .update_doc(item.doc, case_edit(item.doc, item.op))
                        .await
                    {
                        Ok(()) => true,
                        Err(EngineError::Edit(e)) => {
                            tracing::warn!(id, error = %e, "dropped a queued edit the document refused");
                            false
                        }
                        Err(e) => return Err(UpkeepError::Engine(e)),
                    }
                }
            }
        };
        if applied {
            report.edits_applied += 1;
        } else {
            report.edits_dropped += 1;
        }
        let db = db.clone();
        blocking(move || db.write(|tx| outbox::done(tx, id))).await?;
    }
    Ok(report)
}

/// The relay's own device id in documents it edits.
fn relay_device() -> DeviceId {
    "relay"
        .parse()
        .unwrap_or_else(|_| unreachable!("a valid literal id"))
}

/// The edit a queued operation makes to a case document.
pub fn case_edit(id: CaseId, op: DocOp) -> DocEdit {
    Box::new(move |doc: &mut Automerge| -> Result<(), EditRefused> {
        match op {
            DocOp::SetStatus { status, reason } => {
                let status: CaseStatus = status.parse()?;
                edit_as_relay(id, doc, |case, ctx| {
                    case.set_status(ctx, status, reason.as_deref())
                })
            }
            DocOp::Reassign { prw } => {
                let prw: UserId = prw.parse()?;
                edit_as_relay(id, doc, |case, ctx| case.set_prw(ctx, &prw))
            }
        }
    })
}

/// Runs one core operation on `doc` as the relay's own device and applies the changes it made.
fn edit_as_relay(
    id: CaseId,
    doc: &mut Automerge,
    op: impl FnOnce(&mut CaseDoc, &mut EditCtx<'_>) -> Result<(), EditError>,
) -> Result<(), EditRefused> {
    let mut case = CaseDoc::from_automerge(id, doc.clone())?;
    let before = case.heads();
    let device = relay_device();
    let mut rng = rand::rng();
    let mut ctx = EditCtx {
        now: now_ms(),
        device: &device,
        rng: &mut rng,
    };
    op(&mut case, &mut ctx)?;
    let (changes, _) = case.changes_since(&before);
    doc.load_incremental(&changes)?;
    Ok(())
}

/// Rewrites the directory documents whose content changed; returns how many were written.
pub async fn refresh_directories(
    db: &Arc<Db>,
    access: &CachedAccess,
    engine: &dyn CaseEngine,
    metrics: &Metrics,
) -> Result<usize, UpkeepError> {
    let (settings, stored) = {
        let db = db.clone();
        blocking(move || {
            db.read(|tx| {
                let settings = org::get(tx)?.map(|o| o.settings).unwrap_or_default();
                let mut stmt = tx
                    .prepare("SELECT user_id, digest FROM directory_state")
                    .step("reading directory state")?;
                let stored: HashMap<String, Vec<u8>> = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .step("reading directory state")?
                    .collect::<Result<_, _>>()
                    .step("reading directory state")?;
                Ok((settings, stored))
            })
        })
        .await?
    };
    let snap = access.snapshot();
    let now = now_ms();
    let mut written = 0;
    let mut users: Vec<_> = snap.users().collect();
    users.sort_by(|a, b| a.0.cmp(b.0));
    for (user, grant) in users {
        let Some(desired) = directory::desired(&snap, &settings, user, now) else {
            continue;
        };
        let digest = directory::digest(&desired);
        if stored.get(user.as_str()).map(Vec::as_slice) == Some(&digest[..]) {
            continue;
        }
        engine
            .update_doc(
                grant.directory,
                Box::new(move |doc: &mut Automerge| -> Result<(), EditRefused> {
                    directory::write_json(doc, &desired)?;
                    Ok(())
                }),
            )
            .await
            .map_err(UpkeepError::Engine)?;
        let db = db.clone();
        let user = user.to_string();
        blocking(move || {
            db.write(|tx| {
                tx.execute(
                    "INSERT INTO directory_state (user_id, digest) VALUES (?1, ?2)
                     ON CONFLICT (user_id) DO UPDATE SET digest = excluded.digest",
                    params![user, &digest[..]],
                )
                .step("recording a directory write")
                .map(|_| ())
            })
        })
        .await?;
        metrics
            .directory_writes
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        written += 1;
    }
    Ok(written)
}
