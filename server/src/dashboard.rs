//! The coordinator dashboard: server-rendered HTML on the relay (works without JavaScript; one
//! small script refreshes live pages), plus its JSON API under `/api/v1`.
//!
//! Map: `session` (cookies, [`session::Viewer`], CSRF), `login` (sign-in, set-up, second factor,
//! sign-out), `account` (language, password, TOTP set-up), `scope` (what a viewer may see),
//! `projection` (cached case reads), `overview` (team overview and live events), `case_view`
//! (case list, case page, explicit opening, guidance agenda), `people` (the people list),
//! `profiles` (PRW profiles for matching), `devices` (device list and revoke), `enrolment`
//! (enrolment codes, with `qr`), `access_log` (the access log for admins), `intake` (new cases
//! with matching), `decisions` (reassign, close), `reports` (monthly and yearly aggregates:
//! `reports/figures.rs` computes, `reports/csv.rs` writes CSV), `api` (JSON and the OpenAPI
//! document), `forms` (form input shared by pages), `layout`, `labels`, `i18n`, `assets`.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::state::AppState;

pub(crate) mod access_log;
pub(crate) mod account;
pub(crate) mod api;
pub(crate) mod case_view;
pub(crate) mod decisions;
pub(crate) mod devices;
pub(crate) mod enrolment;
pub(crate) mod forms;
pub mod i18n;
pub(crate) mod intake;
pub(crate) mod labels;
pub(crate) mod layout;
pub(crate) mod login;
pub(crate) mod overview;
pub(crate) mod people;
pub(crate) mod profiles;
pub mod projection;
pub(crate) mod qr;
pub mod reports;
pub mod scope;
pub mod session;

/// The policy of dashboard pages: own scripts, styles and forms only; inline SVG is markup, not
/// an image request, so it needs nothing.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The dashboard's pages (the JSON API is in `api::router`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::home))
        .route("/login", get(login::login_form).post(login::login))
        .route(
            "/login/totp",
            get(login::totp_form).post(login::totp_submit),
        )
        .route("/setup", get(login::setup_form).post(login::setup))
        .route("/logout", post(login::logout))
        .route("/account", get(account::account))
        .route("/account/language", post(account::set_language))
        .route("/account/password", post(account::change_password))
        .route(
            "/account/totp",
            get(account::totp_setup_form).post(account::totp_setup_submit),
        )
        .route("/account/totp/disable", post(account::totp_disable))
        .route("/assets/app.css", get(css))
        .route("/assets/live.js", get(script))
        .route("/favicon.ico", get(icon))
        .route("/assets/icon.svg", get(icon))
        .merge(overview::routes())
        .merge(case_view::routes())
        .merge(people::routes())
        .merge(profiles::routes())
        .merge(devices::routes())
        .merge(enrolment::routes())
        .merge(access_log::routes())
        .merge(intake::routes())
        .merge(decisions::routes())
        .merge(reports::routes())
        .layer(axum::middleware::map_response(page_headers))
}

async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        );
    }
    response
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../assets/app.css"),
    )
        .into_response()
}

async fn icon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        include_str!("../assets/icon.svg"),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("../assets/live.js"),
    )
        .into_response()
}
