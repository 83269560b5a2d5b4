//! The document outbox: edits of existing case documents decided in the database (close,
//! reassign) that the document's single writer applies. The running server drains it within a
//! second (the insert bumps the change counter); with no server running the CLI drains it itself.

use peerlog_core::ids::CaseId;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use super::{DbError, StepExt};

/// One pending edit of a case document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum DocOp {
    /// Set the case's status (`active`, `paused`, `closed`), with a reason when closing.
    #[serde(rename_all = "camelCase")]
    SetStatus {
        status: String,
        reason: Option<String>,
    },
    /// Assign the case to another PRW.
    #[serde(rename_all = "camelCase")]
    Reassign { prw: String },
}

/// A queued edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: i64,
    pub doc: CaseId,
    pub op: DocOp,
}

pub fn push(conn: &Connection, doc: &CaseId, op: &DocOp, now: i64) -> Result<(), DbError> {
    let json = serde_json::to_string(op).unwrap_or_default();
    conn.execute(
        "INSERT INTO doc_outbox (doc, op, created_at) VALUES (?1, ?2, ?3)",
        params![doc.to_string(), json, now],
    )
    .step("queueing a document edit")?;
    Ok(())
}

/// Every queued edit, oldest first. Rows that do not parse are returned as `None` ops so the
/// caller can drop them.
pub fn pending(conn: &Connection) -> Result<Vec<(i64, Option<Pending>)>, DbError> {
    let mut stmt = conn
        .prepare("SELECT id, doc, op FROM doc_outbox ORDER BY id")
        .step("reading the outbox")?;
    let rows: Vec<(i64, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .step("reading the outbox")?
        .collect::<Result<_, _>>()
        .step("reading the outbox")?;
    Ok(rows
        .into_iter()
        .map(|(id, doc, op)| {
            let parsed = doc
                .parse()
                .ok()
                .zip(serde_json::from_str(&op).ok())
                .map(|(doc, op)| Pending { id, doc, op });
            (id, parsed)
        })
        .collect())
}

pub fn done(conn: &Connection, id: i64) -> Result<(), DbError> {
    conn.execute("DELETE FROM doc_outbox WHERE id = ?1", params![id])
        .step("removing a done edit")?;
    Ok(())
}

pub fn delete_for(conn: &Connection, doc: &CaseId) -> Result<(), DbError> {
    conn.execute(
        "DELETE FROM doc_outbox WHERE doc = ?1",
        params![doc.to_string()],
    )
    .step("dropping a case's queued edits")?;
    Ok(())
}

/// The change counter that triggers bump on every identity, case and outbox change.
pub fn change_counter(conn: &Connection) -> Result<i64, DbError> {
    conn.query_row("SELECT n FROM change_counter WHERE id = 1", [], |r| {
        r.get(0)
    })
    .step("reading the change counter")
}
