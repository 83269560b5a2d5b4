//! Monthly and yearly reports for funders: aggregates only (counts, hours, shares, contacts per
//! category) over a coordinator's teams or, for an admin, the whole organisation — as a page
//! (`/reports`), as CSV (`/reports.csv`) and, through [`load_report`], as the JSON API's answer.
//! [`build`] is pure; nothing here ever puts an alias, a note or a per-case row into its output.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use peerlog_core::ids::{CaseId, TeamId};
use peerlog_core::insights::report::{
    self as core_report, Period, PeriodError, Report, ReportCase,
};
use peerlog_core::model::{Case, ContactMode, LifeArea, SupportType, UnixMillis};
use peerlog_core::settings::OrgSettings;
use serde::{Deserialize, Serialize};

use super::i18n::{Lang, texts};
use super::labels;
use super::layout::page;
use super::projection::ProjectionError;
use super::scope::Scope;
use super::session::{NotAllowed, Viewer};
use crate::db::cases;
use crate::web::error::AppError;
use crate::state::AppState;

texts! {
    title: "Reports", "Rapporter";
    intro: "Numbers for funders and annual reports: sums only, never case content.", "Tall for finansiører og årsrapporter: bare summer, aldri saksinnhold.";
    period: "Period", "Periode";
    months: "Months", "Måneder";
    years: "Years", "År";
    team: "Team", "Team";
    all_my_teams: "All my teams", "Alle mine team";
    all_teams: "All teams", "Alle team";
    show: "Show", "Vis";
    download: "Download CSV", "Last ned CSV";
    summary: "Summary", "Sammendrag";
    followed: "Service users followed", "Tjenestemottakere fulgt opp";
    new_cases: "New cases", "Nye saker";
    closed_cases: "Closed cases", "Avsluttede saker";
    contacts: "Contacts", "Kontakter";
    hours: "Hours", "Timer";
    outside: "Outside office hours", "Utenfor kontortid";
    weekend: "Weekend", "Helg";
    su_initiated: "Initiated by the service user", "Initiativ fra tjenestemottaker";
    accompaniments: "Accompaniments", "Følge";
    by_mode: "Contacts by mode", "Kontakter etter kontaktform";
    by_topic: "Contacts by topic", "Kontakter etter tema";
    by_support: "Contacts by type of support", "Kontakter etter type støtte";
    total: "Total", "Totalt";
    notes: "Followed: cases open at some time in the period. A contact with several topics or types of support counts once for each. Months and years in the organisation's time zone:", "Fulgt opp: saker som var åpne en gang i perioden. En kontakt med flere temaer eller typer støtte telles én gang for hver. Måneder og år i organisasjonens tidssone:";
    bad_title: "The report could not be made", "Rapporten kunne ikke lages";
    bad_period: "The period must be a month (like 2026-03) or a year (like 2026) between 2000 and 2100.", "Perioden må være en måned (som 2026-03) eller et år (som 2026) mellom 2000 og 2100.";
    bad_team: "The team in the address is not a valid team id.", "Teamet i adressen er ikke en gyldig team-id.";
    bad_query: "The address has parameters the report does not understand.", "Adressen har parametere rapporten ikke forstår.";
    back: "Back to reports", "Tilbake til rapporter";
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_NB: [&str; 12] = [
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
];

/// Months offered in the period picker (this one and the ones before it).
const PICKER_MONTHS: i32 = 24;
/// Years offered in the period picker (this one and the ones before it).
const PICKER_YEARS: i16 = 5;

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

fn local_date(settings: &OrgSettings, now: UnixMillis) -> jiff::civil::Date {
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

async fn load(
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

/// The CSV header: the fixed columns, then one per contact mode, topic and support type.
fn csv_header() -> Vec<String> {
    let mut cols: Vec<String> = [
        "period",
        "team",
        "service_users_followed",
        "new_cases",
        "closed_cases",
        "contacts",
        "hours",
        "outside_office_hours_share",
        "weekend_share",
        "service_user_initiated",
        "accompaniments",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    cols.extend(
        ContactMode::ALL
            .iter()
            .map(|m| format!("mode_{}", m.code())),
    );
    cols.extend(LifeArea::ALL.iter().map(|a| format!("topic_{}", a.code())));
    cols.extend(
        SupportType::ALL
            .iter()
            .map(|s| format!("support_{}", s.code())),
    );
    cols
}

/// One CSV field per RFC 4180: quoted when it holds a comma, quote or line break (quotes
/// doubled). Text that a spreadsheet would read as a formula gets a leading `'`.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn csv_row(out: &mut String, team: &str, n: &ReportNumbers) {
    let share = |s: Option<f64>| s.map_or_else(String::new, |s| format!("{s:.4}"));
    let mut fields = vec![
        csv_field(&n.period),
        csv_field(team),
        n.service_users_followed.to_string(),
        n.new_cases.to_string(),
        n.closed_cases.to_string(),
        n.contacts.to_string(),
        format!("{:.1}", n.hours),
        share(n.outside_office_hours_share),
        share(n.weekend_share),
        n.service_user_initiated.to_string(),
        n.accompaniments.to_string(),
    ];
    let count = |map: &BTreeMap<&'static str, u32>, code: &str| {
        map.get(code).copied().unwrap_or(0).to_string()
    };
    fields.extend(ContactMode::ALL.iter().map(|m| count(&n.by_mode, m.code())));
    fields.extend(LifeArea::ALL.iter().map(|a| count(&n.by_topic, a.code())));
    fields.extend(
        SupportType::ALL
            .iter()
            .map(|s| count(&n.by_support, s.code())),
    );
    out.push_str(&fields.join(","));
    out.push_str("\r\n");
}

/// The report as CSV (RFC 4180, CRLF line ends, `.` decimals): a header row, then a month's
/// row, or a year's twelve month rows and its total row. Aggregates only.
pub fn to_csv(view: &ReportView) -> String {
    let team = match (&view.team_name, &view.team) {
        (Some(name), _) => name.as_str(),
        (None, Some(id)) => id.as_str(),
        (None, None) => "all",
    };
    let mut out = csv_header().join(",");
    out.push_str("\r\n");
    for month in &view.months {
        csv_row(&mut out, team, month);
    }
    csv_row(&mut out, team, &view.total);
    out
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(report_page))
        .route("/reports.csv", get(report_csv))
}

/// The query of both routes.
#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    pub period: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
}

