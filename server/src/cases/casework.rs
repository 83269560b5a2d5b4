//! Opening, closing and reassigning cases: the coordinator decisions the admin CLI (and the demo)
//! make. Opening creates the case document with core's `CaseDoc::create` and stores it with its
//! access row in one transaction; closing and reassigning change the access row and queue the
//! matching document edit in the outbox (in the same transaction) for the document's writer.

use automerge::ActorId;
use jiff::civil::Date;
use peerlog_core::ids::{CaseId, DeviceId, TeamId, UserId};
use peerlog_core::model::{Boundaries, CaseStatus, ServiceUser};
use peerlog_core::{CaseDoc, EditCtx, EditError, NewCase};

use crate::db::outbox::{self, DocOp};
use crate::db::{Db, DbError, cases, docs, identity, org};
use crate::ids;
use crate::sync::ports::Role;

/// Why a case decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum CaseworkError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("no such user")]
    NoSuchUser,
    #[error("the user is not a PRW")]
    NotAPrw,
    #[error("no such team")]
    NoSuchTeam,
    #[error("the PRW belongs to several teams; name one with --team")]
    TeamAmbiguous,
    #[error("the PRW is not a member of that team")]
    NotInTeam,
    #[error("no such case")]
    NoSuchCase,
    #[error("the case document refused the input")]
    Invalid(#[source] EditError),
    #[error("a close reason is required (1 to 80 characters, one line)")]
    BadReason,
}

/// What a coordinator decides when opening a case.
#[derive(Debug, Clone, Default)]
pub struct OpenCase {
    /// The PRW, by id or name.
    pub prw: String,
    /// The team, by id or name; defaults to the PRW's only team.
    pub team: Option<String>,
    pub alias: String,
    pub birth_year: Option<i32>,
    pub interests: Vec<String>,
    pub background: Vec<String>,
    /// Defaults to today in the organisation's time zone.
    pub started_on: Option<Date>,
    /// Defaults to two years after the start.
    pub planned_end: Option<Date>,
}

/// The relay's device id in documents it writes.
pub fn relay_device() -> DeviceId {
    "relay"
        .parse()
        .unwrap_or_else(|_| unreachable!("a valid literal id"))
}

/// Resolves the PRW and team of a new case.
fn resolve_assignment(
    conn: &rusqlite::Connection,
    prw: &str,
    team: Option<&str>,
) -> Result<(UserId, TeamId), CaseworkError> {
    let user = identity::find_user(conn, prw)?.ok_or(CaseworkError::NoSuchUser)?;
    if user.role != Role::Prw {
        return Err(CaseworkError::NotAPrw);
    }
    let team = match team {
        Some(t) => {
            let team = identity::find_team(conn, t)?.ok_or(CaseworkError::NoSuchTeam)?;
            if !user.teams.contains(&team.id) {
                return Err(CaseworkError::NotInTeam);
            }
            team.id
        }
        None => match user.teams.as_slice() {
            [only] => only.clone(),
            [] => return Err(CaseworkError::NotInTeam),
            _ => return Err(CaseworkError::TeamAmbiguous),
        },
    };
    Ok((user.id, team))
}

