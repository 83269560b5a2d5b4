//! Cases: the viewer's case list, one case's page (who, status, numbers — no content), opening
//! the case record (an explicit POST, written to the access log before anything is shown) and
//! the guidance agenda per PRW (flagged contacts and boundary signals, without notes).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use peerlog_core::insights::{self, Signal};
use peerlog_core::model::{Case, CaseStatus, LifeArea};
use serde::Deserialize;

use super::i18n::{Lang, texts};
use super::labels;
use super::layout::{csrf_field, datetime, page};
use super::scope::Scope;
use super::session::{NotAllowed, Viewer};
use crate::clock::now_ms;
use crate::db::access_log::{self, Action};
use crate::db::cases::CaseRow;
use crate::state::AppState;
use crate::web::error::AppError;

texts! {
    cases: "Cases", "Saker";
    alias: "Alias", "Alias";
    prw: "PRW", "Erfaringskonsulent";
    status: "Status", "Status";
    started: "Started", "Startet";
    planned_end: "Planned end", "Planlagt slutt";
    last_contact: "Last contact", "Siste kontakt";
    contacts: "Contacts", "Kontakter";
    none: "No cases.", "Ingen saker.";
    open_record: "Open the case record", "Åpne saksinnholdet";
    open_explain: "The record holds the contact notes and the plan. Opening it is written to the access log with your name.", "Innholdet er kontaktnotater og planen. Når du åpner det, skrives det i tilgangsloggen med ditt navn.";
    timeline: "Contacts (newest first)", "Kontakter (nyeste først)";
    plan: "Plan", "Plan";
    goals: "Goals", "Mål";
    agreements: "Agreements", "Avtaler";
    use_plan: "Plan for difficult moments", "Plan for vanskelige øyeblikk";
    boundaries: "Boundaries", "Grenser";
    max_per_week: "Agreed contacts per week at most", "Avtalt antall kontakter per uke, høyst";
    channels: "Agreed channels", "Avtalte kanaler";
    windows: "Agreed contact times", "Avtalte kontakttider";
    outside_plan: "Outside those times", "Utenom disse tidene";
    review_on: "Review on", "Gjennomgås";
    minutes: "min", "min";
    flagged: "Flagged for guidance", "Merket for veiledning";
    initiated_by: "Initiated by", "Tatt initiativ av";
    reassign: "Reassign to", "Gi saken til";
    reassign_button: "Reassign", "Gi videre";
    close: "Close the case", "Avslutt saken";
    close_reason: "Reason (required, no personal details)", "Grunn (påkrevd, ingen personopplysninger)";
    agenda: "Guidance agenda", "Veiledningsagenda";
    flagged_contacts: "Contacts flagged for guidance", "Kontakter merket for veiledning";
    boundary_signals: "Boundary and workload signals", "Signaler om grenser og arbeidsbelastning";
    nothing: "Nothing flagged.", "Ingenting merket.";
    case: "Case", "Sak";
    above_limit: "Service user contacted above the agreed number", "Tjenestemottakeren tok kontakt oftere enn avtalt";
    many_outside: "Many contacts outside office hours", "Mange kontakter utenfor kontortid";
    late_night: "Repeated late-night contacts", "Gjentatte kontakter sent på natten";
    no_contact: "No contact for days", "Ingen kontakt på flere dager";
    review_overdue: "Plan review overdue", "Gjennomgang av planen er forsinket";
    week: "week", "uke";
    days: "days", "dager";
    unreadable: "entries were written by a newer app and are not shown", "oppføringer er skrevet av en nyere app og vises ikke";
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list))
        .route("/cases/{id}", get(summary))
        .route("/cases/{id}/open", post(open))
        .route("/prws/{id}/agenda", get(agenda))
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn coordinator_scope(state: &AppState, viewer: &Viewer) -> Result<Scope, NotAllowed> {
    if viewer.is_admin() {
        // Admins manage people and devices; they never see case content or case lists.
        return Err(NotAllowed::Forbidden);
    }
    Scope::load(state, viewer).await
}

