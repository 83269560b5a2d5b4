//! The HTTP surface: [`app`] builds the router (testable with `oneshot`), [`run`] serves it on a
//! listener until the shutdown future completes, then drains connections.

use std::future::Future;
use std::net::SocketAddr;

use axum::extract::{DefaultBodyLimit, State, WebSocketUpgrade};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;

use crate::state::AppState;
use crate::sync::ports::Principal;
use crate::web::headers;
use crate::{auth, dashboard};

/// Largest JSON request body.
const API_BODY_LIMIT: usize = 16 * 1024;

/// Largest dashboard form body.
const FORM_BODY_LIMIT: usize = 32 * 1024;

/// The relay's router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/sync", get(sync))
        .nest(
            "/api/v1",
            auth::routes::router()
                .merge(dashboard::api::router())
                .layer(DefaultBodyLimit::max(API_BODY_LIMIT)),
        )
        .merge(dashboard::router().layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)))
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            headers::add,
        ))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn run(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// How long open connections get to finish after shutdown starts when serving TLS directly.
const TLS_DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `app` over TLS (HTTPS and WSS) on `listener` until `shutdown` completes, then gives
/// open connections [`TLS_DRAIN`] to finish.
pub async fn run_tls(
    listener: TcpListener,
    app: Router,
    tls: std::sync::Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = axum_server::Handle::new();
    let on_shutdown = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        on_shutdown.graceful_shutdown(Some(TLS_DRAIN));
    });
    axum_server::from_tcp_rustls(
        listener.into_std()?,
        axum_server::tls_rustls::RustlsConfig::from_config(tls),
    )?
    .handle(handle)
    .serve(app.into_make_service_with_connect_info::<SocketAddr>())
    .await
}

async fn healthz(State(state): State<AppState>) -> Response {
    let db = state.db.clone();
    let ok = tokio::task::spawn_blocking(move || {
        db.read(|tx| {
            tx.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(|source| crate::db::DbError::Sqlite {
                    step: "checking health",
                    source,
                })
        })
        .is_ok()
    })
    .await
    .unwrap_or(false);
    if ok {
        Json(serde_json::json!({"status": "ok"})).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "unavailable"})),
        )
            .into_response()
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.render(&state.engine.metrics());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `GET /sync`: authenticate, then hand the upgraded socket to the sync engine.
async fn sync(State(state): State<AppState>, who: Principal, ws: WebSocketUpgrade) -> Response {
    let engine = state.engine.clone();
    tracing::info!(device = %who.device, "sync connection");
    crate::sync::configure_upgrade(ws, engine.max_frame_bytes())
        .on_upgrade(move |socket| engine.serve(socket, who))
}
