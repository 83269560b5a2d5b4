//! The team overview: per PRW the active cases, contacts and hours this week and the four before,
//! the share of contacts outside office hours and at weekends, service users above the agreed
//! number of contacts, cases without contact, items flagged for guidance, devices and last sync.
//! [`compute`] is pure (scope and projections in, numbers out; no notes); the page, the JSON API
//! and the benchmark share it. `/events` tells open pages when a visible case changed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use futures_util::Stream;
use maud::{Markup, html};
use peerlog_core::ids::{CaseId, TeamId};
use peerlog_core::insights::{self, IsoWeek, Signal, WeekTotals};
use peerlog_core::model::{Case, CaseStatus};
use serde::Serialize;

use super::i18n::{Lang, texts};
use super::layout::{bar_chart, datetime, page};
use super::scope::Scope;
use super::session::{NotAllowed, Viewer};
use crate::db::docs;
use crate::db::identity::DeviceStatus;
use crate::state::AppState;

/// Weeks shown: this one and the four before it.
pub(crate) const WEEKS: u32 = 5;

texts! {
    title: "Team overview", "Teamoversikt";
    prw: "PRW", "Erfaringskonsulent";
    active_cases: "Active cases", "Aktive saker";
    contacts_week: "Contacts this week", "Kontakter denne uken";
    hours_week: "Hours this week", "Timer denne uken";
    per_week: "Contacts per week (5 weeks)", "Kontakter per uke (5 uker)";
    outside_hours: "Outside office hours (5 weeks)", "Utenfor kontortid (5 uker)";
    weekend: "Weekend (5 weeks)", "Helg (5 uker)";
    attention: "Needs attention", "Trenger oppmerksomhet";
    devices: "Devices · last sync", "Enheter · siste synk";
    above_limit: "above agreed contacts", "over avtalt antall kontakter";
    no_contact: "days without contact", "dager uten kontakt";
    flagged: "flagged for guidance", "merket for veiledning";
    late_night: "late-night contacts", "kontakter sent på natt";
    many_outside: "many contacts outside office hours", "mange kontakter utenfor kontortid";
    review_overdue: "plan review overdue", "planen skulle vært gjennomgått";
    agenda: "Guidance agenda", "Veiledningsagenda";
    never: "never", "aldri";
    no_devices: "no device", "ingen enhet";
    no_teams: "You are not a coordinator of any team yet.", "Du er ikke koordinator for noe team ennå.";
    week: "Week", "Uke";
    live: "Updates by itself when a phone syncs.", "Oppdateres av seg selv når en telefon synkroniserer.";
    revoked: "revoked", "tilbakekalt";
}

/// One week's numbers in a PRW's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WeekCell {
    /// ISO week, e.g. `2026-W48`.
    pub(crate) week: String,
    pub(crate) contacts: u32,
    pub(crate) minutes: u64,
}

/// A case that needs attention, named by its alias (no content).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CaseFlag {
    pub(crate) case_id: String,
    pub(crate) alias: String,
    /// What is flagged: contacts above the agreed number (`count` of `max`), days without
    /// contact (`count`), contacts flagged for guidance (`count`), an overdue review (`count`
    /// days).
    pub(crate) kind: &'static str,
    pub(crate) count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max: Option<u32>,
}

/// A device as the overview shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeviceCell {
    pub(crate) device_id: String,
    pub(crate) name: Option<String>,
    pub(crate) active: bool,
    pub(crate) last_seen: Option<i64>,
}

/// One PRW's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrwRow {
    pub(crate) prw_id: String,
    pub(crate) name: String,
    pub(crate) active_cases: u32,
    /// Oldest first; the last is the current week.
    pub(crate) weeks: Vec<WeekCell>,
    /// Over the weeks shown; `None` without contacts.
    pub(crate) outside_office_hours_share: Option<f64>,
    pub(crate) weekend_share: Option<f64>,
    pub(crate) late_night_contacts_this_week: u32,
    /// PRW-level signals this week or last (outside hours, late night).
    pub(crate) work_signals: Vec<&'static str>,
    pub(crate) cases_needing_attention: Vec<CaseFlag>,
    pub(crate) flagged_for_guidance: u32,
    pub(crate) devices: Vec<DeviceCell>,
    /// The last time any active device of the PRW synced.
    pub(crate) last_sync: Option<i64>,
}

