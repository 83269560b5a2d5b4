//! A coordinator's decisions on an open case, the two forms on the case page:
//! `POST /cases/{id}/reassign` (to another PRW of the case's team) and `POST /cases/{id}/close`
//! (with a reason), both through `casework`, then `watch::on_change` so access and documents
//! follow at once. Only coordinators decide cases; an admin gets the same answer as for a missing
//! page. Reasons never reach the log.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use maud::html;
use peerlog_core::model::CaseStatus;
use serde::Deserialize;

use super::i18n::texts;
use super::layout::bad_request;
use super::layout::{csrf_field, page};
use super::scope::coordinator_scope;
use super::session::{NotAllowed, Viewer};
use crate::cases::casework::{self, CaseworkError};
use crate::clock::now_ms;
use crate::db::cases::CaseRow;
use crate::state::AppState;
use crate::web::error::AppError;

texts! {
    not_in_team: "The chosen PRW is not a member of the case's team.", "Den valgte erfaringskonsulenten er ikke med i sakens team.";
    case: "Case", "Sak";
    case_closed: "The case is closed.", "Saken er avsluttet.";
    reason_bad: "A reason is required: 1 to 80 characters, without line breaks.", "En grunn må oppgis: 1 til 80 tegn, uten linjeskift.";
    close_reason: "Reason (required, no personal details)", "Grunn (påkrevd, ingen personopplysninger)";
    close: "Close the case", "Avslutt saken";
    back: "Back to the case", "Tilbake til saken";
    not_changed: "Nothing was changed.", "Ingenting ble endret.";
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/reassign", post(reassign))
        .route("/cases/{id}/close", post(close))
}

#[derive(Deserialize)]
struct ReassignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    prw: String,
}

#[derive(Deserialize)]
struct CloseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// A refused case decision: the message, the close form again when that was the question, and
/// the way back.
fn decision_page(viewer: &Viewer, row: &CaseRow, message: &str, close_form: bool) -> Response {
    let lang = viewer.lang;
    let t = t(lang);
    let body = html! {
        h1 { (t.case) }
        div.error #form-error role="alert" { p { (message) " " (t.not_changed) } }
        @if close_form {
            form.card method="post" action=(format!("/cases/{}/close", row.id)) {
                (csrf_field(&viewer.csrf))
                label for="reason" { (t.close_reason) }
                input #reason type="text" name="reason" maxlength="80" required;
                " " button.secondary type="submit" { (t.close) }
            }
        }
        p { a href=(format!("/cases/{}", row.id)) { (t.back) } }
    };
    bad_request(page(lang, Some(viewer), t.case, false, body))
}

async fn reassign(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ReassignForm>,
) -> Result<Response, NotAllowed> {
    viewer.check_csrf(&form.csrf)?;
    let scope = coordinator_scope(&state, &viewer).await?;
    let row = scope.case(&id).ok_or(NotAllowed::Forbidden)?.clone();
    let t = t(viewer.lang);
    if row.status == CaseStatus::Closed {
        return Ok(decision_page(&viewer, &row, t.case_closed, false));
    }
    let prw = scope
        .prw(form.prw.trim())
        .ok_or(NotAllowed::Forbidden)?
        .clone();
    if !prw.teams.contains(&row.team) {
        return Ok(decision_page(&viewer, &row, t.not_in_team, false));
    }
    if prw.id == row.prw {
        return Ok(Redirect::to(&format!("/cases/{}", row.id)).into_response());
    }
    let db = state.db.clone();
    let now = now_ms();
    let case = row.id;
    let target = prw.id.clone();
    let done = tokio::task::spawn_blocking(move || {
        casework::reassign_case(&db, &case, target.as_str(), now)
    })
    .await
    .map_err(|e| AppError::internal("reassigning a case", e))?;
    match done {
        Ok(_) => {}
        Err(CaseworkError::NoSuchCase) => return Err(NotAllowed::Forbidden),
        Err(CaseworkError::NoSuchUser | CaseworkError::NotAPrw | CaseworkError::NotInTeam) => {
            return Ok(decision_page(&viewer, &row, t.not_in_team, false));
        }
        Err(e) => return Err(AppError::internal("reassigning a case", e).into()),
    }
    tracing::info!(case = %row.id, prw = %prw.id, by = %viewer.user, "case reassigned from the dashboard");
    crate::cases::watch::on_change(&state)
        .await
        .map_err(|e| AppError::internal("applying a reassignment", e))?;
    Ok(Redirect::to(&format!("/cases/{}", row.id)).into_response())
}

async fn close(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CloseForm>,
) -> Result<Response, NotAllowed> {
    viewer.check_csrf(&form.csrf)?;
    let scope = coordinator_scope(&state, &viewer).await?;
    let row = scope.case(&id).ok_or(NotAllowed::Forbidden)?.clone();
    let t = t(viewer.lang);
    if row.status == CaseStatus::Closed {
        return Ok(decision_page(&viewer, &row, t.case_closed, false));
    }
    // `close_case` checks the reason (the one rule, shared with the CLI): a bad one is a 400.
    let reason = form.reason;
    let db = state.db.clone();
    let now = now_ms();
    let case = row.id;
    let done = tokio::task::spawn_blocking(move || casework::close_case(&db, &case, &reason, now))
        .await
        .map_err(|e| AppError::internal("closing a case", e))?;
    match done {
        Ok(()) => {}
        Err(CaseworkError::NoSuchCase) => return Err(NotAllowed::Forbidden),
        Err(CaseworkError::BadReason) => {
            return Ok(decision_page(&viewer, &row, t.reason_bad, true));
        }
        Err(e) => return Err(AppError::internal("closing a case", e).into()),
    }
    tracing::info!(case = %row.id, by = %viewer.user, "case closed from the dashboard");
    crate::cases::watch::on_change(&state)
        .await
        .map_err(|e| AppError::internal("applying a closing", e))?;
    Ok(Redirect::to(&format!("/cases/{}", row.id)).into_response())
}
