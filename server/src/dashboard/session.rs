//! Browser sessions of the dashboard: the session cookie (random, stored only as its SHA-256,
//! HttpOnly, SameSite=Strict, Secure and `__Host-` behind TLS), the [`Viewer`] extractor that
//! every signed-in page takes, CSRF tokens on every form, and the same-origin check on every
//! POST. A new session id is issued at every change of privilege (password accepted, second
//! factor accepted), so a session id planted before sign-in never becomes a signed-in one.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use peerlog_core::ids::{TeamId, UserId};

use super::i18n::Lang;
use crate::auth::crypto::{constant_time_eq, random_bytes, sha256};
use crate::clock::now_ms;
use crate::db::logins::{self, Stage};
use crate::db::{DbError, identity};
use crate::state::AppState;
use crate::sync::ports::Role;
use crate::web::error::AppError;

/// A session ends after this long without a request.
pub const IDLE_MS: i64 = 60 * 60 * 1000;

/// The cookie that carries the pre-sign-in form token (double submit).
const FORM_COOKIE: &str = "peerlog_form";

/// Whether cookies must be `Secure`: the relay serves TLS itself, or a trusted proxy says the
/// browser used HTTPS.
pub fn secure(parts_headers: &HeaderMap, state: &AppState) -> bool {
    state.config.tls_cert.is_some()
        || (state.config.trust_forwarded_for
            && parts_headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https")))
}

/// The session cookie's name: `__Host-` prefixed when Secure (the browser then refuses it from
/// plain HTTP, sub-domains and other paths).
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-peerlog_session"
    } else {
        "peerlog_session"
    }
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn set_cookie(name: &str, value: &str, secure: bool, max_age_s: Option<i64>) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age_s {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Length of a [`new_token`]: 32 bytes in unpadded base64url.
const TOKEN_LEN: usize = 43;

/// A fresh random token (32 bytes, unpadded base64url: safe in cookies, forms and URLs).
pub fn new_token() -> Result<String, AppError> {
    use base64::Engine as _;
    let bytes: [u8; 32] =
        random_bytes().map_err(|e| AppError::internal("making a session token", e))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The session id hash from the request's cookie, if any.
pub fn presented_session(headers: &HeaderMap, state: &AppState) -> Option<[u8; 32]> {
    let name = cookie_name(secure(headers, state));
    cookie_value(headers, name)
        .filter(|v| v.len() == TOKEN_LEN)
        .map(|v| sha256(v.as_bytes()))
}

/// Starts a session at `stage` for `user`, ending the one the browser presented (if any).
/// Returns the `Set-Cookie` value.
pub async fn start(
    state: &AppState,
    headers: &HeaderMap,
    user: &UserId,
    stage: Stage,
    pending_totp: Option<Vec<u8>>,
) -> Result<HeaderValue, AppError> {
    let id = new_token()?;
    let csrf = new_token()?;
    let id_hash = sha256(id.as_bytes());
    let old = presented_session(headers, state);
    let db = state.db.clone();
    let user = user.clone();
    let now = now_ms();
    tokio::task::spawn_blocking(move || {
        db.write(|tx| {
            if let Some(old) = old {
                logins::delete_session(tx, &old)?;
            }
            logins::insert_session(tx, &id_hash, &user, stage, &csrf, now, now + IDLE_MS)?;
            if let Some(secret) = &pending_totp {
                logins::set_pending_totp(tx, &id_hash, Some(secret))?;
            }
            Ok::<_, DbError>(())
        })
    })
    .await
    .map_err(|e| AppError::internal("starting a session", e))??;
    let secure = secure(headers, state);
    Ok(set_cookie(cookie_name(secure), &id, secure, None))
}

/// Ends the presented session; returns the `Set-Cookie` value that clears the cookie.
pub async fn end(state: &AppState, headers: &HeaderMap) -> Result<HeaderValue, AppError> {
    if let Some(old) = presented_session(headers, state) {
        let db = state.db.clone();
        tokio::task::spawn_blocking(move || db.write(|tx| logins::delete_session(tx, &old)))
            .await
            .map_err(|e| AppError::internal("ending a session", e))??;
    }
    let secure = secure(headers, state);
    Ok(set_cookie(cookie_name(secure), "", secure, Some(0)))
}

/// The presented session at any stage, with its id hash.
pub async fn current(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<([u8; 32], logins::Session)>, AppError> {
    let Some(id_hash) = presented_session(headers, state) else {
        return Ok(None);
    };
    let db = state.db.clone();
    let now = now_ms();
    let found = tokio::task::spawn_blocking(move || {
        db.write(|tx| {
            let Some(session) = logins::session(tx, &id_hash, now)? else {
                return Ok::<_, DbError>(None);
            };
            // Extend at most once a minute: a page load is not a database write.
            if now - session.last_seen > 60_000 {
                logins::touch_session(tx, &id_hash, now, now + IDLE_MS)?;
            }
            Ok(Some(session))
        })
    })
    .await
    .map_err(|e| AppError::internal("reading a session", e))??;
    Ok(found.map(|s| (id_hash, s)))
}

/// A signed-in dashboard user (coordinator or admin), for the length of one request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: UserId,
    pub name: String,
    pub role: Role,
    pub teams: Vec<TeamId>,
    pub lang: Lang,
    /// The session's CSRF token, to put in every form.
    pub csrf: String,
    pub has_totp: bool,
    pub session: [u8; 32],
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Checks a submitted form token against the session's.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), NotAllowed> {
        if constant_time_eq(submitted.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(NotAllowed::Csrf)
        }
    }
}

/// Why a dashboard request was turned away.
#[derive(Debug)]
pub enum NotAllowed {
    /// Not signed in (or the session is gone): to the sign-in page.
    SignIn,
    /// Signed in halfway: to the step that is missing.
    Continue(&'static str),
    /// A form without the session's token, or a cross-site POST.
    Csrf,
    /// Signed in, but this user may not see this (or it does not exist: the same answer).
    Forbidden,
    Failed(AppError),
}

impl From<AppError> for NotAllowed {
    fn from(e: AppError) -> Self {
        NotAllowed::Failed(e)
    }
}

impl From<DbError> for NotAllowed {
    fn from(e: DbError) -> Self {
        NotAllowed::Failed(e.into())
    }
}

impl IntoResponse for NotAllowed {
    fn into_response(self) -> Response {
        match self {
            NotAllowed::SignIn => Redirect::to("/login").into_response(),
            NotAllowed::Continue(to) => Redirect::to(to).into_response(),
            NotAllowed::Csrf => (
                axum::http::StatusCode::FORBIDDEN,
                "The form was not sent from this dashboard (or your session changed). Go back, reload the page and try again.",
            )
                .into_response(),
            NotAllowed::Forbidden => (
                axum::http::StatusCode::NOT_FOUND,
                "Not found, or not yours to see.",
            )
                .into_response(),
            NotAllowed::Failed(e) => e.into_response(),
        }
    }
}

/// A user and their dashboard login settings (either may be missing).
pub async fn user_and_login(
    state: &AppState,
    user: &UserId,
) -> Result<(Option<identity::User>, Option<logins::Login>), AppError> {
    let db = state.db.clone();
    let user = user.clone();
    tokio::task::spawn_blocking(move || {
        db.read(|tx| {
            Ok::<_, DbError>((
                identity::find_user(tx, user.as_str())?,
                logins::get(tx, &user)?,
            ))
        })
    })
    .await
    .map_err(|e| AppError::internal("reading a dashboard user", e))?
    .map_err(AppError::from)
}

/// Loads the viewer behind a fully signed-in session.
pub async fn viewer(state: &AppState, headers: &HeaderMap) -> Result<Viewer, NotAllowed> {
    let Some((id_hash, session)) = current(state, headers).await? else {
        return Err(NotAllowed::SignIn);
    };
    match session.stage {
        Stage::Full => {}
        Stage::SecondFactor => return Err(NotAllowed::Continue("/login/totp")),
        Stage::TotpSetup => return Err(NotAllowed::Continue("/account/totp")),
    }
    let (user, login) = user_and_login(state, &session.user).await?;
    let Some(user) = user.filter(|u| u.role != Role::Prw) else {
        return Err(NotAllowed::SignIn);
    };
    let login = login.unwrap_or_default();
    Ok(Viewer {
        user: user.id,
        name: user.name,
        role: user.role,
        teams: user.teams,
        lang: Lang::parse(&login.language).unwrap_or_default(),
        csrf: session.csrf,
        has_totp: login.totp_secret.is_some(),
        session: id_hash,
    })
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = NotAllowed;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, NotAllowed> {
        if parts.method == Method::POST && !same_origin(&parts.headers) {
            return Err(NotAllowed::Csrf);
        }
        viewer(state, &parts.headers).await
    }
}

/// Whether a request comes from a page of this site: `Sec-Fetch-Site` (sent by every current
/// browser) must be `same-origin` or `none`; otherwise an `Origin` must match `Host`.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            let origin_host = origin.split_once("://").map(|(_, rest)| rest);
            host.is_some() && origin_host == host
        }
    }
}

