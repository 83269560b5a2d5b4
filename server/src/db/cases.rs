//! Case access rows: which PRW a case is assigned to, its team and its status. The case's content
//! lives in its document (`docs`); this table is what access control reads.

use peerlog_core::ids::{CaseId, TeamId, UserId};
use peerlog_core::model::CaseStatus;
use rusqlite::{Connection, OptionalExtension, params};

use super::{DbError, StepExt};

/// One case's access row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    pub id: CaseId,
    pub team: TeamId,
    pub prw: UserId,
    pub status: CaseStatus,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseRow> {
    let bad = |idx| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            "stored case row does not parse".into(),
        )
    };
    let id: String = r.get(0)?;
    let team: String = r.get(1)?;
    let prw: String = r.get(2)?;
    let status: String = r.get(3)?;
    Ok(CaseRow {
        id: id.parse().map_err(|_| bad(0))?,
        team: team.parse().map_err(|_| bad(1))?,
        prw: prw.parse().map_err(|_| bad(2))?,
        status: status.parse().map_err(|_| bad(3))?,
        opened_at: r.get(4)?,
        closed_at: r.get(5)?,
    })
}

const COLUMNS: &str = "id, team_id, prw_id, status, opened_at, closed_at";

pub fn insert(
    conn: &Connection,
    id: &CaseId,
    team: &TeamId,
    prw: &UserId,
    now: i64,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO cases (id, team_id, prw_id, status, opened_at) VALUES (?1, ?2, ?3, 'active', ?4)",
        params![id.to_string(), team.as_str(), prw.as_str(), now],
    )
    .step("adding a case")?;
    Ok(())
}

pub fn get(conn: &Connection, id: &CaseId) -> Result<Option<CaseRow>, DbError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM cases WHERE id = ?1"),
        params![id.to_string()],
        from_row,
    )
    .optional()
    .step("reading a case")
}

pub fn list(conn: &Connection) -> Result<Vec<CaseRow>, DbError> {
    let mut stmt = conn
        .prepare(&format!("SELECT {COLUMNS} FROM cases ORDER BY opened_at"))
        .step("listing cases")?;
    stmt.query_map([], from_row)
        .step("listing cases")?
        .collect::<Result<_, _>>()
        .step("listing cases")
}

/// Sets a case's status; `closed_at` is set when it closes and cleared when it reopens.
pub fn set_status(
    conn: &Connection,
    id: &CaseId,
    status: CaseStatus,
    now: i64,
) -> Result<(), DbError> {
    let closed_at = (status == CaseStatus::Closed).then_some(now);
    conn.execute(
        "UPDATE cases SET status = ?2, closed_at = ?3 WHERE id = ?1",
        params![id.to_string(), status.code(), closed_at],
    )
    .step("changing a case's status")?;
    Ok(())
}

/// Records that `former` held the case until `at` (a reassignment): their devices' unsynced
/// changes are accepted for the handover grace period. A later handover of the same PRW
/// replaces the time.
pub fn record_handover(
    conn: &Connection,
    id: &CaseId,
    former: &UserId,
    at: i64,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO case_handovers (case_id, former_prw, handed_over_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (case_id, former_prw) DO UPDATE SET handed_over_at = excluded.handed_over_at",
        params![id.to_string(), former.as_str(), at],
    )
    .step("recording a handover")?;
    Ok(())
}

/// Every recorded handover: (case, former PRW, when).
pub fn handovers(conn: &Connection) -> Result<Vec<(CaseId, UserId, i64)>, DbError> {
    let mut stmt = conn
        .prepare("SELECT case_id, former_prw, handed_over_at FROM case_handovers")
        .step("listing handovers")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .step("listing handovers")?
        .collect::<Result<Vec<_>, _>>()
        .step("listing handovers")?;
    Ok(rows
        .into_iter()
        .filter_map(|(case, prw, at)| Some((case.parse().ok()?, prw.parse().ok()?, at)))
        .collect())
}

pub fn reassign(conn: &Connection, id: &CaseId, prw: &UserId) -> Result<(), DbError> {
    conn.execute(
        "UPDATE cases SET prw_id = ?2 WHERE id = ?1",
        params![id.to_string(), prw.as_str()],
    )
    .step("reassigning a case")?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &CaseId) -> Result<(), DbError> {
    conn.execute("DELETE FROM cases WHERE id = ?1", params![id.to_string()])
        .step("deleting a case row")?;
    conn.execute(
        "DELETE FROM case_handovers WHERE case_id = ?1",
        params![id.to_string()],
    )
    .step("deleting a case's handovers")?;
    Ok(())
}
