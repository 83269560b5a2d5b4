//! `peerlog admin case …` and `access-log`. Listings show ids, teams, PRWs and status — never an
//! alias or any other case content (an admin sees no case content).

use jiff::civil::Date;
use peerlog_core::ids::CaseId;
use serde_json::json;

use super::{AdminError, Output};
use crate::cases::casework::{self, OpenCase};
use crate::cli::CaseCommand;
use crate::db::{Db, access_log, cases};

fn parse_case(id: &str) -> Result<CaseId, AdminError> {
    id.trim()
        .parse()
        .map_err(|_| AdminError::Usage("not a case id"))
}

fn parse_date(s: Option<String>) -> Result<Option<Date>, AdminError> {
    s.map(|s| {
        s.parse::<Date>()
            .map_err(|_| AdminError::Usage("dates are YYYY-MM-DD"))
    })
    .transpose()
}

pub(super) fn run(db: &Db, command: CaseCommand, now: i64) -> Result<Output, AdminError> {
    match command {
        CaseCommand::Open {
            prw,
            alias,
            team,
            birth_year,
            interests,
            background,
            start,
            end,
        } => {
            let id = casework::open_case(
                db,
                OpenCase {
                    prw,
                    team,
                    alias,
                    birth_year,
                    interests,
                    background,
                    started_on: parse_date(start)?,
                    planned_end: parse_date(end)?,
                },
                now,
            )?;
            let row = db
                .read(|tx| cases::get(tx, &id))?
                .ok_or(AdminError::NotFound("case"))?;
            Ok(Output::new(
                json!({"caseId": id.to_string(), "team": row.team.as_str(), "prw": row.prw.as_str(), "status": row.status.code()}),
                format!("case {id} opened"),
            ))
        }
        CaseCommand::Reassign { id, prw } => {
            let id = parse_case(&id)?;
            let prw = casework::reassign_case(db, &id, &prw, now)?;
            Ok(Output::new(
                json!({"caseId": id.to_string(), "prw": prw.as_str()}),
                format!("case {id} reassigned to {prw}"),
            ))
        }
        CaseCommand::Close { id, reason } => {
            let id = parse_case(&id)?;
            casework::close_case(db, &id, &reason, now)?;
            Ok(Output::new(
                json!({"caseId": id.to_string(), "status": "closed"}),
                format!("case {id} closed"),
            ))
        }
        CaseCommand::List => {
            let rows = db.read(|tx| cases::list(tx))?;
            let text = rows
                .iter()
                .map(|c| format!("{}\t{}\t{}\t{}", c.id, c.team, c.prw, c.status))
                .collect::<Vec<_>>()
                .join("\n");
            let json = rows
                .iter()
                .map(|c| {
                    json!({
                        "caseId": c.id.to_string(), "team": c.team.as_str(), "prw": c.prw.as_str(),
                        "status": c.status.code(), "openedAt": c.opened_at, "closedAt": c.closed_at,
                    })
                })
                .collect();
            Ok(Output::new(serde_json::Value::Array(json), text))
        }
    }
}

pub(super) fn access_log(db: &Db, case: &str) -> Result<Output, AdminError> {
    let id = parse_case(case)?;
    let entries = db.read(|tx| access_log::for_case(tx, &id))?;
    let text = entries
        .iter()
        .map(|e| {
            format!(
                "{}\t{}\t{}\t{}\t{}",
                e.at,
                e.action,
                e.role.as_deref().unwrap_or("-"),
                e.user_id.as_deref().unwrap_or("-"),
                e.device_id.as_deref().unwrap_or("-"),
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Output::new(
        serde_json::to_value(&entries).unwrap_or_default(),
        text,
    ))
}