/// Reads the query; on failure, what is wrong with it (for [`bad_request`]).
fn params(
    lang: Lang,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<(Option<Period>, Option<TeamId>), &'static str> {
    let t = t(lang);
    match query {
        Ok(Query(q)) => parse_params(q.period.as_deref(), q.team.as_deref()).map_err(|e| match e {
            BadParams::Period(_) => t.bad_period,
            BadParams::Team => t.bad_team,
        }),
        Err(_) => Err(t.bad_query),
    }
}

/// The 400 page that explains what is wrong with the request.
fn bad_request(viewer: &Viewer, problem: &str) -> Response {
    let lang = viewer.lang;
    let t = t(lang);
    let body = html! {
        h1 { (t.bad_title) }
        p.error #report-error role="alert" { (problem) }
        p { a href="/reports" { (t.back) } }
    };
    (
        StatusCode::BAD_REQUEST,
        page(lang, Some(viewer), t.bad_title, false, body),
    )
        .into_response()
}

/// The query string of a report's links: `period=…` and, for one team, `&team=…`.
fn query_string(view: &ReportView) -> String {
    match &view.team {
        // Team ids are ASCII letters, digits, `-` and `_`: nothing to escape.
        Some(team) => format!("period={}&team={team}", view.total.period),
        None => format!("period={}", view.total.period),
    }
}

