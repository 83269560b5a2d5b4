//! The append-only access log: who (user, role, device) did what (action) to which case, when.
//! It never holds content. Triggers refuse updates and deletes, except while a case is erased.

use peerlog_core::ids::CaseId;
use rusqlite::{Connection, params};
use serde::Serialize;

use super::identity::role_code;
use super::{DbError, StepExt};
use crate::sync::ports::Principal;

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A device's changes to a case were stored.
    SyncWrite,
    /// A coordinator's device was given a case's content.
    Read,
    /// The case was erased (the only row that survives erasure).
    Erase,
    /// A coordinator opened the case's content in the dashboard or through the JSON API.
    Open,
    /// A device's changes to a case were refused at the door (schema, relay-owned field, quota).
    WriteRefused,
    /// A former PRW's device handed over changes to a case reassigned to someone else (accepted
    /// for the grace period under the handover rule).
    HandoverWrite,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::SyncWrite => "sync-write",
            Action::Read => "read",
            Action::Erase => "erase",
            Action::Open => "open",
            Action::WriteRefused => "sync-write-refused",
            Action::HandoverWrite => "sync-write-handover",
        }
    }
}

/// Appends one entry. `who` is `None` for the relay's own admin tools.
pub fn append(
    conn: &Connection,
    now: i64,
    who: Option<&Principal>,
    case: &CaseId,
    action: Action,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO access_log (at, user_id, role, device_id, case_id, action)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            now,
            who.map(|p| p.user.as_str()),
            who.map_or("admin-cli", |p| role_code(p.role)),
            who.map(|p| p.device.as_str()),
            case.to_string(),
            action.code()
        ],
    )
    .step("appending to the access log")?;
    Ok(())
}

/// Appends one entry for a dashboard user (no device: a browser session).
pub fn append_by_user(
    conn: &Connection,
    now: i64,
    user: &peerlog_core::ids::UserId,
    role: crate::sync::ports::Role,
    case: &CaseId,
    action: Action,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO access_log (at, user_id, role, device_id, case_id, action)
         VALUES (?1, ?2, ?3, NULL, ?4, ?5)",
        params![
            now,
            user.as_str(),
            role_code(role),
            case.to_string(),
            action.code()
        ],
    )
    .step("appending to the access log")?;
    Ok(())
}

/// The most recent entries (newest first), at most `limit`.
pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<Entry>, DbError> {
    let mut stmt = conn
        .prepare(
            "SELECT at, user_id, role, device_id, case_id, action FROM access_log
             ORDER BY id DESC LIMIT ?1",
        )
        .step("reading the access log")?;
    stmt.query_map(params![limit], entry)
        .step("reading the access log")?
        .collect::<Result<_, _>>()
        .step("reading the access log")
}

/// One access log entry, as listed for an admin or a service user's request for insight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub at: i64,
    pub user_id: Option<String>,
    pub role: Option<String>,
    pub device_id: Option<String>,
    pub case_id: Option<String>,
    pub action: String,
}

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        at: r.get(0)?,
        user_id: r.get(1)?,
        role: r.get(2)?,
        device_id: r.get(3)?,
        case_id: r.get(4)?,
        action: r.get(5)?,
    })
}

/// Every entry for a case, oldest first.
pub fn for_case(conn: &Connection, case: &CaseId) -> Result<Vec<Entry>, DbError> {
    let mut stmt = conn
        .prepare(
            "SELECT at, user_id, role, device_id, case_id, action FROM access_log
             WHERE case_id = ?1 ORDER BY id",
        )
        .step("reading the access log")?;
    stmt.query_map(params![case.to_string()], entry)
        .step("reading the access log")?
        .collect::<Result<_, _>>()
        .step("reading the access log")
}

/// Deletes every entry of a case and leaves one `erase` entry (inside the erasure transaction).
pub fn erase_case(conn: &Connection, case: &CaseId, now: i64) -> Result<(), DbError> {
    let id = case.to_string();
    conn.execute(
        "INSERT OR IGNORE INTO erasing (case_id) VALUES (?1)",
        params![id],
    )
    .step("marking a case as being erased")?;
    conn.execute("DELETE FROM access_log WHERE case_id = ?1", params![id])
        .step("erasing a case's access log")?;
    conn.execute("DELETE FROM erasing WHERE case_id = ?1", params![id])
        .step("unmarking a case as being erased")?;
    append(conn, now, None, case, Action::Erase)
}