/// The form token for pages before sign-in (double submit: a cookie and a hidden field that must
/// match). Returns the token and, when the browser has none yet, the cookie to set.
pub fn form_token(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(String, Option<HeaderValue>), AppError> {
    if let Some(existing) = cookie_value(headers, FORM_COOKIE).filter(|v| v.len() == TOKEN_LEN) {
        return Ok((existing.to_owned(), None));
    }
    let token = new_token()?;
    let secure = secure(headers, state);
    let cookie = set_cookie(FORM_COOKIE, &token, secure, None);
    Ok((token, Some(cookie)))
}

/// Checks a pre-sign-in form: same origin, and the hidden token equals the cookie.
pub fn check_form_token(headers: &HeaderMap, submitted: &str) -> Result<(), NotAllowed> {
    let cookie = cookie_value(headers, FORM_COOKIE).unwrap_or("");
    if same_origin(headers)
        && !cookie.is_empty()
        && constant_time_eq(cookie.as_bytes(), submitted.as_bytes())
    {
        Ok(())
    } else {
        Err(NotAllowed::Csrf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = headers(&[("cookie", "a=1; peerlog_session=xyz"), ("cookie", "b=2")]);
        assert_eq!(cookie_value(&h, "peerlog_session"), Some("xyz"));
        assert_eq!(cookie_value(&h, "b"), Some("2"));
        assert_eq!(cookie_value(&h, "peerlog"), None);
    }

    #[test]
    fn tokens_are_random_url_safe_and_of_one_length() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }

    #[test]
    fn cross_site_posts_are_refused() {
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(&headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(
            same_origin(&headers(&[])),
            "non-browser clients send neither"
        );
    }

    #[test]
    fn session_cookies_are_http_only_strict_and_secure_behind_tls() {
        let plain = set_cookie(cookie_name(false), "v", false, None);
        assert_eq!(
            plain,
            "peerlog_session=v; Path=/; HttpOnly; SameSite=Strict"
        );
        let tls = set_cookie(cookie_name(true), "v", true, Some(0));
        assert_eq!(
            tls,
            "__Host-peerlog_session=v; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0"
        );
    }
}
