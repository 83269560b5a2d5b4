//! Backup, restore, integrity check and erasure of a case.
//!
//! Erasure deletes the case's document chunks, access row, queued edits and access-log entries
//! in one transaction (leaving one `erase` entry and the erased id, so nothing re-creates it),
//! with `secure_delete=ON` zeroing the freed content; then checkpoints the WAL, VACUUMs and
//! truncates the WAL, so no plaintext is left in free pages or the WAL. Directory documents drop
//! the case on the next upkeep, and devices delete their copies when their directory no longer
//! lists it. Backups made earlier still hold the case: rotate them.

use std::path::Path;

use automerge::{ActorId, Automerge};
use peerlog_core::CaseDoc;
use peerlog_core::ids::CaseId;
use rusqlite::{Connection, MAIN_DB, OpenFlags};
use serde::Serialize;

use crate::db::{Db, DbError, StepExt, access_log, cases, docs, identity, migrations, outbox};

/// Why a maintenance command failed.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the backup file already exists; choose a new name")]
    BackupExists,
    #[error("the file is not a usable peerlog database")]
    NotAPeerlogDb,
    #[error("the backup failed its integrity check")]
    Corrupt,
    #[error("no such case")]
    NoSuchCase,
    #[error("the WAL could not be truncated (readers stayed busy); run erase-case again")]
    WalBusy,
}

/// Copies the live database to `dest` with SQLite's online backup API.
pub fn backup(db: &Db, dest: &Path) -> Result<(), MaintenanceError> {
    if dest.exists() {
        return Err(MaintenanceError::BackupExists);
    }
    let conn = db.writer()?;
    conn.backup(MAIN_DB, dest, None::<fn(rusqlite::backup::Progress)>)
        .step("writing the backup")?;
    Ok(())
}

/// Checks that `src` is an intact peerlog database this version can read.
fn verify_backup(src: &Path) -> Result<(), MaintenanceError> {
    let conn = Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|_| MaintenanceError::NotAPeerlogDb)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|_| MaintenanceError::NotAPeerlogDb)?;
    if version < 1 || version > migrations::current_version() {
        return Err(MaintenanceError::NotAPeerlogDb);
    }
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|_| MaintenanceError::Corrupt)?;
    if integrity != "ok" {
        return Err(MaintenanceError::Corrupt);
    }
    Ok(())
}

/// Replaces the database's content with the backup at `src` (server must not be running; the
/// caller holds the data directory lock), then brings its schema up to date.
pub fn restore(db: &Db, src: &Path) -> Result<(), MaintenanceError> {
    verify_backup(src)?;
    {
        let mut conn = db.writer()?;
        conn.restore(MAIN_DB, src, None::<fn(rusqlite::backup::Progress)>)
            .step("restoring the backup")?;
        migrations::migrate(&mut conn)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .step("re-enabling WAL")?;
    }
    checkpoint_truncate(db)?;
    Ok(())
}

/// One stored document that failed to load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocProblem {
    pub doc: String,
    pub kind: &'static str,
    pub problem: String,
}

/// What `peerlog check` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    pub integrity: String,
    pub documents: usize,
    pub case_documents: usize,
    pub directory_documents: usize,
    pub problems: Vec<DocProblem>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.integrity == "ok" && self.problems.is_empty()
    }
}

/// Runs SQLite's integrity check and loads every stored document.
pub fn check(db: &Db) -> Result<CheckReport, MaintenanceError> {
    Ok(db.read(|tx| {
        let integrity: String = tx
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .step("checking integrity")?;
        let case_ids: std::collections::HashSet<CaseId> =
            cases::list(tx)?.into_iter().map(|c| c.id).collect();
        let dir_ids: std::collections::HashSet<CaseId> = identity::list_users(tx)?
            .into_iter()
            .map(|u| u.directory_doc)
            .collect();
        let mut report = CheckReport {
            integrity,
            documents: 0,
            case_documents: 0,
            directory_documents: 0,
            problems: Vec::new(),
        };
        for (doc, _) in docs::list(tx)? {
            report.documents += 1;
            let Ok(id) = doc.parse::<CaseId>() else {
                report.problems.push(DocProblem {
                    doc,
                    kind: "unknown",
                    problem: "the stored id is not a document id".to_owned(),
                });
                continue;
            };
            let bytes = docs::load(tx, &id)?.unwrap_or_default();
            let (kind, result) = if case_ids.contains(&id) {
                report.case_documents += 1;
                (
                    "case",
                    CaseDoc::load(id, &bytes, ActorId::random())
                        .and_then(|d| d.read())
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                )
            } else if dir_ids.contains(&id) {
                report.directory_documents += 1;
                (
                    "directory",
                    Automerge::load(&bytes)
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                )
            } else {
                ("orphan", Err("no case or user refers to it".to_owned()))
            };
            if let Err(problem) = result {
                report.problems.push(DocProblem { doc, kind, problem });
            }
        }
        Ok::<_, DbError>(report)
    })?)
}

/// What `peerlog erase-case` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EraseReport {
    pub case_id: String,
    pub wal_truncated: bool,
}

/// Erases a case from the relay's storage (see the module documentation).
pub fn erase_case(db: &Db, id: &CaseId, now: i64) -> Result<EraseReport, MaintenanceError> {
    db.write(|tx| {
        cases::get(tx, id)?.ok_or(MaintenanceError::NoSuchCase)?;
        docs::erase(tx, id, now)?;
        outbox::delete_for(tx, id)?;
        access_log::erase_case(tx, id, now)?;
        cases::delete(tx, id)?;
        Ok::<_, MaintenanceError>(())
    })?;
    checkpoint_truncate(db)?;
    {
        let conn = db.writer()?;
        conn.execute_batch("VACUUM").step("vacuuming")?;
    }
    checkpoint_truncate(db)?;
    Ok(EraseReport {
        case_id: id.to_string(),
        wal_truncated: true,
    })
}

/// Checkpoints the whole WAL into the database and truncates it to zero bytes, retrying while
/// readers (e.g. a running server) hold old snapshots.
pub fn checkpoint_truncate(db: &Db) -> Result<(), MaintenanceError> {
    for _ in 0..20 {
        let busy: i64 = {
            let conn = db.writer()?;
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
                .step("checkpointing the WAL")?
        };
        if busy == 0 {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(MaintenanceError::WalBusy)
}
