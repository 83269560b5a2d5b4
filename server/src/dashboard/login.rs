//! Signing in and out of the dashboard, and first-time set-up (the account page, with TOTP set-up,
//! is `account.rs`; its strings live here with the rest of the sign-in texts).
//!
//! - `/setup`: a coordinator or admin redeems a one-time code (the first admin's is printed at
//!   first start; others come from an admin) and chooses a password (Argon2id).
//! - `/login`: name and password; failures are rate-limited per address and per (address,
//!   account), so an attacker slows only themselves, and logged without the name typed.
//!   A user with TOTP continues at `/login/totp`; an admin without TOTP must set it up first
//!   (`/account/totp`).

use std::time::Instant;

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::i18n::{Lang, texts};
use super::layout::{csrf_field, page};
use super::session::{self, NotAllowed};
use crate::auth::extract::ClientIp;
use crate::auth::{crypto, password, secrets, totp};
use crate::clock::now_ms;
use crate::db::logins::{self, Stage};
use crate::db::{DbError, identity};
use crate::state::AppState;
use crate::sync::ports::Role;
use crate::web::error::AppError;
use crate::web::metrics::AuthFailure;

texts! {
    sign_in: "Sign in", "Logg inn";
    name: "User name", "Brukernavn";
    password: "Password", "Passord";
    new_password: "New password (at least 12 characters)", "Nytt passord (minst 12 tegn)";
    repeat_password: "Repeat the password", "Gjenta passordet";
    current_password: "Current password", "Nåværende passord";
    wrong: "Wrong user name or password.", "Feil brukernavn eller passord.";
    slow_down: "Too many failed attempts from here. Wait a minute and try again.", "For mange mislykkede forsøk herfra. Vent et minutt og prøv igjen.";
    first_time: "First time here? Set up your account with the one-time code you were given.", "Første gang? Sett opp kontoen din med engangskoden du har fått.";
    setup: "Set up your account", "Sett opp kontoen din";
    setup_code: "One-time code", "Engangskode";
    setup_done: "Your password is set. Sign in.", "Passordet er satt. Logg inn.";
    bad_code: "The code is unknown, expired or used, or does not belong to this user.", "Koden er ukjent, utløpt eller brukt, eller hører ikke til denne brukeren.";
    too_short: "The password must be at least 12 characters.", "Passordet må ha minst 12 tegn.";
    too_long: "The password is too long.", "Passordet er for langt.";
    same_as_login: "The password must not be the user name.", "Passordet kan ikke være brukernavnet.";
    mismatch: "The two passwords differ.", "De to passordene er ulike.";
    second_factor: "Code from your authenticator app", "Kode fra autentiseringsappen";
    wrong_code: "The code is wrong or was already used. Wait for the next one.", "Koden er feil eller allerede brukt. Vent på neste.";
    confirm: "Confirm", "Bekreft";
    totp_title: "Two-step sign-in", "Totrinnspålogging";
    totp_required: "Administrators must use two-step sign-in. Scan the code with an authenticator app, then enter the code it shows.", "Administratorer må bruke totrinnspålogging. Skann koden med en autentiseringsapp og skriv inn koden den viser.";
    totp_explain: "Scan the code with an authenticator app (or type the key), then enter the code it shows.", "Skann koden med en autentiseringsapp (eller skriv inn nøkkelen), og skriv inn koden den viser.";
    totp_key: "Key", "Nøkkel";
    totp_on: "Two-step sign-in is on.", "Totrinnspålogging er på.";
    totp_off: "Two-step sign-in is off.", "Totrinnspålogging er av.";
    totp_enable: "Turn on two-step sign-in", "Slå på totrinnspålogging";
    totp_disable: "Turn off two-step sign-in", "Slå av totrinnspålogging";
    language: "Language", "Språk";
    save: "Save", "Lagre";
    change_password: "Change password", "Bytt passord";
    password_changed: "Password changed. Other sessions were signed out.", "Passordet er byttet. Andre økter er logget ut.";
    account: "Account", "Konto";
    role_coordinator: "Coordinator", "Koordinator";
    role_admin: "Administrator", "Administrator";
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CodeForm {
    #[serde(default)]
    pub(crate) csrf: String,
    #[serde(default)]
    pub(crate) code: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SetupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

pub(crate) fn browser_lang(headers: &HeaderMap) -> Lang {
    Lang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// A page before sign-in, with the form-token cookie when the browser has none yet.
fn public_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    render: impl FnOnce(Lang, &str) -> Markup,
) -> Response {
    let lang = browser_lang(headers);
    match session::form_token(state, headers) {
        Ok((token, cookie)) => {
            let mut response = (status, render(lang, &token)).into_response();
            if let Some(cookie) = cookie {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(e) => e.into_response(),
    }
}

fn login_page(lang: Lang, token: &str, message: Option<&str>) -> Markup {
    let t = t(lang);
    page(
        lang,
        None,
        t.sign_in,
        false,
        html! {
            h1 { (t.sign_in) }
            @if let Some(m) = message { p.error role="alert" { (m) } }
            form.card method="post" action="/login" {
                input type="hidden" name="csrf" value=(token);
                label for="name" { (t.name) }
                input #name type="text" name="name" autocomplete="username" required autofocus;
                label for="password" { (t.password) }
                input #password type="password" name="password" autocomplete="current-password" required;
                p { button type="submit" { (t.sign_in) } }
            }
            p.muted { a href="/setup" { (t.first_time) } }
        },
    )
}

pub(crate) async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    public_page(&state, &headers, StatusCode::OK, |lang, token| {
        login_page(lang, token, None)
    })
}

pub(crate) async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if let Err(e) = session::check_form_token(&headers, &form.csrf) {
        return e.into_response();
    }
    let name = form.name.trim().to_lowercase();
    let account_key = format!("login:{ip}:{name}");
    let address_key = format!("login-ip:{ip}");
    let now = Instant::now();
    if !state.limiter.allowed(&[&account_key], now)
        || !state.address_limiter.allowed(&[&address_key], now)
    {
        state.metrics.auth_failure(AuthFailure::RateLimited);
        tracing::warn!(ip = %ip, "dashboard sign-in refused: too many failures");
        return public_page(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            |l, token| login_page(l, token, Some(t(l).slow_down)),
        );
    }
    match check_password(&state, &name, form.password).await {
        Ok(Some((user, login))) => {
            let stage = if login.totp_secret.is_some() {
                Stage::SecondFactor
            } else if user.role == Role::Admin {
                Stage::TotpSetup
            } else {
                Stage::Full
            };
            tracing::info!(user = %user.id, "dashboard password accepted");
            let cookie = match session::start(&state, &headers, &user.id, stage, None).await {
                Ok(c) => c,
                Err(e) => return e.into_response(),
            };
            let to = match stage {
                Stage::SecondFactor => "/login/totp",
                Stage::TotpSetup => "/account/totp",
                Stage::Full => "/",
            };
            ([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response()
        }
        Ok(None) => {
            state.limiter.failed(&[&account_key], now);
            state.address_limiter.failed(&[&address_key], now);
            state.metrics.auth_failure(AuthFailure::Login);
            tracing::warn!(ip = %ip, "dashboard sign-in failed");
            public_page(&state, &headers, StatusCode::UNAUTHORIZED, |l, token| {
                login_page(l, token, Some(t(l).wrong))
            })
        }
        Err(e) => e.into_response(),
    }
}

/// The user and login behind a name and password; `None` if either is wrong (the same work is
/// done for unknown names, so timing does not tell which).
pub(crate) async fn check_password(
    state: &AppState,
    name: &str,
    password: String,
) -> Result<Option<(identity::User, logins::Login)>, AppError> {
    let db = state.db.clone();
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || {
        let found = db.read(|tx| {
            let Some(user) = identity::find_user(tx, &name)? else {
                return Ok::<_, DbError>(None);
            };
            let login = logins::get(tx, &user.id)?;
            Ok(Some((user, login)))
        })?;
        let (user, login) = match found {
            Some((user, Some(login)))
                if user.role != Role::Prw && user.name == name && login.password_hash.is_some() =>
            {
                (user, login)
            }
            _ => {
                password::verify(&password, password::decoy_hash());
                return Ok(None);
            }
        };
        let stored = login.password_hash.as_deref().unwrap_or_default();
        Ok(password::verify(&password, stored).then_some((user, login)))
    })
    .await
    .map_err(|e| AppError::internal("checking a password", e))?
}

pub(crate) fn code_page(
    lang: Lang,
    csrf: &str,
    action: &str,
    intro: &str,
    message: Option<&str>,
    extra: Markup,
) -> Markup {
    let t = t(lang);
    page(
        lang,
        None,
        t.totp_title,
        false,
        html! {
            h1 { (t.totp_title) }
            p { (intro) }
            (extra)
            @if let Some(m) = message { p.error role="alert" { (m) } }
            form.card method="post" action=(action) {
                (csrf_field(csrf))
                label for="code" { (t.second_factor) }
                input #code type="text" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required autofocus;
                p { button type="submit" { (t.confirm) } }
            }
        },
    )
}

async fn pending_session(
    state: &AppState,
    headers: &HeaderMap,
    stage: Stage,
) -> Result<([u8; 32], logins::Session), NotAllowed> {
    match session::current(state, headers).await? {
        Some((id, s)) if s.stage == stage => Ok((id, s)),
        Some((_, s)) if s.stage == Stage::Full => Err(NotAllowed::Continue("/")),
        _ => Err(NotAllowed::SignIn),
    }
}

pub(crate) async fn totp_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match pending_session(&state, &headers, Stage::SecondFactor).await {
        Ok((_, s)) => {
            let lang = browser_lang(&headers);
            code_page(
                lang,
                &s.csrf,
                "/login/totp",
                t(lang).totp_title,
                None,
                html! {},
            )
            .into_response()
        }
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn totp_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let (_, pending) = match pending_session(&state, &headers, Stage::SecondFactor).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if !session::same_origin(&headers)
        || !crypto::constant_time_eq(pending.csrf.as_bytes(), form.csrf.as_bytes())
    {
        return NotAllowed::Csrf.into_response();
    }
    let lang = browser_lang(&headers);
    let key = format!("totp:{}", pending.user);
    let now = Instant::now();
    if !state.limiter.allowed(&[&key], now) {
        state.metrics.auth_failure(AuthFailure::RateLimited);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            code_page(
                lang,
                &pending.csrf,
                "/login/totp",
                t(lang).slow_down,
                None,
                html! {},
            ),
        )
            .into_response();
    }
    match accept_totp(&state, &pending.user, &form.code).await {
        Ok(true) => {
            match session::start(&state, &headers, &pending.user, Stage::Full, None).await {
                Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Ok(false) => {
            state.limiter.failed(&[&key], now);
            state.metrics.auth_failure(AuthFailure::SecondFactor);
            tracing::warn!(user = %pending.user, "dashboard second factor failed");
            (
                StatusCode::UNAUTHORIZED,
                code_page(
                    lang,
                    &pending.csrf,
                    "/login/totp",
                    t(lang).totp_title,
                    Some(t(lang).wrong_code),
                    html! {},
                ),
            )
                .into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Checks a code against the user's stored secret and records its step (no replay).
pub(crate) async fn accept_totp(
    state: &AppState,
    user: &peerlog_core::ids::UserId,
    code: &str,
) -> Result<bool, AppError> {
    let db = state.db.clone();
    let user = user.clone();
    let code = code.to_owned();
    let unix = now_ms().div_euclid(1000);
    tokio::task::spawn_blocking(move || {
        db.write(|tx| {
            let Some(login) = logins::get(tx, &user)? else {
                return Ok::<_, DbError>(false);
            };
            let Some(secret) = login.totp_secret else {
                return Ok(false);
            };
            match totp::verify(&secret, &code, unix, login.totp_last_step) {
                Ok(step) => {
                    logins::set_totp_step(tx, &user, step)?;
                    Ok(true)
                }
                Err(_) => Ok(false),
            }
        })
    })
    .await
    .map_err(|e| AppError::internal("checking a second factor", e))?
    .map_err(AppError::from)
}

fn setup_page(lang: Lang, token: &str, message: Option<&str>) -> Markup {
    let t = t(lang);
    page(
        lang,
        None,
        t.setup,
        false,
        html! {
            h1 { (t.setup) }
            @if let Some(m) = message { p.error role="alert" { (m) } }
            form.card method="post" action="/setup" {
                input type="hidden" name="csrf" value=(token);
                label for="name" { (t.name) }
                input #name type="text" name="name" autocomplete="username" required;
                label for="code" { (t.setup_code) }
                input #code type="text" name="code" autocomplete="off" required;
                label for="password" { (t.new_password) }
                input #password type="password" name="password" autocomplete="new-password" required minlength="12";
                label for="repeat" { (t.repeat_password) }
                input #repeat type="password" name="repeat" autocomplete="new-password" required minlength="12";
                p { button type="submit" { (t.setup) } }
            }
        },
    )
}

pub(crate) async fn setup_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    public_page(&state, &headers, StatusCode::OK, |lang, token| {
        setup_page(lang, token, None)
    })
}

pub(crate) fn policy_message(lang: Lang, e: &password::PasswordError) -> &'static str {
    let t = t(lang);
    match e {
        password::PasswordError::TooShort => t.too_short,
        password::PasswordError::TooLong => t.too_long,
        password::PasswordError::SameAsLogin => t.same_as_login,
        _ => t.too_short,
    }
}

pub(crate) async fn setup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Response {
    if let Err(e) = session::check_form_token(&headers, &form.csrf) {
        return e.into_response();
    }
    let lang = browser_lang(&headers);
    let refuse = |status, message: &'static str| {
        public_page(&state, &headers, status, |l, token| {
            setup_page(l, token, Some(message))
        })
    };
    let name = form.name.trim().to_lowercase();
    if form.password != form.repeat {
        return refuse(StatusCode::BAD_REQUEST, t(lang).mismatch);
    }
    if let Err(e) = password::check_policy(&name, &form.password) {
        return refuse(StatusCode::BAD_REQUEST, policy_message(lang, &e));
    }
    let key = format!("setup-ip:{ip}");
    let now = Instant::now();
    if !state.address_limiter.allowed(&[&key], now) {
        return refuse(StatusCode::TOO_MANY_REQUESTS, t(lang).slow_down);
    }
    let Some(code) = secrets::normalise_code(&form.code) else {
        state.address_limiter.failed(&[&key], now);
        return refuse(StatusCode::UNAUTHORIZED, t(lang).bad_code);
    };
    let Ok(Ok(hash)) = tokio::task::spawn_blocking(move || password::hash(&form.password)).await
    else {
        return AppError::internal("hashing a password", password::PasswordError::Hashing)
            .into_response();
    };
    let db = state.db.clone();
    let code_hash = secrets::hash_code(&code);
    let at = now_ms();
    let done = tokio::task::spawn_blocking(move || {
        db.write(|tx| {
            let Some(user) = identity::find_user(tx, &name)? else {
                return Ok::<_, DbError>(false);
            };
            if user.role == Role::Prw || user.name != name {
                return Ok(false);
            }
            // Set-up is for an account without a password. Otherwise anyone holding a code for
            // someone's account (an admin gives codes out) could take it over; a lost password
            // is reset by the operator (`peerlog admin user reset-login`) first.
            if logins::get(tx, &user.id)?.is_some_and(|l| l.password_hash.is_some()) {
                return Ok(false);
            }
            // Redeem only a code of this user: look it up first, then mark it used.
            let owner: Option<String> = tx
                .query_row(
                    "SELECT user_id FROM enrolment_codes WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                    rusqlite::params![&code_hash[..], at],
                    |r| r.get(0),
                )
                .ok();
            if owner.as_deref() != Some(user.id.as_str()) {
                return Ok(false);
            }
            identity::redeem_enrolment_code(tx, &code_hash, at)?;
            logins::set_password(tx, &user.id, &hash, at)?;
            logins::delete_sessions_of(tx, &user.id)?;
            Ok(true)
        })
    })
    .await;
    match done {
        Ok(Ok(true)) => {
            tracing::info!("dashboard account set up");
            public_page(&state, &headers, StatusCode::OK, |l, token| {
                login_page(l, token, Some(t(l).setup_done))
            })
        }
        Ok(Ok(false)) => {
            state.address_limiter.failed(&[&key], now);
            tracing::warn!(ip = %ip, "dashboard set-up refused");
            refuse(StatusCode::UNAUTHORIZED, t(lang).bad_code)
        }
        Ok(Err(e)) => AppError::from(e).into_response(),
        Err(e) => AppError::internal("setting up an account", e).into_response(),
    }
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    if let Ok(Some((_, s))) = session::current(&state, &headers).await
        && (!session::same_origin(&headers)
            || !crypto::constant_time_eq(s.csrf.as_bytes(), form.csrf.as_bytes()))
    {
        return NotAllowed::Csrf.into_response();
    }
    match session::end(&state, &headers).await {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response(),
        Err(e) => e.into_response(),
    }
}
