//! Identity and authentication: enrolment codes bind a device's Ed25519 key to a user; a device
//! gets a short-lived token by signing a fresh challenge; the [`Principal`] extractor turns a
//! token into an authenticated device on every protected route.
//!
//! Tokens are opaque: 32 random bytes (base64url), stored only as their SHA-256, valid for one
//! hour by default. A stolen database therefore yields no usable token, revocation takes effect
//! at once (the device's token rows are deleted and the device row is checked on every use), and
//! no signing key has to be kept or rotated. A signed token (HMAC) would save one indexed read per
//! request, which the relay does not need: it authenticates once per WebSocket connection.
//!
//! [`Principal`]: crate::sync::ports::Principal

pub mod crypto;
pub(crate) mod extract;
pub mod password;
pub mod ratelimit;
pub(crate) mod routes;
pub mod secrets;
pub mod service;
pub mod totp;