async fn one_case(
    state: &AppState,
    scope: &Scope,
    id: &str,
) -> Result<(CaseRow, Arc<Case>), NotAllowed> {
    let row = scope.case(id).ok_or(NotAllowed::Forbidden)?.clone();
    let case = scope
        .projections(state, vec![row.id])
        .await?
        .pop()
        .ok_or(NotAllowed::Forbidden)?;
    Ok((row, case))
}

async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Markup, NotAllowed> {
    let scope = coordinator_scope(&state, &viewer).await?;
    let ids = scope.cases.iter().map(|c| c.id).collect();
    let cases = scope.projections(&state, ids).await?;
    let lang = viewer.lang;
    let t = t(lang);
    let tz = scope.settings.time_zone();
    let body = html! {
        h1 { (t.cases) }
        @if cases.is_empty() { p { (t.none) } }
        @else {
            table {
                thead { tr {
                    th { (t.alias) } th { (t.prw) } th { (t.status) } th { (t.started) }
                    th { (t.last_contact) } th.num { (t.contacts) }
                } }
                tbody {
                    @for case in &cases {
                        @let row = scope.cases.iter().find(|r| r.id == case.id);
                        @let live: Vec<_> = case.live_contacts().collect();
                        tr {
                            td { a href=(format!("/cases/{}", case.id)) { (case.service_user.alias) } }
                            td { (row.and_then(|r| scope.user_name(&r.prw)).unwrap_or("–")) }
                            td { (labels::case_status(lang, row.map_or(case.status, |r| r.status))) }
                            td { (case.started_on.to_string()) }
                            td { (live.last().map_or_else(|| "–".to_owned(), |c| datetime(c.at, tz))) }
                            td.num { (live.len()) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(lang, Some(&viewer), t.cases, false, body))
}

async fn summary(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Markup, NotAllowed> {
    let scope = coordinator_scope(&state, &viewer).await?;
    let (row, case) = one_case(&state, &scope, &id).await?;
    let lang = viewer.lang;
    let t = t(lang);
    let tz = scope.settings.time_zone();
    let live: Vec<_> = case.live_contacts().collect();
    let team_prws: Vec<_> = scope
        .prws
        .iter()
        .filter(|p| p.teams.contains(&row.team) && p.id != row.prw)
        .collect();
    let body = html! {
        h1 { (t.case) " " (case.service_user.alias) }
        div.card {
            table {
                tr { th { (t.prw) } td { (scope.user_name(&row.prw).unwrap_or("–")) } }
                tr { th { (t.status) } td #case-status { (labels::case_status(lang, row.status)) } }
                tr { th { (t.started) } td { (case.started_on.to_string()) } }
                tr { th { (t.planned_end) } td { (case.planned_end.to_string()) } }
                tr { th { (t.contacts) } td { (live.len()) } }
                tr { th { (t.last_contact) } td { (live.last().map_or_else(|| "–".to_owned(), |c| datetime(c.at, tz))) } }
            }
        }
        form.card method="post" action=(format!("/cases/{}/open", case.id)) {
            (csrf_field(&viewer.csrf))
            p.muted { (t.open_explain) }
            button #open-record type="submit" { (t.open_record) }
        }
        @if row.status != CaseStatus::Closed {
            @if !team_prws.is_empty() {
                form.card method="post" action=(format!("/cases/{}/reassign", case.id)) {
                    (csrf_field(&viewer.csrf))
                    label for="prw" { (t.reassign) }
                    select #prw name="prw" {
                        @for p in &team_prws { option value=(p.id) { (p.name) } }
                    }
                    " " button.secondary type="submit" { (t.reassign_button) }
                }
            }
            form.card method="post" action=(format!("/cases/{}/close", case.id)) {
                (csrf_field(&viewer.csrf))
                label for="reason" { (t.close_reason) }
                input #reason type="text" name="reason" maxlength="80" required;
                " " button.secondary type="submit" { (t.close) }
            }
        }
    };
    Ok(page(
        lang,
        Some(&viewer),
        &case.service_user.alias,
        false,
        body,
    ))
}

/// `POST /cases/{id}/open`: logs the opening, then shows the record.
async fn open(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Markup, NotAllowed> {
    viewer.check_csrf(&form.csrf)?;
    let scope = coordinator_scope(&state, &viewer).await?;
    let (row, case) = one_case(&state, &scope, &id).await?;
    record_opening(&state, &viewer, &row).await?;
    let lang = viewer.lang;
    Ok(page(
        lang,
        Some(&viewer),
        &case.service_user.alias,
        false,
        record(lang, &scope, &row, &case),
    ))
}

/// Writes "this user opened this case" to the access log (before the content is sent).
pub(crate) async fn record_opening(
    state: &AppState,
    viewer: &Viewer,
    row: &CaseRow,
) -> Result<(), NotAllowed> {
    let db = state.db.clone();
    let user = viewer.user.clone();
    let role = viewer.role;
    let case = row.id;
    let now = now_ms();
    tokio::task::spawn_blocking(move || {
        db.write(|tx| access_log::append_by_user(tx, now, &user, role, &case, Action::Open))
    })
    .await
    .map_err(|e| AppError::internal("writing the access log", e))??;
    tracing::info!(user = %viewer.user, case = %row.id, "case opened in the dashboard");
    Ok(())
}

fn areas(lang: Lang, list: &[LifeArea]) -> Markup {
    html! { span.tags { @for a in list { span { (labels::area(lang, *a)) } } } }
}

fn record(lang: Lang, scope: &Scope, row: &CaseRow, case: &Case) -> Markup {
    let t = t(lang);
    let tz = scope.settings.time_zone();
    let mut contacts: Vec<_> = case.live_contacts().collect();
    contacts.reverse();
    let mut goals: Vec<_> = case.plan.goals.values().collect();
    goals.sort_by_key(|g| (g.area, g.status, g.created_at));
    let b = &case.boundaries;
    html! {
        h1 { (t.case) " " (case.service_user.alias) }
        p.muted { (t.prw) ": " (scope.user_name(&row.prw).unwrap_or("–")) " · " (labels::case_status(lang, row.status)) }
        @if case.unreadable_entries > 0 { p.muted { (case.unreadable_entries) " " (t.unreadable) } }
        section.card #plan {
            h2 { (t.plan) }
            h3 { (t.goals) }
            @for g in &goals {
                div.goal {
                    strong { (labels::area(lang, g.area)) } " · " (labels::goal_status(lang, g.status))
                    p { (g.text) }
                    @if !g.steps.is_empty() {
                        ul { @for s in g.steps.values() { li { @if s.done { "✓ " } (s.text) } } }
                    }
                }
            }
            @if !case.plan.agreements.is_empty() {
                h3 { (t.agreements) }
                ul { @for a in case.plan.agreements.values() { li { (a.text) " (" (a.since.to_string()) ")" } } }
            }
            @if !case.plan.use_plan.is_empty() {
                h3 { (t.use_plan) }
                p { (case.plan.use_plan) }
            }
        }
        section.card #boundaries {
            h2 { (t.boundaries) }
            ul {
                @if let Some(max) = b.max_contacts_per_week { li { (t.max_per_week) ": " (max) } }
                @if !b.channels.is_empty() {
                    li { (t.channels) ": " @for (i, m) in b.channels.iter().enumerate() { @if i > 0 { ", " } (labels::mode(lang, *m)) } }
                }
                @for w in &b.windows {
                    li { (t.windows) ": " (w.days.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(",")) " " (w.from.to_string()) "–" (w.to.to_string()) }
                }
                @if let Some(p) = &b.outside_hours_plan { li { (t.outside_plan) ": " (p) } }
                @if let Some(r) = b.review_on { li { (t.review_on) " " (r.to_string()) } }
            }
        }
        section.card #timeline {
            h2 { (t.timeline) }
            ol.timeline {
                @for c in &contacts {
                    li data-contact=(c.id) {
                        strong { (datetime(c.at, tz)) }
                        " · " (labels::mode(lang, c.mode)) " · " (c.minutes) " " (t.minutes)
                        " · " (t.initiated_by) " " (labels::initiator(lang, c.initiated_by))
                        @if c.flag_for_guidance { " · " span.signal { (t.flagged) } }
                        br;
                        (areas(lang, &c.topics))
                        @if !c.note.is_empty() { p { (c.note) } }
                    }
                }
            }
        }
    }
}

async fn agenda(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Markup, NotAllowed> {
    let scope = coordinator_scope(&state, &viewer).await?;
    let prw = scope.prw(&id).ok_or(NotAllowed::Forbidden)?.clone();
    let rows: Vec<_> = scope
        .cases
        .iter()
        .filter(|c| c.prw == prw.id)
        .map(|c| c.id)
        .collect();
    let cases = scope.projections(&state, rows).await?;
    let signals =
        insights::team_signals(cases.iter().map(|c| c.as_ref()), &scope.settings, scope.now);
    let alias = |case: &peerlog_core::ids::CaseId| {
        cases
            .iter()
            .find(|c| &c.id == case)
            .map_or("–", |c| c.service_user.alias.as_str())
    };
    let lang = viewer.lang;
    let t = t(lang);
    let tz = scope.settings.time_zone();
    let mut flagged: Vec<_> = signals
        .signals
        .iter()
        .filter_map(|s| match s {
            Signal::FlaggedForGuidance {
                case, contact, at, ..
            } => Some((*at, *case, contact.clone())),
            _ => None,
        })
        .collect();
    flagged.sort_by_key(|f| std::cmp::Reverse(f.0));
    let others: Vec<_> = signals
        .signals
        .iter()
        .filter(|s| !matches!(s, Signal::FlaggedForGuidance { .. }) && s.prw() == &prw.id)
        .collect();
    let body = html! {
        h1 { (t.agenda) ": " (prw.name) }
        section.card #flagged {
            h2 { (t.flagged_contacts) }
            @if flagged.is_empty() { p.muted { (t.nothing) } }
            ul {
                @for (at, case, contact) in &flagged {
                    @let topics = cases.iter().find(|c| &c.id == case).and_then(|c| c.contacts.get(contact)).map(|c| c.topics.clone()).unwrap_or_default();
                    li {
                        (datetime(*at, tz)) " · "
                        a href=(format!("/cases/{case}")) { (alias(case)) } " "
                        (areas(lang, &topics))
                    }
                }
            }
        }
        section.card #signals {
            h2 { (t.boundary_signals) }
            @if others.is_empty() { p.muted { (t.nothing) } }
            ul {
                @for s in &others {
                    li.signal {
                        @match s {
                            Signal::AboveAgreedContacts { case, week, count, max, .. } => {
                                (t.above_limit) ": " a href=(format!("/cases/{case}")) { (alias(case)) }
                                " (" (count) "/" (max) ", " (t.week) " " (week.week()) ")"
                            }
                            Signal::ManyOutsideHours { week, share, .. } => {
                                (t.many_outside) " (" (lang.percent(Some(*share))) ", " (t.week) " " (week.week()) ")"
                            }
                            Signal::RepeatedLateNight { week, count, .. } => {
                                (t.late_night) " (" (count) ", " (t.week) " " (week.week()) ")"
                            }
                            Signal::NoContactFor { case, days, .. } => {
                                (t.no_contact) ": " a href=(format!("/cases/{case}")) { (alias(case)) } " (" (days) " " (t.days) ")"
                            }
                            Signal::PlanReviewOverdue { case, days, .. } => {
                                (t.review_overdue) ": " a href=(format!("/cases/{case}")) { (alias(case)) } " (" (days) " " (t.days) ")"
                            }
                            Signal::FlaggedForGuidance { .. } => {}
                        }
                    }
                }
            }
        }
    };
    Ok(page(lang, Some(&viewer), t.agenda, true, body))
}
