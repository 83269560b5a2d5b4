//! The report's numbers: [`build`] (pure) adds up a period over the cases of a scope with core's
//! `insights::report`; [`load_report`] is what a viewer may see (their teams, or for an admin
//! every case, numbers only); [`parse_params`] reads the period and team of a request. Nothing
//! here ever puts an alias, a note or a per-case row into its output.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use peerlog_core::ids::{CaseId, TeamId};
use peerlog_core::insights::report::{
    self as core_report, Period, PeriodError, Report, ReportCase,
};
use peerlog_core::model::{Case, ContactMode, LifeArea, SupportType, UnixMillis};
use peerlog_core::settings::OrgSettings;
use serde::Serialize;

use crate::dashboard::projection::ProjectionError;
use crate::dashboard::scope::Scope;
use crate::dashboard::session::{NotAllowed, Viewer};
use crate::db::cases;
use crate::state::AppState;
use crate::web::error::AppError;

/// What one period adds up to (a month, or a whole year).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportNumbers {
    /// `2026-03` (a month) or `2026` (a year).
    pub period: String,
    /// Cases open at some time in the period.
    pub service_users_followed: u32,
    /// Cases started in the period.
    pub new_cases: u32,
    /// Cases closed in the period.
    pub closed_cases: u32,
    /// Live contacts that started in the period.
    pub contacts: u32,
    pub minutes: u64,
    /// Contact time in hours, rounded to one decimal.
    pub hours: f64,
    pub outside_office_hours: u32,
    /// A fraction (0–1); `null` without contacts.
    pub outside_office_hours_share: Option<f64>,
    pub weekend: u32,
    /// A fraction (0–1); `null` without contacts.
    pub weekend_share: Option<f64>,
    pub service_user_initiated: u32,
    pub accompaniments: u32,
    /// Contacts per contact mode, keyed by its stable code; every mode is present.
    pub by_mode: BTreeMap<&'static str, u32>,
    /// Contacts per topic (life area) code; a contact counts once for each of its topics.
    pub by_topic: BTreeMap<&'static str, u32>,
    /// Contacts per support type code; a contact counts once for each of its types.
    pub by_support: BTreeMap<&'static str, u32>,
}

/// A report as the page, the CSV and the JSON API show it: the period's numbers (flattened into
/// the JSON object) and, for a year, the numbers of each of its twelve months.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportView {
    /// The period reported on (its label is `total.period`).
    #[serde(skip)]
    pub period: Period,
    /// The team reported on; `null` for all the viewer's teams (for an admin: every team).
    pub team: Option<String>,
    /// The team's name; `null` with `team`.
    pub team_name: Option<String>,
    /// The whole period.
    #[serde(flatten)]
    pub total: ReportNumbers,
    /// For a year, its months January to December; empty for a month.
    pub months: Vec<ReportNumbers>,
}

/// The report on `period` over the cases of `scope` (of one team, or of all its teams).
///
/// A case counts when its row is in `scope.cases` and its team is one of `scope.teams` (and is
/// `team`, when given); each case counts once, with its `closed_at` from that row. A `team`
/// outside the scope gives an empty report — callers check it first (see [`load_report`]).
pub fn build(
    scope: &Scope,
    cases: &[Arc<Case>],
    period: Period,
    team: Option<&TeamId>,
) -> ReportView {
    let teams: HashSet<&TeamId> = scope.teams.iter().map(|t| &t.id).collect();
    let rows: HashMap<CaseId, Option<UnixMillis>> = scope
        .cases
        .iter()
        .filter(|r| teams.contains(&r.team) && team.is_none_or(|t| &r.team == t))
        .map(|r| (r.id, r.closed_at))
        .collect();
    let mut seen = HashSet::with_capacity(rows.len());
    let included: Vec<ReportCase<'_>> = cases
        .iter()
        .filter_map(|case| {
            let closed_at = *rows.get(&case.id)?;
            seen.insert(case.id).then_some(ReportCase {
                case: case.as_ref(),
                closed_at,
            })
        })
        .collect();
    let numbers_of = |p: Period| {
        numbers(&core_report::report(
            included.iter().copied(),
            p,
            &scope.settings,
        ))
    };
    let months = match period {
        Period::Year { year } => Period::months(year).into_iter().map(numbers_of).collect(),
        Period::Month { .. } => Vec::new(),
    };
    ReportView {
        period,
        team: team.map(ToString::to_string),
        team_name: team
            .and_then(|t| scope.team(t.as_str()))
            .map(|t| t.name.clone()),
        total: numbers_of(period),
        months,
    }
}