/// One team's overview.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TeamOverview {
    pub(crate) team_id: String,
    pub(crate) team_name: String,
    pub(crate) week: String,
    pub(crate) prws: Vec<PrwRow>,
}

fn week_label(w: IsoWeek) -> String {
    format!("{}-W{:02}", w.year(), w.week())
}

/// The overview of every team in `scope`, from the projections of the scope's cases.
pub(crate) fn compute(scope: &Scope, cases: &[Arc<Case>]) -> Vec<TeamOverview> {
    let settings = &scope.settings;
    let now = scope.now;
    let this_week = insights::week_of(now, settings);
    let first_week = this_week
        .checked_add_weeks(-(i64::from(WEEKS) - 1))
        .unwrap_or(this_week);
    let status: HashMap<CaseId, CaseStatus> =
        scope.cases.iter().map(|c| (c.id, c.status)).collect();
    let mut by_team: HashMap<&TeamId, Vec<&Case>> = HashMap::new();
    for case in cases {
        if let Some(row) = scope.cases.iter().find(|r| r.id == case.id) {
            by_team.entry(&row.team).or_default().push(case);
        }
    }
    scope
        .teams
        .iter()
        .map(|team| {
            let team_cases: Vec<&Case> = by_team.get(&team.id).cloned().unwrap_or_default();
            // The relay's case table decides who the PRW is now (a reassignment reaches the
            // document a moment later).
            let rows: HashMap<CaseId, &crate::db::cases::CaseRow> =
                scope.team_cases(&team.id).map(|r| (r.id, r)).collect();
            let signals = insights::team_signals(team_cases.iter().copied(), settings, now);
            let aliases: HashMap<CaseId, &str> = team_cases
                .iter()
                .map(|c| (c.id, c.service_user.alias.as_str()))
                .collect();
            let prws = scope
                .prws
                .iter()
                .filter(|p| p.teams.contains(&team.id))
                .map(|prw| {
                    let mine: Vec<&Case> = team_cases
                        .iter()
                        .copied()
                        .filter(|c| rows.get(&c.id).is_some_and(|r| r.prw == prw.id))
                        .collect();
                    let series = insights::weekly_series(
                        mine.iter().copied(),
                        &prw.id,
                        first_week,
                        WEEKS,
                        settings,
                    );
                    let mut total = WeekTotals::default();
                    for p in &series {
                        total.contacts += p.totals.contacts;
                        total.outside_office_hours += p.totals.outside_office_hours;
                        total.weekend += p.totals.weekend;
                    }
                    let share = |n: u32| {
                        (total.contacts > 0).then(|| f64::from(n) / f64::from(total.contacts))
                    };
                    let mut flags: BTreeMap<(CaseId, &'static str), CaseFlag> = BTreeMap::new();
                    let mut work_signals = Vec::new();
                    let mut flagged = 0;
                    for signal in signals.signals.iter().filter(|s| s.prw() == &prw.id) {
                        let flag = |case: &CaseId,
                                    kind: &'static str,
                                    count: u32,
                                    max: Option<u32>| CaseFlag {
                            case_id: case.to_string(),
                            alias: aliases.get(case).copied().unwrap_or("").to_owned(),
                            kind,
                            count,
                            max,
                        };
                        match signal {
                            Signal::AboveAgreedContacts {
                                case, count, max, ..
                            } => {
                                let entry =
                                    flags.entry((*case, "aboveAgreedContacts")).or_insert_with(
                                        || flag(case, "aboveAgreedContacts", *count, Some(*max)),
                                    );
                                entry.count = entry.count.max(*count);
                            }
                            Signal::NoContactFor { case, days, .. } => {
                                flags.insert(
                                    (*case, "noContact"),
                                    flag(case, "noContact", *days, None),
                                );
                            }
                            Signal::PlanReviewOverdue { case, days, .. } => {
                                flags
                                    .entry((*case, "reviewOverdue"))
                                    .or_insert_with(|| flag(case, "reviewOverdue", *days, None));
                            }
                            Signal::FlaggedForGuidance { case, .. } => {
                                flagged += 1;
                                flags
                                    .entry((*case, "flaggedForGuidance"))
                                    .or_insert_with(|| flag(case, "flaggedForGuidance", 0, None))
                                    .count += 1;
                            }
                            Signal::ManyOutsideHours { .. } => {
                                if !work_signals.contains(&"manyOutsideHours") {
                                    work_signals.push("manyOutsideHours");
                                }
                            }
                            Signal::RepeatedLateNight { .. } => {
                                if !work_signals.contains(&"repeatedLateNight") {
                                    work_signals.push("repeatedLateNight");
                                }
                            }
                        }
                    }
                    let devices: Vec<DeviceCell> = scope
                        .devices_of(&prw.id)
                        .map(|d| DeviceCell {
                            device_id: d.id.to_string(),
                            name: d.name.clone(),
                            active: d.status == DeviceStatus::Active,
                            last_seen: d.last_seen,
                        })
                        .collect();
                    let last_sync = devices
                        .iter()
                        .filter(|d| d.active)
                        .filter_map(|d| d.last_seen)
                        .max();
                    PrwRow {
                        prw_id: prw.id.to_string(),
                        name: prw.name.clone(),
                        active_cases: u32::try_from(
                            rows.values()
                                .filter(|r| {
                                    r.prw == prw.id
                                        && status.get(&r.id) == Some(&CaseStatus::Active)
                                })
                                .count(),
                        )
                        .unwrap_or(u32::MAX),
                        weeks: series
                            .iter()
                            .map(|p| WeekCell {
                                week: week_label(p.week),
                                contacts: p.totals.contacts,
                                minutes: p.totals.minutes,
                            })
                            .collect(),
                        outside_office_hours_share: share(total.outside_office_hours),
                        weekend_share: share(total.weekend),
                        late_night_contacts_this_week: series
                            .last()
                            .map_or(0, |p| p.totals.late_night),
                        work_signals,
                        cases_needing_attention: flags.into_values().collect(),
                        flagged_for_guidance: flagged,
                        devices,
                        last_sync,
                    }
                })
                .collect();
            TeamOverview {
                team_id: team.id.to_string(),
                team_name: team.name.clone(),
                week: week_label(this_week),
                prws,
            }
        })
        .collect()
}

/// The viewer's overview (loads the scope and the changed projections).
pub(crate) async fn load(
    state: &AppState,
    viewer: &Viewer,
) -> Result<(Scope, Vec<TeamOverview>), NotAllowed> {
    let scope = Scope::load(state, viewer).await?;
    let ids: Vec<CaseId> = scope.cases.iter().map(|c| c.id).collect();
    let cases = scope.projections(state, ids).await?;
    let teams = compute(&scope, &cases);
    Ok((scope, teams))
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/overview", get(overview_page))
        .route("/events", get(events))
}

pub(crate) async fn home(viewer: Viewer) -> Response {
    if viewer.is_admin() {
        Redirect::to("/people").into_response()
    } else {
        Redirect::to("/overview").into_response()
    }
}

fn flag_text(lang: Lang, flag: &CaseFlag) -> String {
    let t = t(lang);
    match (flag.kind, flag.max) {
        ("aboveAgreedContacts", Some(max)) => format!("{} / {max} {}", flag.count, t.above_limit),
        ("noContact", _) => format!("{} {}", flag.count, t.no_contact),
        ("flaggedForGuidance", _) => format!("{} {}", flag.count, t.flagged),
        ("reviewOverdue", _) => t.review_overdue.to_owned(),
        _ => flag.kind.to_owned(),
    }
}

/// One bar per week, with the week, contacts and hours as its tooltip.
fn chart_bars(lang: Lang, weeks: &[WeekCell]) -> Vec<(u32, String)> {
    weeks
        .iter()
        .map(|w| {
            let hours = lang.decimal(w.minutes as f64 / 60.0);
            (
                w.contacts,
                format!("{}: {} · {hours} h", w.week, w.contacts),
            )
        })
        .collect()
}

fn render(lang: Lang, scope: &Scope, teams: &[TeamOverview]) -> Markup {
    let t = t(lang);
    let tz = scope.settings.time_zone();
    html! {
        h1 { (t.title) }
        p.live { (t.live) }
        @if teams.is_empty() { p { (t.no_teams) } }
        @for team in teams {
            section.card data-team=(team.team_id) {
                h2 { (team.team_name) " · " (t.week) " " (team.week) }
                table.overview {
                    thead { tr {
                        th { (t.prw) }
                        th.num { (t.active_cases) }
                        th.num { (t.contacts_week) }
                        th.num { (t.hours_week) }
                        th { (t.per_week) }
                        th.num { (t.outside_hours) }
                        th.num { (t.weekend) }
                        th { (t.attention) }
                        th { (t.devices) }
                    } }
                    tbody {
                        @for prw in &team.prws {
                            @let current = prw.weeks.last();
                            tr data-prw=(prw.prw_id) {
                                td { a href=(format!("/prws/{}/agenda", prw.prw_id)) title=(t.agenda) { (prw.name) } }
                                td.num { (prw.active_cases) }
                                td.num.contacts-week { (current.map_or(0, |w| w.contacts)) }
                                td.num { (lang.decimal(current.map_or(0, |w| w.minutes) as f64 / 60.0)) }
                                td { (bar_chart(&chart_bars(lang, &prw.weeks), t.per_week)) }
                                td.num { (lang.percent(prw.outside_office_hours_share)) }
                                td.num { (lang.percent(prw.weekend_share)) }
                                td {
                                    ul {
                                        @for s in &prw.work_signals {
                                            li.signal { (if *s == "manyOutsideHours" { t.many_outside } else { t.late_night }) }
                                        }
                                        @for flag in &prw.cases_needing_attention {
                                            li.signal {
                                                a href=(format!("/cases/{}", flag.case_id)) { (flag.alias) }
                                                ": " (flag_text(lang, flag))
                                            }
                                        }
                                    }
                                }
                                td {
                                    @if prw.devices.is_empty() { span.muted { (t.no_devices) } }
                                    @for d in &prw.devices {
                                        div {
                                            (d.name.as_deref().unwrap_or(&d.device_id)) " · "
                                            @if d.active {
                                                (d.last_seen.map_or_else(|| t.never.to_owned(), |at| datetime(at, tz)))
                                            } @else { span.muted { (t.revoked) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(crate) async fn overview_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Markup, NotAllowed> {
    if viewer.is_admin() {
        return Err(NotAllowed::Forbidden);
    }
    let (scope, teams) = load(&state, &viewer).await?;
    Ok(page(
        viewer.lang,
        Some(&viewer),
        t(viewer.lang).title,
        true,
        render(viewer.lang, &scope, &teams),
    ))
}

/// How often `/events` looks for changed documents.
const EVENTS_POLL: Duration = Duration::from_secs(1);
/// How often it checks that the session still exists.
const SESSION_CHECK_EVERY: u32 = 30;

/// `GET /events`: a server-sent `changed` event whenever a case the viewer may see (or the set
/// of cases itself) changed. Ends when the session does.
pub(crate) async fn events(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    viewer: Viewer,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    struct Watch {
        state: AppState,
        headers: axum::http::HeaderMap,
        viewer: Viewer,
        seen: Option<i64>,
        visible: HashSet<CaseId>,
        ticks: u32,
    }
    let visible = visible_cases(&state, &viewer);
    let start = Watch {
        state,
        headers,
        viewer,
        seen: None,
        visible,
        ticks: 0,
    };
    let stream = futures_util::stream::unfold(Some(start), |watch| async move {
        let mut w = watch?;
        loop {
            tokio::time::sleep(EVENTS_POLL).await;
            w.ticks += 1;
            if w.ticks.is_multiple_of(SESSION_CHECK_EVERY)
                && super::session::viewer(&w.state, &w.headers).await.is_err()
            {
                return None;
            }
            let db = w.state.db.clone();
            let seen = w.seen;
            let read = tokio::task::spawn_blocking(move || {
                db.read(|tx| {
                    let seq = docs::seq(tx)?;
                    let changed = match seen {
                        Some(s) if s != seq => docs::changed_since(tx, s)?,
                        _ => Vec::new(),
                    };
                    Ok::<_, crate::db::DbError>((seq, changed))
                })
            })
            .await;
            let Ok(Ok((seq, changed))) = read else {
                continue;
            };
            let visible_now = visible_cases(&w.state, &w.viewer);
            let access_changed = visible_now != w.visible;
            w.visible = visible_now;
            let first = w.seen.is_none();
            w.seen = Some(seq);
            if first {
                continue;
            }
            let relevant = changed.iter().filter(|c| w.visible.contains(c)).count();
            if relevant > 0 || access_changed {
                let event = Event::default().event("changed").data(relevant.to_string());
                return Some((Ok(event), Some(w)));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn visible_cases(state: &AppState, viewer: &Viewer) -> HashSet<CaseId> {
    state
        .access
        .snapshot()
        .visible_cases(&viewer.user, crate::clock::now_ms())
        .into_iter()
        .map(|(row, _)| row.id)
        .collect()
}
