//! PRWs and staff of the viewer's teams: profiles for matching, devices with revoke, enrolment
//! codes (text and QR), and the access log for admins.
//!
//! A coordinator sees and manages the PRWs of their teams; an admin sees every user (and no
//! case). Anything outside the viewer's [`Scope`] answers as if it did not exist. Enrolment codes
//! and profile contents are never logged.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use peerlog_core::ids::{DeviceId, UserId};
use peerlog_core::model::CaseStatus;
use serde::Deserialize;

use super::i18n::{Lang, texts};
use super::layout::{csrf_field, datetime, page};
use super::qr;
use super::scope::Scope;
use super::session::{NotAllowed, Viewer};
use crate::clock::now_ms;
use crate::db::access_log::{self, Entry};
use crate::db::identity::{self, Device, DeviceStatus, User};
use crate::db::profiles::{self, Profile};
use crate::db::{DbError, identity::parse_role};
use crate::web::error::AppError;
use crate::state::AppState;
use crate::sync::ports::Role;

/// Most tags (interests, background) a profile or a new case holds.
pub const TAGS_MAX: usize = 20;
/// Longest tag, in characters.
pub const TAG_MAX_CHARS: usize = 40;
/// Largest caseload a profile may name.
pub const MAX_CASES_LIMIT: u32 = 100;
/// Entries shown on the access log page.
pub const ACCESS_LOG_ROWS: u32 = 200;

texts! {
    title: "People and devices", "Personer og enheter";
    prws: "Peer recovery workers", "Erfaringskonsulenter";
    name: "Name", "Navn";
    role: "Role", "Rolle";
    teams: "Teams", "Team";
    active_cases: "Active cases", "Aktive saker";
    profile: "Profile", "Profil";
    devices: "Devices", "Enheter";
    no_devices: "No device enrolled.", "Ingen enhet registrert.";
    device: "Device", "Enhet";
    status: "Status", "Status";
    enrolled: "Enrolled", "Registrert";
    last_seen: "Last seen", "Sist sett";
    never: "never", "aldri";
    active: "active", "aktiv";
    revoked: "revoked", "tilbakekalt";
    revoke: "Revoke", "Tilbakekall";
    unnamed: "Unnamed device", "Enhet uten navn";
    new_code: "New enrolment code", "Ny registreringskode";
    edit_profile: "Edit profile", "Rediger profil";
    no_prws: "There are no PRWs in your teams yet.", "Det er ingen erfaringskonsulenter i teamene dine ennå.";
    no_users: "No users yet.", "Ingen brukere ennå.";
    no_profile: "No profile yet.", "Ingen profil ennå.";
    interests: "Interests", "Interesser";
    background: "Background (lived experience)", "Bakgrunn (egenerfaring)";
    birth_year: "Birth year", "Fødselsår";
    max_cases: "Most cases at once", "Flest saker samtidig";
    role_prw: "PRW", "Erfaringskonsulent";
    role_coordinator: "Coordinator", "Koordinator";
    role_admin: "Admin", "Administrator";
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
    profile_for: "Profile for matching:", "Profil for matching:";
    profile_help: "Separate tags with commas. At most 20 tags of at most 40 characters each. Leave a field empty if unknown.", "Skill ordene med komma. Høyst 20 ord på høyst 40 tegn hver. La feltet stå tomt hvis det er ukjent.";
    save: "Save profile", "Lagre profilen";
    err_too_many: "has more than 20 tags", "har flere enn 20 ord";
    err_too_long: "has a tag longer than 40 characters", "har et ord som er lengre enn 40 tegn";
    err_control: "contains characters that are not allowed", "inneholder tegn som ikke er tillatt";
    err_year: "must be empty or a year from 1900 to this year", "må være tomt eller et år fra 1900 til i år";
    err_max_cases: "must be empty or a whole number from 0 to 100", "må være tomt eller et heltall fra 0 til 100";
    not_saved: "Nothing was saved. Please correct:", "Ingenting ble lagret. Rett opp dette:";
    log_title: "Access log", "Tilgangslogg";
    log_explain: "The latest 200 entries, newest first. The log never holds case content.", "De siste 200 oppføringene, nyeste først. Loggen inneholder aldri saksinnhold.";
    time: "Time", "Tid";
    user: "User", "Bruker";
    case: "Case", "Sak";
    action: "Action", "Handling";
    admin_cli: "Relay administration", "Relé-administrasjon";
    act_sync_write: "Device stored changes", "Enheten lagret endringer";
    act_read: "Coordinator device received the case", "Koordinatorens enhet mottok saken";
    act_erase: "Case erased", "Saken slettet";
    act_open: "Opened in the dashboard", "Åpnet i dashbordet";
    log_empty: "The log is empty.", "Loggen er tom.";
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/people", get(list))
        .route("/users/{id}/enrolment-code", post(enrolment_code))
        .route("/devices/{id}/revoke", post(revoke))
        .route("/prws/{id}/profile", get(profile_form).post(save_profile))
        .route("/access-log", get(access_log_page))
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

// ---- shared input parsing (also used by `intake`) ----------------------------------------------

/// Why a typed field was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblem {
    TooManyTags,
    TagTooLong,
    ControlCharacters,
    BadYear,
    BadMaxCases,
}