/// Today's date in the organisation's time zone.
pub fn org_today(conn: &rusqlite::Connection, now: i64) -> Result<Date, DbError> {
    let tz = org::get(conn)?
        .and_then(|o| o.settings.to_settings().ok())
        .map(|s| s.time_zone().clone())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let ts = jiff::Timestamp::from_millisecond(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    Ok(ts.to_zoned_datetime(tz).date())
}

/// Opens a case: creates its document and stores it with its access row, atomically.
pub fn open_case(db: &Db, req: OpenCase, now: i64) -> Result<CaseId, CaseworkError> {
    let (prw, team, today) = db.read(|tx| {
        let (prw, team) = resolve_assignment(tx, &req.prw, req.team.as_deref())?;
        Ok::<_, CaseworkError>((prw, team, org_today(tx, now)?))
    })?;
    let started_on = req.started_on.unwrap_or(today);
    let planned_end = req
        .planned_end
        .unwrap_or_else(|| started_on.saturating_add(jiff::Span::new().years(2)));
    let id = ids::new_doc_id();
    let doc = create_case_doc(
        NewCase {
            id,
            team: team.clone(),
            prw: prw.clone(),
            service_user: ServiceUser {
                alias: req.alias,
                birth_year: req.birth_year,
                interests: req.interests,
                background: req.background,
            },
            started_on,
            planned_end,
            boundaries: Boundaries::default(),
        },
        now,
    )?;
    store_new_case(db, &doc, &team, &prw, now)?;
    Ok(id)
}

/// Creates a case document as the relay.
pub fn create_case_doc(new: NewCase, now: i64) -> Result<CaseDoc, CaseworkError> {
    let device = relay_device();
    let mut rng = rand::rng();
    CaseDoc::create(
        new,
        ActorId::random(),
        &mut EditCtx {
            now,
            device: &device,
            rng: &mut rng,
        },
    )
    .map_err(CaseworkError::Invalid)
}

/// Stores a new case document and its access row in one transaction.
pub fn store_new_case(
    db: &Db,
    doc: &CaseDoc,
    team: &TeamId,
    prw: &UserId,
    now: i64,
) -> Result<(), CaseworkError> {
    let bytes = doc.save();
    db.write(|tx| {
        cases::insert(tx, &doc.id(), team, prw, now)?;
        docs::append_chunk(tx, &doc.id(), &bytes)?;
        Ok::<_, CaseworkError>(())
    })
}

/// Longest close reason, in characters.
pub const REASON_MAX_CHARS: usize = 80;

/// A close reason as stored: trimmed, 1 to [`REASON_MAX_CHARS`] characters, on one line.
pub fn close_reason(reason: &str) -> Result<&str, CaseworkError> {
    let reason = reason.trim();
    let ok = !reason.is_empty()
        && reason.chars().count() <= REASON_MAX_CHARS
        && !reason.chars().any(char::is_control);
    if ok {
        Ok(reason)
    } else {
        Err(CaseworkError::BadReason)
    }
}

/// Closes a case (access row now, document through the outbox).
pub fn close_case(db: &Db, id: &CaseId, reason: &str, now: i64) -> Result<(), CaseworkError> {
    let reason = close_reason(reason)?;
    db.write(|tx| {
        cases::get(tx, id)?.ok_or(CaseworkError::NoSuchCase)?;
        cases::set_status(tx, id, CaseStatus::Closed, now)?;
        outbox::push(
            tx,
            id,
            &DocOp::SetStatus {
                status: CaseStatus::Closed.code().to_owned(),
                reason: Some(reason.to_owned()),
            },
            now,
        )?;
        Ok(())
    })
}

/// Reassigns a case to another PRW of its team.
pub fn reassign_case(db: &Db, id: &CaseId, prw: &str, now: i64) -> Result<UserId, CaseworkError> {
    db.write(|tx| {
        let case = cases::get(tx, id)?.ok_or(CaseworkError::NoSuchCase)?;
        let user = identity::find_user(tx, prw)?.ok_or(CaseworkError::NoSuchUser)?;
        if user.role != Role::Prw {
            return Err(CaseworkError::NotAPrw);
        }
        if !user.teams.contains(&case.team) {
            return Err(CaseworkError::NotInTeam);
        }
        if case.prw != user.id {
            cases::record_handover(tx, id, &case.prw, now)?;
        }
        cases::reassign(tx, id, &user.id)?;
        outbox::push(
            tx,
            id,
            &DocOp::Reassign {
                prw: user.id.to_string(),
            },
            now,
        )?;
        Ok(user.id)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_are_one_short_line() {
        assert_eq!(close_reason("  moved away ").ok(), Some("moved away"));
        assert!(close_reason("   ").is_err());
        assert!(close_reason("").is_err());
        assert_eq!(close_reason(&"x".repeat(80)).map(str::len).ok(), Some(80));
        assert!(close_reason(&"x".repeat(81)).is_err());
        assert!(close_reason("two\nlines").is_err());
    }
}
