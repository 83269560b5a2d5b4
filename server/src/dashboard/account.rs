//! The signed-in user's account: language, password, and TOTP (set up right after the password
//! for an admin, who must have it; switched on and off by a coordinator).

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::i18n::Lang;
use super::layout::{csrf_field, page};
use super::login::{
    CodeForm, accept_totp, browser_lang, check_password, code_page, policy_message, t,
};
use super::qr;
use super::session::{self, NotAllowed, Viewer};
use crate::auth::{crypto, password, totp};
use crate::clock::now_ms;
use crate::db::logins::{self, Stage};
use crate::db::{DbError, identity};
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::metrics::AuthFailure;

#[derive(Debug, Deserialize)]
pub(crate) struct LanguageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    language: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

/// `/account/totp`: set up TOTP (an admin right after the password, or anyone from the account
/// page). A fresh secret is kept in the session until a code from it is confirmed.
pub(crate) async fn totp_setup_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Ok(Some((id_hash, s))) = session::current(&state, &headers).await else {
        return NotAllowed::SignIn.into_response();
    };
    if s.stage == Stage::SecondFactor {
        return NotAllowed::Continue("/login/totp").into_response();
    }
    let secret = match totp::new_secret() {
        Ok(secret) => secret,
        Err(e) => return AppError::internal("making a second-factor secret", e).into_response(),
    };
    let db = state.db.clone();
    let stored = tokio::task::spawn_blocking(move || {
        db.write(|tx| {
            logins::set_pending_totp(tx, &id_hash, Some(&secret))?;
            identity::find_user(tx, s.user.as_str())
        })
    })
    .await;
    let user = match stored {
        Ok(Ok(Some(user))) => user,
        Ok(Err(e)) => return AppError::from(e).into_response(),
        _ => return NotAllowed::SignIn.into_response(),
    };
    let lang = session::viewer(&state, &headers)
        .await
        .map_or_else(|_| browser_lang(&headers), |v| v.lang);
    let tt = t(lang);
    let uri = totp::otpauth_uri(&state.config.org_name, &user.name, &secret);
    let intro = if s.stage == Stage::TotpSetup {
        tt.totp_required
    } else {
        tt.totp_explain
    };
    let key = totp::base32(&secret);
    code_page(
        lang,
        &s.csrf,
        "/account/totp",
        intro,
        None,
        html! {
            (qr::svg(&uri, tt.totp_title))
            p { (tt.totp_key) ": " code #totp-key { (key) } }
        },
    )
    .into_response()
}

pub(crate) async fn totp_setup_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let Ok(Some((id_hash, s))) = session::current(&state, &headers).await else {
        return NotAllowed::SignIn.into_response();
    };
    if s.stage == Stage::SecondFactor {
        return NotAllowed::Continue("/login/totp").into_response();
    }
    if !session::same_origin(&headers)
        || !crypto::constant_time_eq(s.csrf.as_bytes(), form.csrf.as_bytes())
    {
        return NotAllowed::Csrf.into_response();
    }
    let Some(secret) = s.pending_totp.clone() else {
        return Redirect::to("/account/totp").into_response();
    };
    let unix = now_ms().div_euclid(1000);
    let Ok(step) = totp::verify(&secret, &form.code, unix, None) else {
        state.metrics.auth_failure(AuthFailure::SecondFactor);
        let lang = browser_lang(&headers);
        return (
            StatusCode::UNAUTHORIZED,
            code_page(
                lang,
                &s.csrf,
                "/account/totp",
                t(lang).totp_explain,
                Some(t(lang).wrong_code),
                html! {
                    p { a href="/account/totp" { (t(lang).totp_enable) } }
                },
            ),
        )
            .into_response();
    };
    let db = state.db.clone();
    let user = s.user.clone();
    let now = now_ms();
    let saved = tokio::task::spawn_blocking(move || {
        db.write(|tx| {
            logins::set_totp(tx, &user, Some(&secret), Some(step), now)?;
            logins::set_pending_totp(tx, &id_hash, None)?;
            Ok::<_, DbError>(())
        })
    })
    .await;
    if let Ok(Err(e)) = saved {
        return AppError::from(e).into_response();
    }
    tracing::info!(user = %s.user, "dashboard second factor set up");
    // A new privilege level gets a new session id.
    match session::start(&state, &headers, &s.user, Stage::Full, None).await {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/account")).into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn totp_disable(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<CodeForm>,
) -> Result<Response, NotAllowed> {
    viewer.check_csrf(&form.csrf)?;
    if viewer.is_admin() {
        return Err(NotAllowed::Forbidden);
    }
    if !accept_totp(&state, &viewer.user, &form.code).await? {
        state.metrics.auth_failure(AuthFailure::SecondFactor);
        return Ok(Redirect::to("/account?totp=wrong").into_response());
    }
    let db = state.db.clone();
    let user = viewer.user.clone();
    let now = now_ms();
    tokio::task::spawn_blocking(move || {
        db.write(|tx| logins::set_totp(tx, &user, None, None, now))
    })
    .await
    .map_err(|e| AppError::internal("switching off a second factor", e))??;
    Ok(Redirect::to("/account").into_response())
}