fn numbers(r: &Report) -> ReportNumbers {
    let share = |part: u32| {
        (r.contacts > 0).then(|| f64::from(part.min(r.contacts)) / f64::from(r.contacts))
    };
    ReportNumbers {
        period: r.period.label(),
        service_users_followed: r.service_users_followed,
        new_cases: r.new_cases,
        closed_cases: r.closed_cases,
        contacts: r.contacts,
        minutes: r.minutes,
        hours: (r.hours() * 10.0).round() / 10.0,
        outside_office_hours: r.outside_office_hours,
        outside_office_hours_share: r.outside_office_hours_share,
        weekend: r.weekend,
        weekend_share: share(r.weekend),
        service_user_initiated: r.service_user_initiated,
        accompaniments: r.accompaniments,
        by_mode: by_code(ContactMode::ALL, &r.by_mode, |m| m.code()),
        by_topic: by_code(LifeArea::ALL, &r.by_topic, |a| a.code()),
        by_support: by_code(SupportType::ALL, &r.by_support, |s| s.code()),
    }
}

/// Every code of a category with its count (zero when absent).
fn by_code<K: Copy + Ord>(
    all: &[K],
    counts: &BTreeMap<K, u32>,
    code: impl Fn(K) -> &'static str,
) -> BTreeMap<&'static str, u32> {
    all.iter()
        .map(|k| (code(*k), counts.get(k).copied().unwrap_or(0)))
        .collect()
}

/// The previous full calendar month in the organisation's time zone.
pub fn default_period(settings: &OrgSettings, now: UnixMillis) -> Period {
    let today = local_date(settings, now);
    let last_month = today.first_of_month().yesterday().unwrap_or(today);
    Period::Month {
        year: last_month.year(),
        month: last_month.month(),
    }
}

pub(super) fn local_date(settings: &OrgSettings, now: UnixMillis) -> jiff::civil::Date {
    jiff::Timestamp::from_millisecond(now)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned_datetime(settings.time_zone().clone())
        .date()
}

/// Why the parameters of a report request were refused (a 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadParams {
    Period(PeriodError),
    Team,
}

impl BadParams {
    /// The parameter at fault.
    pub fn field(self) -> &'static str {
        match self {
            BadParams::Period(_) => "period",
            BadParams::Team => "team",
        }
    }
}

impl fmt::Display for BadParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadParams::Period(e) => write!(f, "{e}"),
            BadParams::Team => f.write_str("not a team id"),
        }
    }
}

/// Reads `period` (`2026-03`, `2026`; absent or empty: `None`, the default) and `team` (a team
/// id; absent or empty: `None`, all the viewer's teams). Whether the team is the viewer's is
/// checked by [`load_report`].
pub fn parse_params(
    period: Option<&str>,
    team: Option<&str>,
) -> Result<(Option<Period>, Option<TeamId>), BadParams> {
    let period = match period.filter(|p| !p.is_empty()) {
        Some(p) => Some(Period::parse(p).map_err(BadParams::Period)?),
        None => None,
    };
    let team = match team.filter(|t| !t.is_empty()) {
        Some(t) => Some(t.parse::<TeamId>().map_err(|_| BadParams::Team)?),
        None => None,
    };
    Ok((period, team))
}