impl FieldProblem {
    /// The problem in words (after the field's label).
    pub fn message(self, lang: Lang) -> &'static str {
        let t = t(lang);
        match self {
            FieldProblem::TooManyTags => t.err_too_many,
            FieldProblem::TagTooLong => t.err_too_long,
            FieldProblem::ControlCharacters => t.err_control,
            FieldProblem::BadYear => t.err_year,
            FieldProblem::BadMaxCases => t.err_max_cases,
        }
    }
}

/// Comma-separated tags: trimmed, empty ones dropped, duplicates dropped, at most [`TAGS_MAX`]
/// of at most [`TAG_MAX_CHARS`] characters each.
pub fn parse_tags(input: &str) -> Result<Vec<String>, FieldProblem> {
    let mut out: Vec<String> = Vec::new();
    for tag in input.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if tag.chars().any(char::is_control) {
            return Err(FieldProblem::ControlCharacters);
        }
        if tag.chars().count() > TAG_MAX_CHARS {
            return Err(FieldProblem::TagTooLong);
        }
        if !out.iter().any(|t| t == tag) {
            out.push(tag.to_owned());
        }
    }
    if out.len() > TAGS_MAX {
        return Err(FieldProblem::TooManyTags);
    }
    Ok(out)
}

/// The current year in the organisation's time zone.
pub fn current_year(now: i64, tz: &jiff::tz::TimeZone) -> i32 {
    jiff::Timestamp::from_millisecond(now)
        .map(|ts| i32::from(ts.to_zoned_datetime(tz.clone()).year()))
        .unwrap_or(i32::from(i16::MAX))
}

/// An optional birth year: empty, or 1900 to `this_year`.
pub fn parse_birth_year(input: &str, this_year: i32) -> Result<Option<i32>, FieldProblem> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    match input.parse::<i32>() {
        Ok(year) if (1900..=this_year).contains(&year) => Ok(Some(year)),
        _ => Err(FieldProblem::BadYear),
    }
}

/// An optional caseload limit: empty, or 0 to [`MAX_CASES_LIMIT`].
pub fn parse_max_cases(input: &str) -> Result<Option<u32>, FieldProblem> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    match input.parse::<u32>() {
        Ok(n) if n <= MAX_CASES_LIMIT => Ok(Some(n)),
        _ => Err(FieldProblem::BadMaxCases),
    }
}

/// Tags as typed back into a text field.
pub fn join_tags(tags: &[String]) -> String {
    tags.join(", ")
}

// ---- small helpers ------------------------------------------------------------------------------

