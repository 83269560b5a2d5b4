//! The JSON routes of authentication under `/api/v1`: `enrol`, `token/challenge`, `token`.
//! Request and response bodies are the DTOs below (camelCase), converted by hand.

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde::{Deserialize, Serialize};

use super::extract::ClientIp;
use super::service;
use crate::db::identity::role_code;
use crate::state::AppState;
use crate::web::error::{ApiJson, AppError};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EnrolRequest {
    pub(crate) code: String,
    pub(crate) public_key: String,
    #[serde(default)]
    pub(crate) device_name: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EnrolResponse {
    pub(crate) device_id: String,
    pub(crate) peer_id: String,
    pub(crate) user_id: String,
    pub(crate) role: String,
    pub(crate) directory_doc_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChallengeRequest {
    pub(crate) device_id: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ChallengeResponse {
    pub(crate) challenge: String,
    pub(crate) expires_at: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenRequest {
    pub(crate) device_id: String,
    pub(crate) challenge: String,
    pub(crate) signature: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenResponse {
    pub(crate) token: String,
    pub(crate) expires_at: i64,
}

/// The authentication routes (nested under `/api/v1`).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/enrol", post(enrol))
        .route("/token/challenge", post(challenge))
        .route("/token", post(token))
}

async fn enrol(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<EnrolRequest>,
) -> Result<ApiJson<EnrolResponse>, AppError> {
    let enrolled = service::enrol(
        &state,
        &ip,
        &req.code,
        &req.public_key,
        req.device_name.as_deref(),
    )
    .await?;
    let principal = crate::sync::ports::Principal {
        user: enrolled.user.clone(),
        role: enrolled.role,
        device: enrolled.device.clone(),
    };
    Ok(ApiJson(EnrolResponse {
        device_id: enrolled.device.to_string(),
        peer_id: principal.peer_id(),
        user_id: enrolled.user.to_string(),
        role: role_code(enrolled.role).to_owned(),
        directory_doc_id: enrolled.directory_doc.to_string(),
    }))
}

async fn challenge(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<ChallengeRequest>,
) -> Result<ApiJson<ChallengeResponse>, AppError> {
    let issued = service::challenge(&state, &ip, &req.device_id).await?;
    Ok(ApiJson(ChallengeResponse {
        challenge: issued.token,
        expires_at: issued.expires_at,
    }))
}

async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<ApiJson<TokenResponse>, AppError> {
    let issued =
        service::token(&state, &ip, &req.device_id, &req.challenge, &req.signature).await?;
    Ok(ApiJson(TokenResponse {
        token: issued.token,
        expires_at: issued.expires_at,
    }))
}