/// The report a viewer may see: `period` (`None`: the previous full month in the organisation's
/// time zone) over one of their teams or all of them. A coordinator gets their teams' cases; an
/// admin aggregates over every case of the organisation (numbers only, no case content). A team
/// outside the viewer's scope is [`NotAllowed::Forbidden`].
pub async fn load_report(
    state: &AppState,
    viewer: &Viewer,
    period: Option<Period>,
    team: Option<&TeamId>,
) -> Result<ReportView, NotAllowed> {
    load(state, viewer, period, team)
        .await
        .map(|(_, view)| view)
}

pub(super) async fn load(
    state: &AppState,
    viewer: &Viewer,
    period: Option<Period>,
    team: Option<&TeamId>,
) -> Result<(Scope, ReportView), NotAllowed> {
    let mut scope = Scope::load(state, viewer).await?;
    if team.is_some_and(|t| scope.team(t.as_str()).is_none()) {
        return Err(NotAllowed::Forbidden);
    }
    let period = period.unwrap_or_else(|| default_period(&scope.settings, scope.now));
    let cases = if viewer.is_admin() {
        // The scope gives admins no case rows; aggregates over all of them are allowed. The rows
        // stay inside this function's scope value and only feed `build`.
        let (rows, cases) = all_cases(state).await?;
        scope.cases = rows;
        cases
    } else {
        let ids = scope.cases.iter().map(|c| c.id).collect();
        scope.projections(state, ids).await?
    };
    let view = build(&scope, &cases, period, team);
    if viewer.is_admin() {
        scope.cases.clear();
    }
    Ok((scope, view))
}

/// Every case row of the organisation and the projections of their documents.
async fn all_cases(state: &AppState) -> Result<(Vec<cases::CaseRow>, Vec<Arc<Case>>), NotAllowed> {
    let db = state.db.clone();
    let projections = state.projections.clone();
    tokio::task::spawn_blocking(move || {
        let rows = db.read(|tx| cases::list(tx))?;
        let ids: Vec<CaseId> = rows.iter().map(|r| r.id).collect();
        let cases = projections.get_many(&db, &ids)?;
        Ok::<_, ProjectionError>((rows, cases))
    })
    .await
    .map_err(|e| AppError::internal("reading cases for a report", e))?
    .map_err(|e| NotAllowed::Failed(AppError::internal("reading cases for a report", e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_parsed_or_refused() {
        assert_eq!(parse_params(None, None), Ok((None, None)));
        assert_eq!(parse_params(Some(""), Some("")), Ok((None, None)));
        let (period, team) = parse_params(Some("2026-03"), Some("t_abc-1")).unwrap();
        assert_eq!(
            period,
            Some(Period::Month {
                year: 2026,
                month: 3
            })
        );
        assert_eq!(team.as_ref().map(|t| t.as_str()), Some("t_abc-1"));
        assert_eq!(
            parse_params(Some("2026-13"), None),
            Err(BadParams::Period(PeriodError::MonthOutOfRange {
                month: 13
            }))
        );
        assert_eq!(
            parse_params(None, Some("a b")).map_err(BadParams::field),
            Err("team")
        );
    }
    #[test]
    fn the_default_is_the_previous_month_in_the_organisations_zone() {
        let oslo = OrgSettings::norway_default();
        let ms = |s: &str| {
            s.parse::<jiff::Timestamp>()
                .map_or(0, |t| t.as_millisecond())
        };
        // 1 March 00:30 in Oslo is still February in UTC: the previous month is February.
        assert_eq!(
            default_period(&oslo, ms("2026-02-28T23:30:00Z")),
            Period::Month {
                year: 2026,
                month: 2
            }
        );
        assert_eq!(
            default_period(&oslo, ms("2026-01-15T12:00:00Z")),
            Period::Month {
                year: 2025,
                month: 12
            }
        );
    }
}