fn role_name(lang: Lang, role: Role) -> &'static str {
    let t = t(lang);
    match role {
        Role::Prw => t.role_prw,
        Role::Coordinator => t.role_coordinator,
        Role::Admin => t.role_admin,
    }
}

/// The users a viewer may manage (issue codes for, revoke devices of): a coordinator the PRWs of
/// their teams, an admin everyone.
fn manageable<'a>(scope: &'a Scope, viewer: &Viewer, id: &str) -> Option<&'a User> {
    if viewer.is_admin() {
        scope
            .prws
            .iter()
            .chain(&scope.staff)
            .find(|u| u.id.as_str() == id)
    } else if viewer.role == Role::Coordinator {
        scope.prw(id)
    } else {
        None
    }
}

/// Reads the profiles of some users.
async fn load_profiles(
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
fn profile_summary(lang: Lang, profile: &Profile) -> Markup {
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

fn devices_cell(lang: Lang, viewer: &Viewer, scope: &Scope, devices: &[&Device]) -> Markup {
    let t = t(lang);
    let tz = scope.settings.time_zone();
    html! {
        @if devices.is_empty() { span.muted { (t.no_devices) } }
        @else {
            table.devices {
                thead { tr {
                    th { (t.device) } th { (t.status) } th { (t.enrolled) } th { (t.last_seen) } th {}
                } }
                tbody {
                    @for d in devices {
                        tr id=(format!("device-{}", d.id)) {
                            td { (d.name.as_deref().unwrap_or(t.unnamed)) }
                            td {
                                @match d.status {
                                    DeviceStatus::Active => span.ok { (t.active) },
                                    DeviceStatus::Revoked => span.muted { (t.revoked) },
                                }
                            }
                            td { (datetime(d.enrolled_at, tz)) }
                            td { (d.last_seen.map_or_else(|| t.never.to_owned(), |s| datetime(s, tz))) }
                            td {
                                @if d.status == DeviceStatus::Active {
                                    form.inline method="post" action=(format!("/devices/{}/revoke", d.id)) {
                                        (csrf_field(&viewer.csrf))
                                        button.secondary id=(format!("revoke-{}", d.id)) type="submit" { (t.revoke) }
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

fn code_form(lang: Lang, viewer: &Viewer, user: &UserId) -> Markup {
    html! {
        form.inline method="post" action=(format!("/users/{user}/enrolment-code")) {
            (csrf_field(&viewer.csrf))
            button id=(format!("code-{user}")) type="submit" { (t(lang).new_code) }
        }
    }
}

// ---- GET /people --------------------------------------------------------------------------------

async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Markup, NotAllowed> {
    let scope = Scope::load(&state, &viewer).await?;
    let lang = viewer.lang;
    let t = t(lang);
    let team_names = |u: &User| {
        u.teams
            .iter()
            .filter_map(|id| scope.teams.iter().find(|t| &t.id == id))
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let devices_of = |u: &User| {
        scope
            .devices
            .iter()
            .filter(|d| d.user == u.id)
            .collect::<Vec<_>>()
    };
    let body = if viewer.is_admin() {
        let users: Vec<&User> = scope.prws.iter().chain(&scope.staff).collect();
        html! {
            h1 { (t.title) }
            @if users.is_empty() { p { (t.no_users) } }
            @else {
                table #people {
                    thead { tr {
                        th { (t.name) } th { (t.role) } th { (t.teams) } th { (t.devices) } th {}
                    } }
                    tbody {
                        @for u in &users {
                            tr id=(format!("user-{}", u.id)) {
                                td { (u.name) }
                                td { (role_name(lang, u.role)) }
                                td { (team_names(u)) }
                                td { (devices_cell(lang, &viewer, &scope, &devices_of(u))) }
                                td { (code_form(lang, &viewer, &u.id)) }
                            }
                        }
                    }
                }
            }
        }
    } else {
        let profiles =
            load_profiles(&state, scope.prws.iter().map(|p| p.id.clone()).collect()).await?;
        html! {
            h1 { (t.title) }
            h2 { (t.prws) }
            @if scope.prws.is_empty() { p { (t.no_prws) } }
            @else {
                table #people {
                    thead { tr {
                        th { (t.name) } th { (t.teams) } th.num { (t.active_cases) }
                        th { (t.profile) } th { (t.devices) } th {}
                    } }
                    tbody {
                        @for p in &scope.prws {
                            @let active = scope.cases.iter().filter(|c| c.prw == p.id && c.status == CaseStatus::Active).count();
                            tr id=(format!("user-{}", p.id)) {
                                td { (p.name) }
                                td { (team_names(p)) }
                                td.num { (active) }
                                td {
                                    (profiles.get(&p.id).map_or_else(|| html! {}, |pr| profile_summary(lang, pr)))
                                    div { a id=(format!("profile-{}", p.id)) href=(format!("/prws/{}/profile", p.id)) { (t.edit_profile) } }
                                }
                                td { (devices_cell(lang, &viewer, &scope, &devices_of(p))) }
                                td { (code_form(lang, &viewer, &p.id)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(lang, Some(&viewer), t.title, false, body))
}

// ---- POST /users/{id}/enrolment-code ------------------------------------------------------------

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
        crate::serve::issue_enrolment_code(&db, user_id.as_str(), now, ttl)
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

// ---- POST /devices/{id}/revoke ------------------------------------------------------------------

async fn revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, NotAllowed> {
    viewer.check_csrf(&form.csrf)?;
    let scope = Scope::load(&state, &viewer).await?;
    let device = scope
        .devices
        .iter()
        .find(|d| d.id.as_str() == id)
        .ok_or(NotAllowed::Forbidden)?;
    manageable(&scope, &viewer, device.user.as_str()).ok_or(NotAllowed::Forbidden)?;
    let device_id: DeviceId = device.id.clone();
    let db = state.db.clone();
    let now = now_ms();
    let target = device_id.clone();
    tokio::task::spawn_blocking(move || db.write(|tx| identity::revoke_device(tx, &target, now)))
        .await
        .map_err(|e| AppError::internal("revoking a device", e))??;
    tracing::info!(device = %device_id, by = %viewer.user, "device revoked in the dashboard");
    state.engine.disconnect_device(&device_id);
    crate::cases::watch::on_change(&state)
        .await
        .map_err(|e| AppError::internal("applying a device revocation", e))?;
    Ok(Redirect::to("/people").into_response())
}

// ---- GET/POST /prws/{id}/profile ----------------------------------------------------------------

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
    let this_year = current_year(scope.now, scope.settings.time_zone());
    let mut errors = Vec::new();
    let interests = parse_tags(&form.interests).map_err(|p| errors.push((t.interests, p)));
    let background = parse_tags(&form.background).map_err(|p| errors.push((t.background, p)));
    let birth_year =
        parse_birth_year(&form.birth_year, this_year).map_err(|p| errors.push((t.birth_year, p)));
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

// ---- GET /access-log ----------------------------------------------------------------------------

fn action_name(lang: Lang, code: &str) -> Option<&'static str> {
    let t = t(lang);
    Some(match code {
        "sync-write" => t.act_sync_write,
        "read" => t.act_read,
        "erase" => t.act_erase,
        "open" => t.act_open,
        _ => return None,
    })
}

async fn access_log_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Markup, NotAllowed> {
    if !viewer.is_admin() {
        return Err(NotAllowed::Forbidden);
    }
    let scope = Scope::load(&state, &viewer).await?;
    let db = state.db.clone();
    let entries: Vec<Entry> =
        tokio::task::spawn_blocking(move || db.read(|tx| access_log::recent(tx, ACCESS_LOG_ROWS)))
            .await
            .map_err(|e| AppError::internal("reading the access log", e))??;
    let lang = viewer.lang;
    let t = t(lang);
    let tz = scope.settings.time_zone();
    let user_name = |id: &str| -> String {
        scope
            .prws
            .iter()
            .chain(&scope.staff)
            .find(|u| u.id.as_str() == id)
            .map_or_else(|| id.to_owned(), |u| u.name.clone())
    };
    let device_name = |id: &str| -> String {
        scope
            .devices
            .iter()
            .find(|d| d.id.as_str() == id)
            .and_then(|d| d.name.clone())
            .map_or_else(|| id.to_owned(), |name| format!("{name} ({id})"))
    };
    let body = html! {
        h1 { (t.log_title) }
        p.muted { (t.log_explain) }
        @if entries.is_empty() { p { (t.log_empty) } }
        @else {
            table #access-log {
                thead { tr {
                    th { (t.time) } th { (t.user) } th { (t.role) } th { (t.device) }
                    th { (t.case) } th { (t.action) }
                } }
                tbody {
                    @for e in &entries {
                        tr {
                            td { (datetime(e.at, tz)) }
                            td { (e.user_id.as_deref().map_or_else(|| t.admin_cli.to_owned(), user_name)) }
                            td {
                                (e.role.as_deref().map_or_else(String::new, |r| {
                                    parse_role(r).map_or_else(|| r.to_owned(), |role| role_name(lang, role).to_owned())
                                }))
                            }
                            td { (e.device_id.as_deref().map_or_else(|| "–".to_owned(), device_name)) }
                            td { code { (e.case_id.as_deref().unwrap_or("–")) } }
                            td { (action_name(lang, &e.action).unwrap_or(&e.action)) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(lang, Some(&viewer), t.log_title, false, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_deduplicated_and_limited() {
        assert_eq!(
            parse_tags(" fishing, music ,, fishing,"),
            Ok(vec!["fishing".to_owned(), "music".to_owned()])
        );
        assert_eq!(parse_tags("   "), Ok(vec![]));
        let many = (0..21)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(parse_tags(&many), Err(FieldProblem::TooManyTags));
        let twenty = (0..20)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(parse_tags(&twenty).map(|t| t.len()), Ok(20));
        assert_eq!(parse_tags(&"x".repeat(41)), Err(FieldProblem::TagTooLong));
        assert_eq!(parse_tags(&"ø".repeat(40)).map(|t| t.len()), Ok(1));
        assert_eq!(parse_tags("a\u{7}b"), Err(FieldProblem::ControlCharacters));
    }

    #[test]
    fn years_and_caseloads_are_optional_and_bounded() {
        assert_eq!(parse_birth_year("", 2026), Ok(None));
        assert_eq!(parse_birth_year(" 1984 ", 2026), Ok(Some(1984)));
        assert_eq!(parse_birth_year("1900", 2026), Ok(Some(1900)));
        assert_eq!(parse_birth_year("2026", 2026), Ok(Some(2026)));
        for bad in ["1899", "2027", "nineteen", "19.5", "-1"] {
            assert_eq!(
                parse_birth_year(bad, 2026),
                Err(FieldProblem::BadYear),
                "{bad}"
            );
        }
        assert_eq!(parse_max_cases(""), Ok(None));
        assert_eq!(parse_max_cases("0"), Ok(Some(0)));
        assert_eq!(parse_max_cases("100"), Ok(Some(100)));
        for bad in ["101", "-1", "six"] {
            assert_eq!(
                parse_max_cases(bad),
                Err(FieldProblem::BadMaxCases),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_problem_has_a_message_in_both_languages() {
        for lang in Lang::ALL {
            for p in [
                FieldProblem::TooManyTags,
                FieldProblem::TagTooLong,
                FieldProblem::ControlCharacters,
                FieldProblem::BadYear,
                FieldProblem::BadMaxCases,
            ] {
                assert!(!p.message(lang).is_empty());
            }
            assert!(action_name(lang, "open").is_some());
            assert!(action_name(lang, "unknown").is_none());
        }
    }
}
