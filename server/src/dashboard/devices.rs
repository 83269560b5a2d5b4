//! Devices in the people list, and `POST /devices/{id}/revoke`: a coordinator revokes a device of
//! a PRW of their teams, an admin any device; the device is disconnected at once.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use maud::{Markup, html};
use peerlog_core::ids::DeviceId;

use super::forms::CsrfForm;
use super::i18n::{Lang, texts};
use super::layout::{csrf_field, datetime};
use super::scope::Scope;
use super::scope::manageable;
use super::session::{NotAllowed, Viewer};
use crate::clock::now_ms;
use crate::db::identity::{self, Device, DeviceStatus};
use crate::state::AppState;
use crate::web::error::AppError;

texts! {
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
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/devices/{id}/revoke", post(revoke))
}

pub(super) fn devices_cell(
    lang: Lang,
    viewer: &Viewer,
    scope: &Scope,
    devices: &[&Device],
) -> Markup {
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
