//! [`AppError`]: every HTTP failure as a stable JSON body `{code, message}` (plus `wipe: true` for
//! a revoked device). Internal causes are logged by step and never sent to the client.

use axum::Json;
use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::db::DbError;

/// An API failure. Each variant has a stable `code`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the request body is not valid for this endpoint")]
    BadRequest,
    #[error("a field of the request is invalid")]
    InvalidField { field: &'static str },
    #[error("authentication required")]
    Unauthorized,
    #[error("the enrolment code is unknown, expired or already used")]
    InvalidCode,
    #[error("this device key is already enrolled")]
    KeyInUse,
    #[error("the challenge or signature is not valid")]
    InvalidSignature,
    #[error("this device was revoked; wipe local data")]
    DeviceRevoked,
    #[error("too many failed attempts; try again later")]
    RateLimited,
    #[error("not found, or not visible to you")]
    NotFound,
    #[error("this account may not use this endpoint")]
    Forbidden,
    #[error("the relay failed while {step}")]
    Internal {
        step: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl AppError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest => "bad_request",
            AppError::InvalidField { .. } => "invalid_field",
            AppError::Unauthorized => "unauthorized",
            AppError::InvalidCode => "invalid_code",
            AppError::KeyInUse => "key_in_use",
            AppError::InvalidSignature => "invalid_signature",
            AppError::DeviceRevoked => "device_revoked",
            AppError::RateLimited => "rate_limited",
            AppError::NotFound => "not_found",
            AppError::Forbidden => "forbidden",
            AppError::Internal { .. } => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest | AppError::InvalidField { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized | AppError::InvalidCode | AppError::InvalidSignature => {
                StatusCode::UNAUTHORIZED
            }
            AppError::KeyInUse => StatusCode::CONFLICT,
            AppError::DeviceRevoked => StatusCode::FORBIDDEN,
            AppError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn internal(
        step: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        AppError::Internal {
            step,
            source: Box::new(source),
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        AppError::internal("using the database", e)
    }
}

/// The JSON error body.
#[derive(Debug, Serialize)]
struct Body {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    wipe: bool,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal { step, source } = &self {
            // The source names a step and a library error, never request content.
            tracing::error!(step, error = %source, "request failed");
        }
        let message = match &self {
            AppError::Internal { .. } => "the relay could not complete the request".to_owned(),
            other => other.to_string(),
        };
        let body = Body {
            code: self.code(),
            message,
            field: match &self {
                AppError::InvalidField { field } => Some(field),
                _ => None,
            },
            wipe: matches!(self, AppError::DeviceRevoked),
        };
        (self.status(), Json(body)).into_response()
    }
}

/// `Json` whose rejection is an [`AppError::BadRequest`] (serde's messages can echo input).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(value))
    }
}

impl From<JsonRejection> for AppError {
    fn from(_: JsonRejection) -> Self {
        AppError::BadRequest
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_errors_do_not_leak_their_cause() {
        let err = AppError::internal("reading a device", std::io::Error::other("secret path /x"));
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert_eq!(
            text,
            r#"{"code":"internal","message":"the relay could not complete the request"}"#
        );
    }

    #[tokio::test]
    async fn revoked_devices_get_a_wipe_order() {
        let response = AppError::DeviceRevoked.into_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(json["code"], "device_revoked");
        assert_eq!(json["wipe"], true);
    }
}
