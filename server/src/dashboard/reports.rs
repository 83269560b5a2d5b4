//! Monthly and yearly reports for funders: aggregates only (counts, hours, shares, contacts per
//! category) over a coordinator's teams or, for an admin, the whole organisation — as a page
//! (`/reports`), as CSV (`/reports.csv`) and, through [`figures::load_report`], as the JSON
//! API's answer. [`figures::build`] is pure; nothing here ever puts an alias, a note or a
//! per-case row into its output.
//!
//! This file is the page; [`figures`] computes the numbers and [`csv`] writes them as CSV.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use peerlog_core::ids::TeamId;
use peerlog_core::insights::report::Period;
use peerlog_core::model::{ContactMode, LifeArea, SupportType, UnixMillis};
use peerlog_core::settings::OrgSettings;
use serde::Deserialize;

use super::i18n::{Lang, texts};
use super::labels;
use super::layout::page;
use super::scope::Scope;
use super::session::{NotAllowed, Viewer};
use crate::state::AppState;
use csv::to_csv;
use figures::{BadParams, ReportNumbers, ReportView, load, load_report, local_date, parse_params};

pub mod csv;
pub mod figures;

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