async fn report_page(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, NotAllowed> {
    let (period, team) = match params(viewer.lang, query) {
        Ok(p) => p,
        Err(problem) => return Ok(bad_request(&viewer, problem)),
    };
    let (scope, view) = load(&state, &viewer, period, team.as_ref()).await?;
    let lang = viewer.lang;
    let body = render(lang, &viewer, &scope, &view);
    Ok(page(lang, Some(&viewer), t(lang).title, false, body).into_response())
}

async fn report_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, NotAllowed> {
    let (period, team) = match params(viewer.lang, query) {
        Ok(p) => p,
        Err(problem) => return Ok(bad_request(&viewer, problem)),
    };
    let view = load_report(&state, &viewer, period, team.as_ref()).await?;
    tracing::info!(user = %viewer.user, period = %view.total.period, "report downloaded as CSV");
    let disposition = format!(
        "attachment; filename=\"peerlog-report-{}.csv\"",
        view.total.period
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        to_csv(&view),
    )
        .into_response())
}

fn month_name(lang: Lang, month: i8) -> &'static str {
    let names = match lang {
        Lang::En => &MONTHS_EN,
        Lang::Nb => &MONTHS_NB,
    };
    usize::try_from(month - 1)
        .ok()
        .and_then(|i| names.get(i))
        .copied()
        .unwrap_or("")
}

/// A period for people: `March 2026`, `mars 2026`, `2026`.
fn period_name(lang: Lang, period: Period) -> String {
    match period {
        Period::Month { year, month } => format!("{} {year}", month_name(lang, month)),
        Period::Year { year } => year.to_string(),
    }
}

/// The periods the picker offers: recent months and years, plus the one shown.
fn picker(settings: &OrgSettings, now: UnixMillis, shown: Period) -> (Vec<Period>, Vec<Period>) {
    let today = local_date(settings, now);
    let mut months = Vec::new();
    let mut month = today.first_of_month();
    for _ in 0..PICKER_MONTHS {
        months.push(Period::Month {
            year: month.year(),
            month: month.month(),
        });
        match month.yesterday() {
            Ok(d) => month = d.first_of_month(),
            Err(_) => break,
        }
    }
    let mut years: Vec<Period> = (0..PICKER_YEARS)
        .map(|back| Period::Year {
            year: today.year() - back,
        })
        .collect();
    match shown {
        Period::Month { .. } if !months.contains(&shown) => months.push(shown),
        Period::Year { .. } if !years.contains(&shown) => years.push(shown),
        _ => {}
    }
    (months, years)
}

