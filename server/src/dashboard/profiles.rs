//! PRW profiles for matching (`GET/POST /prws/{id}/profile`): interests, background, birth year
//! and the most cases at once, edited by the PRW's coordinators. Profile contents are never
//! logged.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use maud::{Markup, html};
use peerlog_core::ids::UserId;
use serde::Deserialize;

use super::forms::{FieldProblem, join_tags, parse_birth_year, parse_max_cases, parse_tags};
use super::i18n::{Lang, texts};
use super::layout::{csrf_field, page};
use super::scope::Scope;
use super::session::{NotAllowed, Viewer};
use crate::clock::now_ms;
use crate::db::DbError;
use crate::db::identity::User;
use crate::db::profiles::{self, Profile};
use crate::state::AppState;
use crate::sync::ports::Role;
use crate::web::error::AppError;

texts! {
    profile: "Profile", "Profil";
    no_profile: "No profile yet.", "Ingen profil ennå.";
    interests: "Interests", "Interesser";
    background: "Background (lived experience)", "Bakgrunn (egenerfaring)";
    birth_year: "Birth year", "Fødselsår";
    max_cases: "Most cases at once", "Flest saker samtidig";
    back: "Back to people and devices", "Tilbake til personer og enheter";
    profile_for: "Profile for matching:", "Profil for matching:";
    profile_help: "Separate tags with commas. At most 20 tags of at most 40 characters each. Leave a field empty if unknown.", "Skill ordene med komma. Høyst 20 ord på høyst 40 tegn hver. La feltet stå tomt hvis det er ukjent.";
    save: "Save profile", "Lagre profilen";
    not_saved: "Nothing was saved. Please correct:", "Ingenting ble lagret. Rett opp dette:";
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/prws/{id}/profile", get(profile_form).post(save_profile))
}

/// Reads the profiles of some users.
pub(super) async fn load_profiles(
    state: &AppState,
    users: Vec<UserId>,
) -> Result<HashMap<UserId, Profile>, NotAllowed> {
    let db = state.db.clone();
    let found = tokio::task::spawn_blocking(move || {
        db.read(|tx| {
            users
                .into_iter()
                .map(|u| profiles::get(tx, &u).map(|p| (u, p)))
                .collect::<Result<HashMap<_, _>, DbError>>()
        })
    })
    .await
    .map_err(|e| AppError::internal("reading profiles", e))??;
    Ok(found)
}

/// A profile in one line.
pub(super) fn profile_summary(lang: Lang, profile: &Profile) -> Markup {
    let t = t(lang);
    if *profile == Profile::default() {
        return html! { span.muted { (t.no_profile) } };
    }
    html! {
        @if !profile.interests.is_empty() {
            div { (t.interests) ": " span.tags { @for i in &profile.interests { span { (i) } } } }
        }
        @if !profile.background.is_empty() {
            div { (t.background) ": " span.tags { @for b in &profile.background { span { (b) } } } }
        }
        @if let Some(y) = profile.birth_year { div { (t.birth_year) ": " (y) } }
        @if let Some(m) = profile.max_cases { div { (t.max_cases) ": " (m) } }
    }
}

#[derive(Default, Deserialize)]
struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    interests: String,
    #[serde(default)]
    background: String,
    #[serde(default)]
    birth_year: String,
    #[serde(default)]
    max_cases: String,
}

/// The PRW a coordinator may edit (admins do not edit profiles).
async fn editable_prw(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
) -> Result<(Scope, User), NotAllowed> {
    if viewer.role != Role::Coordinator {
        return Err(NotAllowed::Forbidden);
    }
    let scope = Scope::load(state, viewer).await?;
    let prw = scope.prw(id).ok_or(NotAllowed::Forbidden)?.clone();
    Ok((scope, prw))
}

fn profile_page(
    viewer: &Viewer,
    prw: &User,
    form: &ProfileForm,
    errors: &[(&'static str, FieldProblem)],
) -> Markup {
    let lang = viewer.lang;
    let t = t(lang);
    let body = html! {
        h1 { (t.profile_for) " " (prw.name) }
        @if !errors.is_empty() {
            div.error #profile-errors role="alert" {
                p { (t.not_saved) }
                ul { @for (field, problem) in errors { li { (field) " " (problem.message(lang)) } } }
            }
        }
        form.card #profile method="post" action=(format!("/prws/{}/profile", prw.id)) {
            (csrf_field(&viewer.csrf))
            p.muted { (t.profile_help) }
            label for="interests" { (t.interests) }
            input #interests type="text" name="interests" value=(form.interests);
            label for="background" { (t.background) }
            input #background type="text" name="background" value=(form.background);
            label for="birth_year" { (t.birth_year) }
            input #birth_year type="text" inputmode="numeric" name="birth_year" value=(form.birth_year);
            label for="max_cases" { (t.max_cases) }
            input #max_cases type="text" inputmode="numeric" name="max_cases" value=(form.max_cases);
            p { button #save-profile type="submit" { (t.save) } }
        }
        p { a href="/people" { (t.back) } }
    };
    page(lang, Some(viewer), t.profile, false, body)
}

async fn profile_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Markup, NotAllowed> {
    let (_, prw) = editable_prw(&state, &viewer, &id).await?;
    let profile = load_profiles(&state, vec![prw.id.clone()])
        .await?
        .remove(&prw.id)
        .unwrap_or_default();
    let form = ProfileForm {
        csrf: String::new(),
        interests: join_tags(&profile.interests),
        background: join_tags(&profile.background),
        birth_year: profile
            .birth_year
            .map(|y| y.to_string())
            .unwrap_or_default(),
        max_cases: profile.max_cases.map(|m| m.to_string()).unwrap_or_default(),
    };
    Ok(profile_page(&viewer, &prw, &form, &[]))
}

async fn save_profile(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<ProfileForm>,
) -> Result<Response, NotAllowed> {
    viewer.check_csrf(&form.csrf)?;
    let (scope, prw) = editable_prw(&state, &viewer, &id).await?;
    let t = t(viewer.lang);
    let mut errors = Vec::new();
    let interests = parse_tags(&form.interests).map_err(|p| errors.push((t.interests, p)));
    let background = parse_tags(&form.background).map_err(|p| errors.push((t.background, p)));
    let birth_year =
        parse_birth_year(&form.birth_year, scope.now).map_err(|p| errors.push((t.birth_year, p)));
    let max_cases = parse_max_cases(&form.max_cases).map_err(|p| errors.push((t.max_cases, p)));
    let (Ok(interests), Ok(background), Ok(birth_year), Ok(max_cases)) =
        (interests, background, birth_year, max_cases)
    else {
        return Ok((
            StatusCode::BAD_REQUEST,
            profile_page(&viewer, &prw, &form, &errors),
        )
            .into_response());
    };
    let profile = Profile {
        interests,
        background,
        birth_year,
        max_cases,
    };
    let db = state.db.clone();
    let user = prw.id.clone();
    let now = now_ms();
    tokio::task::spawn_blocking(move || db.write(|tx| profiles::set(tx, &user, &profile, now)))
        .await
        .map_err(|e| AppError::internal("saving a profile", e))??;
    tracing::info!(prw = %prw.id, by = %viewer.user, "profile updated in the dashboard");
    Ok(Redirect::to("/people").into_response())
}
