//! The authentication flows behind the HTTP routes: enrol a device, issue a challenge, exchange a
//! signed challenge for a token, and check a token. Every failure is counted against the client
//! address (and device) by the rate limiter, logged without secrets, and counted in metrics.

use std::time::Instant;

use peerlog_core::ids::{CaseId, DeviceId, UserId};

use super::crypto;
use super::secrets;
use crate::clock::now_ms;
use crate::db::identity::{self, DeviceStatus};
use crate::db::{Db, DbError};
use crate::state::AppState;
use crate::sync::ports::{Principal, Role};
use crate::web::error::AppError;
use crate::web::metrics::AuthFailure;

/// A newly enrolled device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolled {
    pub device: DeviceId,
    pub user: UserId,
    pub role: Role,
    pub directory_doc: CaseId,
}

/// A newly issued token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub token: String,
    pub expires_at: i64,
}

/// Why an enrolment code could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum EnrolmentCodeError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("making a secret failed")]
    Crypto(#[from] crypto::CryptoError),
}

/// Issues an enrolment code for a user (by id or name); `None` if there is no such user.
pub fn issue_enrolment_code(
    db: &Db,
    user: &str,
    now: i64,
    ttl_ms: i64,
) -> Result<Option<(String, i64)>, EnrolmentCodeError> {
    let (code, hash) = secrets::new_enrolment_code()?;
    Ok(db.write(|tx| {
        let Some(user) = identity::find_user(tx, user)? else {
            return Ok::<_, DbError>(None);
        };
        identity::insert_enrolment_code(tx, &hash, &user.id, now, now + ttl_ms)?;
        Ok(Some((code, now + ttl_ms)))
    })?)
}

const DEVICE_NAME_MAX: usize = 64;

fn refuse(state: &AppState, step: AuthFailure, keys: &[&str], err: AppError) -> AppError {
    state.limiter.failed(keys, Instant::now());
    state.metrics.auth_failure(step);
    if matches!(err, AppError::DeviceRevoked) {
        state.metrics.auth_failure(AuthFailure::Revoked);
    }
    tracing::warn!(step = ?step, code = err.code(), "authentication failed");
    err
}

/// The rate-limit keys of a request about one device: its client address and the device id as
/// claimed (cut to 64 characters, so a hostile id cannot grow the limiter's table entries).
fn rate_keys(ip: &str, device: &str) -> [String; 2] {
    [
        format!("ip:{ip}"),
        format!("device:{}", device.chars().take(64).collect::<String>()),
    ]
}

fn check_rate(state: &AppState, keys: &[&str]) -> Result<(), AppError> {
    if state.limiter.allowed(keys, Instant::now()) {
        Ok(())
    } else {
        state.metrics.auth_failure(AuthFailure::RateLimited);
        tracing::warn!("authentication refused: too many failures");
        Err(AppError::RateLimited)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::internal("running a database task", e))?
}

/// Redeems an enrolment code for a device key.
pub async fn enrol(
    state: &AppState,
    ip: &str,
    code: &str,
    public_key: &str,
    device_name: Option<&str>,
) -> Result<Enrolled, AppError> {
    let ip_key = format!("ip:{ip}");
    let keys = [ip_key.as_str()];
    check_rate(state, &keys)?;
    let Some(code) = secrets::normalise_code(code) else {
        return Err(refuse(
            state,
            AuthFailure::Enrol,
            &keys,
            AppError::InvalidCode,
        ));
    };
    let key: [u8; crypto::PUBLIC_KEY_LEN] = secrets::decode_base64(public_key, 32)
        .and_then(|k| k.try_into().ok())
        .ok_or(AppError::InvalidField { field: "publicKey" })?;
    let name = device_name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| {
            if n.chars().count() > DEVICE_NAME_MAX || n.chars().any(char::is_control) {
                Err(AppError::InvalidField {
                    field: "deviceName",
                })
            } else {
                Ok(n.to_owned())
            }
        })
        .transpose()?;

    let db = state.db.clone();
    let result = blocking(move || {
        let now = now_ms();
        db.write(|tx| {
            if identity::public_key_known(tx, &key)? {
                return Err(AppError::KeyInUse);
            }
            let Some(user) = identity::redeem_enrolment_code(tx, &secrets::hash_code(&code), now)?
            else {
                return Err(AppError::InvalidCode);
            };
            let device = identity::add_device(tx, &user, &key, name.as_deref(), now)?;
            let user = identity::find_user(tx, user.as_str())?.ok_or(AppError::InvalidCode)?;
            Ok(Enrolled {
                device,
                user: user.id,
                role: user.role,
                directory_doc: user.directory_doc,
            })
        })
    })
    .await;
    match result {
        Ok(enrolled) => {
            state
                .metrics
                .enrolments
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // The new device must be known to access control before it can connect.
            let db = state.db.clone();
            let access = state.access.clone();
            blocking(move || access.reload(&db).map(|_| ()).map_err(AppError::from)).await?;
            tracing::info!(device = %enrolled.device, user = %enrolled.user, "device enrolled");
            Ok(enrolled)
        }
        Err(err @ (AppError::InvalidCode | AppError::KeyInUse)) => {
            Err(refuse(state, AuthFailure::Enrol, &keys, err))
        }
        Err(err) => Err(err),
    }
}

