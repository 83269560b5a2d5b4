//! The dashboard's JSON API under `/api/v1`: teams, team overview, cases, one case's record and
//! reports, with the same scope as the pages (a coordinator sees their teams; an admin no case
//! content), the relay's one error shape (`{code, message}`), and the OpenAPI document at
//! `/api/v1/openapi.json`. Clients authenticate with the dashboard session cookie (read-only
//! GETs, so no CSRF token is needed) or a coordinator device's bearer token.

use std::collections::BTreeMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use peerlog_core::model::Case;
use serde::{Deserialize, Serialize};

use super::case_view;
use super::i18n::Lang;
use super::overview::{self, TeamOverview};
use super::reports::figures::{self, ReportView};
use super::scope::Scope;
use super::session::{self, NotAllowed, Viewer};
use crate::auth::extract::client_ip;
use crate::auth::service;
use crate::db::identity;
use crate::state::AppState;
use crate::sync::ports::Role;
use crate::web::error::AppError;

/// The OpenAPI 3.1 document of these routes (hand-written; the test below keeps it in step).
pub(crate) const OPENAPI: &str = include_str!("../../assets/openapi.json");

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/me", get(me))
        .route("/teams", get(teams))
        .route("/overview", get(all_overviews))
        .route("/teams/{id}/overview", get(team_overview))
        .route("/cases", get(cases))
        .route("/cases/{id}", get(case))
        .route("/reports", get(reports))
        .fallback(unknown)
}

/// Unknown API paths answer in the one error shape too.
async fn unknown() -> AppError {
    AppError::NotFound
}

impl From<NotAllowed> for AppError {
    fn from(e: NotAllowed) -> Self {
        match e {
            NotAllowed::SignIn | NotAllowed::Continue(_) => AppError::Unauthorized,
            NotAllowed::Csrf => AppError::Forbidden,
            NotAllowed::Forbidden => AppError::NotFound,
            NotAllowed::Failed(e) => e,
        }
    }
}

/// A dashboard user calling the API: by bearer token (a coordinator's or admin's device) or by
/// the dashboard session cookie.
#[derive(Debug, Clone)]
pub(crate) struct ApiViewer(pub Viewer);

impl FromRequestParts<AppState> for ApiViewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_owned());
        let Some(token) = bearer else {
            return Ok(ApiViewer(session::viewer(state, &parts.headers).await?));
        };
        let ip = client_ip(parts, state);
        let who = service::authenticate(state, &ip, Some(&token)).await?;
        let (user, login) = session::user_and_login(state, &who.user).await?;
        let user = user.ok_or(AppError::Unauthorized)?;
        if user.role == Role::Prw {
            // PRWs read their cases by syncing; the dashboard API is for coordinators.
            return Err(AppError::Forbidden);
        }
        Ok(ApiViewer(Viewer {
            user: user.id,
            name: user.name,
            role: user.role,
            teams: user.teams,
            lang: login
                .and_then(|l| Lang::parse(&l.language))
                .unwrap_or_default(),
            csrf: String::new(),
            has_totp: false,
            session: [0; 32],
        }))
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Me {
    user_id: String,
    name: String,
    role: &'static str,
    language: &'static str,
    team_ids: Vec<String>,
}