fn render(lang: Lang, viewer: &Viewer, scope: &Scope, view: &ReportView) -> Markup {
    let t = t(lang);
    let (months, years) = picker(&scope.settings, scope.now, view.period);
    let selected_team = view.team.as_deref().unwrap_or("");
    let all_label = if viewer.is_admin() {
        t.all_teams
    } else {
        t.all_my_teams
    };
    let rows: Vec<(String, &ReportNumbers, bool)> = view
        .months
        .iter()
        .filter_map(|m| {
            Period::parse(&m.period)
                .ok()
                .map(|p| (period_name(lang, p), m, false))
        })
        .chain([(
            if view.months.is_empty() {
                period_name(lang, view.period)
            } else {
                format!("{} {}", t.total, period_name(lang, view.period))
            },
            &view.total,
            true,
        )])
        .collect();
    let heading = format!(
        "{} · {}",
        period_name(lang, view.period),
        view.team_name.as_deref().unwrap_or(all_label)
    );
    html! {
        h1 { (t.title) }
        p.muted { (t.intro) }
        form.card #report-form method="get" action="/reports" {
            label for="period" { (t.period) }
            " "
            select #period name="period" {
                optgroup label=(t.months) {
                    @for p in &months {
                        option value=(p.label()) selected[*p == view.period] { (period_name(lang, *p)) }
                    }
                }
                optgroup label=(t.years) {
                    @for p in &years {
                        option value=(p.label()) selected[*p == view.period] { (period_name(lang, *p)) }
                    }
                }
            }
            " "
            label for="team" { (t.team) }
            " "
            select #team name="team" {
                option value="" selected[selected_team.is_empty()] { (all_label) }
                @for team in &scope.teams {
                    option value=(team.id) selected[team.id.as_str() == selected_team] { (team.name) }
                }
            }
            " "
            button type="submit" { (t.show) }
        }
        h2 #report-heading { (heading) }
        p {
            a #download-csv href=(format!("/reports.csv?{}", query_string(view))) download { (t.download) }
        }
        section.card {
            h3 { (t.summary) }
            table #report-summary {
                thead { tr {
                    th scope="col" { (t.period) }
                    th.num scope="col" { (t.followed) }
                    th.num scope="col" { (t.new_cases) }
                    th.num scope="col" { (t.closed_cases) }
                    th.num scope="col" { (t.contacts) }
                    th.num scope="col" { (t.hours) }
                    th.num scope="col" { (t.outside) }
                    th.num scope="col" { (t.weekend) }
                    th.num scope="col" { (t.su_initiated) }
                    th.num scope="col" { (t.accompaniments) }
                } }
                tbody {
                    @for (name, n, total) in &rows {
                        tr class=[total.then_some("total")] data-period=(n.period) {
                            th scope="row" { (name) }
                            td.num { (n.service_users_followed) }
                            td.num { (n.new_cases) }
                            td.num { (n.closed_cases) }
                            td.num { (n.contacts) }
                            td.num { (lang.decimal(n.hours)) }
                            td.num { (lang.percent(n.outside_office_hours_share)) }
                            td.num { (lang.percent(n.weekend_share)) }
                            td.num { (n.service_user_initiated) }
                            td.num { (n.accompaniments) }
                        }
                    }
                }
            }
        }
        (category_table(
            "report-modes",
            t.by_mode,
            t.period,
            &rows,
            &ContactMode::ALL.iter().map(|m| (m.code(), labels::mode(lang, *m))).collect::<Vec<_>>(),
            |n| &n.by_mode,
        ))
        (category_table(
            "report-topics",
            t.by_topic,
            t.period,
            &rows,
            &LifeArea::ALL.iter().map(|a| (a.code(), labels::area(lang, *a))).collect::<Vec<_>>(),
            |n| &n.by_topic,
        ))
        (category_table(
            "report-support",
            t.by_support,
            t.period,
            &rows,
            &SupportType::ALL.iter().map(|s| (s.code(), labels::support(lang, *s))).collect::<Vec<_>>(),
            |n| &n.by_support,
        ))
        p.muted { (t.notes) " " (scope.settings.time_zone_name()) "." }
    }
}

/// One table of contacts per category: a column per code, a row per period.
fn category_table(
    id: &str,
    title: &str,
    period: &str,
    rows: &[(String, &ReportNumbers, bool)],
    codes: &[(&'static str, &'static str)],
    counts: impl Fn(&ReportNumbers) -> &BTreeMap<&'static str, u32>,
) -> Markup {
    html! {
        section.card {
            h3 { (title) }
            table id=(id) {
                thead { tr {
                    th scope="col" { (period) }
                    @for (code, name) in codes { th.num scope="col" data-code=(code) { (name) } }
                } }
                tbody {
                    @for (name, n, total) in rows {
                        tr class=[total.then_some("total")] data-period=(n.period) {
                            th scope="row" { (name) }
                            @for (code, _) in codes {
                                td.num { (counts(n).get(code).copied().unwrap_or(0)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_per_rfc_4180_and_never_read_as_formulas() {
        assert_eq!(csv_field("team-01"), "team-01");
        assert_eq!(csv_field("Nord, Sør"), "\"Nord, Sør\"");
        assert_eq!(csv_field("the \"A\" team"), "\"the \"\"A\"\" team\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("-x,y"), "\"'-x,y\"");
    }

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

    #[test]
    fn months_have_names_in_both_languages() {
        assert_eq!(
            period_name(
                Lang::En,
                Period::Month {
                    year: 2026,
                    month: 3
                }
            ),
            "March 2026"
        );
        assert_eq!(
            period_name(
                Lang::Nb,
                Period::Month {
                    year: 2026,
                    month: 12
                }
            ),
            "desember 2026"
        );
        assert_eq!(period_name(Lang::Nb, Period::Year { year: 2026 }), "2026");
    }
}
