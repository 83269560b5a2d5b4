//! `POST /users/{id}/enrolment-code`: a one-time enrolment code for a person the viewer manages,
//! shown as text and QR code with the steps for a PRW's phone or a staff member's dashboard
//! set-up. Codes are never logged.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use maud::{Markup, html};
use peerlog_core::ids::UserId;

use super::forms::CsrfForm;
use super::i18n::{Lang, texts};
use super::layout::{csrf_field, datetime, page};
use super::qr;
use super::scope::Scope;
use super::scope::manageable;
use super::session::{NotAllowed, Viewer};
use crate::clock::now_ms;
use crate::state::AppState;
use crate::sync::ports::Role;
use crate::web::error::AppError;

texts! {
    new_code: "New enrolment code", "Ny registreringskode";
    code_title: "Enrolment code", "Registreringskode";
    code_for: "Enrolment code for", "Registreringskode for";
    valid_until: "Valid until", "Gyldig til";
    code_once: "The code works once. Issuing a new one does not cancel this one; it expires by itself.", "Koden virker én gang. En ny kode opphever ikke denne; den utløper av seg selv.";
    prw_step1: "Open the Peerlog app on the new phone.", "Åpne Peerlog-appen på den nye telefonen.";
    prw_step2: "Choose Enrol.", "Velg Registrer.";
    prw_step3: "Scan the QR code, or type the code.", "Skann QR-koden, eller skriv inn koden.";
    staff_step1: "Go to the dashboard's set-up page:", "Gå til dashbordets oppsettside:";
    staff_step2: "Type your user name, this code and a new password.", "Skriv inn brukernavnet ditt, denne koden og et nytt passord.";
    qr_label: "QR code of the enrolment code", "QR-kode for registreringskoden";
    back: "Back to people and devices", "Tilbake til personer og enheter";
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/users/{id}/enrolment-code", post(enrolment_code))
}

pub(super) fn code_form(lang: Lang, viewer: &Viewer, user: &UserId) -> Markup {
    html! {
        form.inline method="post" action=(format!("/users/{user}/enrolment-code")) {
            (csrf_field(&viewer.csrf))
            button id=(format!("code-{user}")) type="submit" { (t(lang).new_code) }
        }
    }
}

async fn enrolment_code(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, NotAllowed> {
    viewer.check_csrf(&form.csrf)?;
    let scope = Scope::load(&state, &viewer).await?;
    let user = manageable(&scope, &viewer, &id)
        .ok_or(NotAllowed::Forbidden)?
        .clone();
    let db = state.db.clone();
    let ttl = state.config.enrolment_code_ttl_ms();
    let now = now_ms();
    let user_id = user.id.clone();
    let issued = tokio::task::spawn_blocking(move || {
        crate::auth::service::issue_enrolment_code(&db, user_id.as_str(), now, ttl)
    })
    .await
    .map_err(|e| AppError::internal("issuing an enrolment code", e))?
    .map_err(|e| AppError::internal("issuing an enrolment code", e))?;
    let Some((code, expires)) = issued else {
        return Err(NotAllowed::Forbidden);
    };
    tracing::info!(user = %user.id, by = %viewer.user, "enrolment code issued in the dashboard");
    let lang = viewer.lang;
    let t = t(lang);
    let tz = scope.settings.time_zone();
    let body = html! {
        h1 { (t.code_for) " " (user.name) }
        div.card {
            p #enrolment-code.code { (code) }
            p { (t.valid_until) " " span #code-expires { (datetime(expires, tz)) } }
            (qr::svg(&code, t.qr_label))
            @if user.role == Role::Prw {
                ol #code-steps {
                    li { (t.prw_step1) }
                    li { (t.prw_step2) }
                    li { (t.prw_step3) }
                }
            } @else {
                ol #code-steps {
                    li { (t.staff_step1) " " code { "/setup" } }
                    li { (t.staff_step2) }
                }
            }
            p.muted { (t.code_once) }
        }
        p { a href="/people" { (t.back) } }
    };
    let markup = page(lang, Some(&viewer), t.code_title, false, body);
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        markup,
    )
        .into_response())
}