pub(crate) async fn account(viewer: Viewer) -> Markup {
    account_page(&viewer, None)
}

fn account_page(viewer: &Viewer, message: Option<&str>) -> Markup {
    let lang = viewer.lang;
    let t = t(lang);
    page(
        lang,
        Some(viewer),
        t.account,
        false,
        html! {
            h1 { (t.account) }
            p { (viewer.name) " · " (if viewer.is_admin() { t.role_admin } else { t.role_coordinator }) }
            @if let Some(m) = message { p.ok role="status" { (m) } }
            form.card method="post" action="/account/language" {
                (csrf_field(&viewer.csrf))
                label for="language" { (t.language) }
                select #language name="language" {
                    @for l in Lang::ALL {
                        option value=(l.code()) selected[l == lang] { (l.name()) }
                    }
                }
                " " button type="submit" { (t.save) }
            }
            div.card {
                h2 { (t.totp_title) }
                @if viewer.has_totp {
                    p.ok { (t.totp_on) }
                    @if !viewer.is_admin() {
                        form method="post" action="/account/totp/disable" {
                            (csrf_field(&viewer.csrf))
                            label for="code" { (t.second_factor) }
                            input #code type="text" name="code" inputmode="numeric" required;
                            " " button.secondary type="submit" { (t.totp_disable) }
                        }
                    }
                } @else {
                    p { (t.totp_off) }
                    p { a href="/account/totp" { (t.totp_enable) } }
                }
            }
            form.card method="post" action="/account/password" {
                h2 { (t.change_password) }
                (csrf_field(&viewer.csrf))
                label for="current" { (t.current_password) }
                input #current type="password" name="current" autocomplete="current-password" required;
                label for="new" { (t.new_password) }
                input #new type="password" name="password" autocomplete="new-password" required minlength="12";
                label for="repeat" { (t.repeat_password) }
                input #repeat type="password" name="repeat" autocomplete="new-password" required minlength="12";
                p { button type="submit" { (t.change_password) } }
            }
        },
    )
}

pub(crate) async fn set_language(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<LanguageForm>,
) -> Result<Response, NotAllowed> {
    viewer.check_csrf(&form.csrf)?;
    let Some(lang) = Lang::parse(&form.language) else {
        return Ok(StatusCode::BAD_REQUEST.into_response());
    };
    let db = state.db.clone();
    let user = viewer.user.clone();
    let now = now_ms();
    tokio::task::spawn_blocking(move || {
        db.write(|tx| logins::set_language(tx, &user, lang.code(), now))
    })
    .await
    .map_err(|e| AppError::internal("saving a language", e))??;
    Ok(Redirect::to("/account").into_response())
}

pub(crate) async fn change_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    viewer: Viewer,
    Form(form): Form<PasswordForm>,
) -> Result<Response, NotAllowed> {
    viewer.check_csrf(&form.csrf)?;
    let lang = viewer.lang;
    let bad = |message: &str| {
        Ok((
            StatusCode::BAD_REQUEST,
            account_page(&viewer, Some(message)),
        )
            .into_response())
    };
    if form.password != form.repeat {
        return bad(t(lang).mismatch);
    }
    if let Err(e) = password::check_policy(&viewer.name, &form.password) {
        return bad(policy_message(lang, &e));
    }
    if check_password(&state, &viewer.name, form.current)
        .await?
        .is_none()
    {
        state.metrics.auth_failure(AuthFailure::Login);
        return bad(t(lang).wrong);
    }
    let hash = tokio::task::spawn_blocking(move || password::hash(&form.password))
        .await
        .map_err(|e| AppError::internal("hashing a password", e))?
        .map_err(|e| AppError::internal("hashing a password", e))?;
    let db = state.db.clone();
    let user = viewer.user.clone();
    let now = now_ms();
    tokio::task::spawn_blocking(move || {
        db.write(|tx| {
            logins::set_password(tx, &user, &hash, now)?;
            logins::delete_sessions_of(tx, &user)
        })
    })
    .await
    .map_err(|e| AppError::internal("saving a password", e))??;
    // Every session ended, this one too; start a fresh one so the user stays signed in here.
    let cookie = session::start(&state, &headers, &viewer.user, Stage::Full, None).await?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        account_page(&viewer, Some(t(lang).password_changed)),
    )
        .into_response())
}