async fn me(ApiViewer(v): ApiViewer) -> Json<Me> {
    Json(Me {
        user_id: v.user.to_string(),
        name: v.name.clone(),
        role: identity::role_code(v.role),
        language: v.lang.code(),
        team_ids: v.teams.iter().map(ToString::to_string).collect(),
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TeamDto {
    id: String,
    name: String,
}

async fn teams(
    State(state): State<AppState>,
    ApiViewer(v): ApiViewer,
) -> Result<Json<Vec<TeamDto>>, AppError> {
    let scope = Scope::load(&state, &v).await?;
    Ok(Json(
        scope
            .teams
            .iter()
            .map(|t| TeamDto {
                id: t.id.to_string(),
                name: t.name.clone(),
            })
            .collect(),
    ))
}

fn coordinator(v: &Viewer) -> Result<(), AppError> {
    if v.is_admin() {
        // An admin manages people and devices; case-derived numbers per PRW are not theirs.
        Err(AppError::Forbidden)
    } else {
        Ok(())
    }
}

async fn all_overviews(
    State(state): State<AppState>,
    ApiViewer(v): ApiViewer,
) -> Result<Json<Vec<TeamOverview>>, AppError> {
    coordinator(&v)?;
    let (_, teams) = overview::load(&state, &v).await?;
    Ok(Json(teams))
}

async fn team_overview(
    State(state): State<AppState>,
    ApiViewer(v): ApiViewer,
    Path(id): Path<String>,
) -> Result<Json<TeamOverview>, AppError> {
    coordinator(&v)?;
    let (_, teams) = overview::load(&state, &v).await?;
    teams
        .into_iter()
        .find(|t| t.team_id == id)
        .map(Json)
        .ok_or(AppError::NotFound)
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CaseListItem {
    id: String,
    alias: String,
    team_id: String,
    prw_id: String,
    status: &'static str,
    started_on: String,
    contacts: usize,
    last_contact_at: Option<i64>,
}

async fn cases(
    State(state): State<AppState>,
    ApiViewer(v): ApiViewer,
) -> Result<Json<Vec<CaseListItem>>, AppError> {
    coordinator(&v)?;
    let scope = Scope::load(&state, &v).await?;
    let ids = scope.cases.iter().map(|c| c.id).collect();
    let projections = scope.projections(&state, ids).await?;
    Ok(Json(
        projections
            .iter()
            .filter_map(|case| {
                let row = scope.cases.iter().find(|r| r.id == case.id)?;
                let live: Vec<_> = case.live_contacts().collect();
                Some(CaseListItem {
                    id: case.id.to_string(),
                    alias: case.service_user.alias.clone(),
                    team_id: row.team.to_string(),
                    prw_id: row.prw.to_string(),
                    status: row.status.code(),
                    started_on: case.started_on.to_string(),
                    contacts: live.len(),
                    last_contact_at: live.last().map(|c| c.at),
                })
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ContactDto {
    id: String,
    at: i64,
    minutes: u32,
    mode: &'static str,
    initiated_by: &'static str,
    topics: Vec<&'static str>,
    support_types: Vec<&'static str>,
    note: String,
    flagged_for_guidance: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StepDto {
    id: String,
    text: String,
    done: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct GoalDto {
    id: String,
    area: &'static str,
    status: &'static str,
    text: String,
    review_on: Option<String>,
    steps: Vec<StepDto>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WindowDto {
    days: Vec<i8>,
    from: String,
    to: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CaseDto {
    id: String,
    alias: String,
    birth_year: Option<i32>,
    team_id: String,
    prw_id: String,
    status: &'static str,
    closed_reason: Option<String>,
    started_on: String,
    planned_end: String,
    /// Newest first; deleted contacts are left out.
    contacts: Vec<ContactDto>,
    goals: Vec<GoalDto>,
    agreements: BTreeMap<String, String>,
    use_plan: String,
    max_contacts_per_week: Option<u32>,
    channels: Vec<&'static str>,
    windows: Vec<WindowDto>,
    outside_hours_plan: Option<String>,
    boundaries_review_on: Option<String>,
    unreadable_entries: usize,
}

fn case_dto(row: &crate::db::cases::CaseRow, case: &Case) -> CaseDto {
    let mut contacts: Vec<ContactDto> = case
        .live_contacts()
        .map(|c| ContactDto {
            id: c.id.to_string(),
            at: c.at,
            minutes: c.minutes,
            mode: c.mode.code(),
            initiated_by: c.initiated_by.code(),
            topics: c.topics.iter().map(|t| t.code()).collect(),
            support_types: c.support_types.iter().map(|s| s.code()).collect(),
            note: c.note.clone(),
            flagged_for_guidance: c.flag_for_guidance,
        })
        .collect();
    contacts.reverse();
    let b = &case.boundaries;
    CaseDto {
        id: case.id.to_string(),
        alias: case.service_user.alias.clone(),
        birth_year: case.service_user.birth_year,
        team_id: row.team.to_string(),
        prw_id: row.prw.to_string(),
        status: row.status.code(),
        closed_reason: case.closed_reason.clone(),
        started_on: case.started_on.to_string(),
        planned_end: case.planned_end.to_string(),
        contacts,
        goals: case
            .plan
            .goals
            .values()
            .map(|g| GoalDto {
                id: g.id.to_string(),
                area: g.area.code(),
                status: g.status.code(),
                text: g.text.clone(),
                review_on: g.review_on.map(|d| d.to_string()),
                steps: g
                    .steps
                    .values()
                    .map(|s| StepDto {
                        id: s.id.to_string(),
                        text: s.text.clone(),
                        done: s.done,
                    })
                    .collect(),
            })
            .collect(),
        agreements: case
            .plan
            .agreements
            .values()
            .map(|a| (a.id.to_string(), a.text.clone()))
            .collect(),
        use_plan: case.plan.use_plan.clone(),
        max_contacts_per_week: b.max_contacts_per_week,
        channels: b.channels.iter().map(|m| m.code()).collect(),
        windows: b
            .windows
            .iter()
            .map(|w| WindowDto {
                days: w.days.clone(),
                from: w.from.to_string(),
                to: w.to.to_string(),
            })
            .collect(),
        outside_hours_plan: b.outside_hours_plan.clone(),
        boundaries_review_on: b.review_on.map(|d| d.to_string()),
        unreadable_entries: case.unreadable_entries,
    }
}

/// `GET /api/v1/cases/{id}`: the case record. Reading it is an opening: logged first.
async fn case(
    State(state): State<AppState>,
    ApiViewer(v): ApiViewer,
    Path(id): Path<String>,
) -> Result<Json<CaseDto>, AppError> {
    coordinator(&v)?;
    let scope = Scope::load(&state, &v).await?;
    let row = scope.case(&id).ok_or(AppError::NotFound)?.clone();
    let case = scope
        .projections(&state, vec![row.id])
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    case_view::record_opening(&state, &v, &row).await?;
    Ok(Json(case_dto(&row, &case)))
}

#[derive(Debug, Deserialize)]
struct ReportQuery {
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    team: Option<String>,
}

/// `GET /api/v1/reports?period=2026-03&team=…`: aggregates only (no case content), so an admin
/// may read them for the whole organisation.
async fn reports(
    State(state): State<AppState>,
    ApiViewer(v): ApiViewer,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Json<ReportView>, AppError> {
    let Query(q) = query.map_err(|_| AppError::BadRequest)?;
    let (period, team) = figures::parse_params(q.period.as_deref(), q.team.as_deref())
        .map_err(|bad| AppError::InvalidField { field: bad.field() })?;
    Ok(Json(
        figures::load_report(&state, &v, period, team.as_ref()).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_describes_every_route() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).expect("valid JSON");
        assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3."));
        let paths = doc["paths"].as_object().expect("paths");
        for path in [
            "/api/v1/me",
            "/api/v1/teams",
            "/api/v1/overview",
            "/api/v1/teams/{id}/overview",
            "/api/v1/cases",
            "/api/v1/cases/{id}",
            "/api/v1/reports",
            "/api/v1/enrol",
            "/api/v1/token/challenge",
            "/api/v1/token",
        ] {
            assert!(paths.contains_key(path), "{path} is documented");
        }
        assert!(doc["components"]["schemas"]["Error"].is_object());
    }
}