/// Issues a single-use challenge for a device to sign.
pub async fn challenge(state: &AppState, ip: &str, device: &str) -> Result<Issued, AppError> {
    let [ip_key, device_key] = rate_keys(ip, device);
    let keys = [ip_key.as_str(), device_key.as_str()];
    check_rate(state, &keys)?;
    let Ok(device) = device.parse::<DeviceId>() else {
        return Err(refuse(
            state,
            AuthFailure::Challenge,
            &keys,
            AppError::Unauthorized,
        ));
    };
    let challenge =
        secrets::new_challenge().map_err(|e| AppError::internal("making a challenge", e))?;
    let ttl = state.config.challenge_ttl_ms();
    let db = state.db.clone();
    let issued = challenge.clone();
    let result = blocking(move || {
        let now = now_ms();
        db.write(|tx| {
            match identity::get_device(tx, device.as_str())? {
                None => return Err(AppError::Unauthorized),
                Some(d) if d.status == DeviceStatus::Revoked => {
                    return Err(AppError::DeviceRevoked);
                }
                Some(_) => {}
            }
            identity::insert_challenge(tx, &device, &issued, now + ttl)?;
            Ok(now + ttl)
        })
    })
    .await;
    match result {
        Ok(expires_at) => Ok(Issued {
            token: challenge,
            expires_at,
        }),
        Err(err @ (AppError::Unauthorized | AppError::DeviceRevoked)) => {
            Err(refuse(state, AuthFailure::Challenge, &keys, err))
        }
        Err(err) => Err(err),
    }
}

enum TokenOutcome {
    Issued(Issued),
    Refused(AppError),
}

/// Exchanges a signed challenge for an access token.
pub async fn token(
    state: &AppState,
    ip: &str,
    device: &str,
    challenge: &str,
    signature: &str,
) -> Result<Issued, AppError> {
    let [ip_key, device_key] = rate_keys(ip, device);
    let keys = [ip_key.as_str(), device_key.as_str()];
    check_rate(state, &keys)?;
    let Ok(device) = device.parse::<DeviceId>() else {
        return Err(refuse(
            state,
            AuthFailure::Token,
            &keys,
            AppError::InvalidSignature,
        ));
    };
    let Some(signature) = secrets::decode_base64(signature, 64) else {
        return Err(refuse(
            state,
            AuthFailure::Token,
            &keys,
            AppError::InvalidSignature,
        ));
    };
    if challenge.len() > 128 {
        return Err(refuse(
            state,
            AuthFailure::Token,
            &keys,
            AppError::InvalidSignature,
        ));
    }
    let challenge = challenge.to_owned();
    let ttl = state.config.token_ttl_ms();
    let db = state.db.clone();
    // The challenge is consumed even when the signature is wrong: the transaction commits and
    // the outcome says whether a token was issued.
    let outcome = blocking(move || {
        let now = now_ms();
        db.write(|tx| {
            let Some(found) = identity::get_device(tx, device.as_str())? else {
                return Ok(TokenOutcome::Refused(AppError::InvalidSignature));
            };
            if found.status == DeviceStatus::Revoked {
                return Ok(TokenOutcome::Refused(AppError::DeviceRevoked));
            }
            if !identity::take_challenge(tx, &device, &challenge, now)? {
                return Ok(TokenOutcome::Refused(AppError::InvalidSignature));
            }
            let message = secrets::challenge_message(&device, &challenge);
            if crypto::verify_ed25519(&found.public_key, &message, &signature).is_err() {
                return Ok(TokenOutcome::Refused(AppError::InvalidSignature));
            }
            let (token, hash) =
                secrets::new_token().map_err(|e| AppError::internal("making a token", e))?;
            identity::insert_token(tx, &hash, &device, now + ttl)?;
            identity::touch_device(tx, &device, now)?;
            Ok::<_, AppError>(TokenOutcome::Issued(Issued {
                token,
                expires_at: now + ttl,
            }))
        })
    })
    .await?;
    match outcome {
        TokenOutcome::Issued(issued) => {
            state
                .metrics
                .tokens_issued
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(issued)
        }
        TokenOutcome::Refused(err) => Err(refuse(state, AuthFailure::Token, &keys, err)),
    }
}

/// Checks an access token and returns the device it authenticates.
pub async fn authenticate(
    state: &AppState,
    ip: &str,
    token: Option<&str>,
) -> Result<Principal, AppError> {
    let ip_key = format!("ip:{ip}");
    let keys = [ip_key.as_str()];
    check_rate(state, &keys)?;
    let Some(token) = token.filter(|t| !t.is_empty() && t.len() <= 128) else {
        return Err(refuse(
            state,
            AuthFailure::Bearer,
            &keys,
            AppError::Unauthorized,
        ));
    };
    let hash = secrets::hash_token(token);
    let db = state.db.clone();
    let found = blocking(move || {
        db.read(|tx| identity::device_for_token(tx, &hash, now_ms()))
            .map_err(AppError::from)
    })
    .await?;
    match found {
        Some(d) if d.status == DeviceStatus::Active => Ok(Principal {
            user: d.user,
            role: d.role,
            device: d.id,
        }),
        Some(_) => Err(refuse(
            state,
            AuthFailure::Bearer,
            &keys,
            AppError::DeviceRevoked,
        )),
        None => Err(refuse(
            state,
            AuthFailure::Bearer,
            &keys,
            AppError::Unauthorized,
        )),
    }
}
