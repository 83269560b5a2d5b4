//! The one error type apps see, chosen by what the app can do about it, and the one place every
//! core error is converted into it.
//!
//! Messages and fields carry names of fields, kinds of records and core's own error texts, which
//! by core's invariant never hold personal data (no alias, note, goal text, code, token or key).

use peerlog_core::crypto::CryptoError;
use peerlog_core::document::{DocumentError, EditError};
use peerlog_core::local::LocalError;
use peerlog_core::net::NetError;
use peerlog_core::store::StoreError;

/// What went wrong, by what the app can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum ApiError {
    /// An argument was refused: show it next to `field` (for example `note`, `minutes`,
    /// `caseId`, `key`, `relayUrl`, `code`). `problem` says what is wrong, in English, without
    /// repeating the input.
    #[error("invalid {field}: {problem}")]
    InvalidInput { field: String, problem: String },
    /// The case, contact, goal, step or agreement (`what`) is not on this device (any more):
    /// refresh the screen.
    #[error("no such {what}")]
    NotFound { what: String },
    /// This store holds no usable enrolment: it was never enrolled, the relay no longer knows
    /// the device, or the key from the keystore no longer opens the store (the keystore was
    /// reset). Ask the user for a new enrolment code; for a lost key, `wipe_store` first.
    #[error("this device needs to be enrolled again")]
    NeedsReenrolment,
    /// The organisation revoked this device, or the lost-phone policy expired: the local data
    /// and keys were destroyed. Delete the key from the keystore; a new code starts afresh.
    #[error("the organisation wiped this device")]
    WipedByOrganisation,
    /// Too long without a successful sync (the organisation's lost-phone policy): case content
    /// stays closed until `sync_now` succeeds.
    #[error("locked until the next successful sync")]
    Locked,
    /// The user may only read this case (a coordinator's team case): nothing was changed, and
    /// nothing is pending.
    #[error("this case is read-only for this user")]
    ReadOnly,
    /// The relay could not be reached or the connection failed: keep the edits (they are
    /// saved) and retry later.
    #[error("network: {reason}")]
    Network { reason: String },
    /// The device's storage failed (disk full, damaged data, a newer app's database).
    #[error("storage: {reason}")]
    Storage { reason: String },
    /// A bug (in Peerlog or in how it is called, such as using a closed handle): report it.
    #[error("internal: {reason}")]
    Internal { reason: String },
}

/// A UniFFI callback failed on the foreign side with an exception we did not declare.
impl From<uniffi::UnexpectedUniFFICallbackError> for ApiError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        ApiError::Internal {
            reason: format!("callback failed: {}", e.reason),
        }
    }
}

/// An error and its sources, joined: "could not write changes to the store: disk I/O error".
/// Core's error texts name steps and fields only, and SQLite's and the network libraries' texts
/// name no row content.
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

fn storage(err: &dyn std::error::Error) -> ApiError {
    ApiError::Storage { reason: chain(err) }
}

fn network(err: &dyn std::error::Error) -> ApiError {
    ApiError::Network { reason: chain(err) }
}

fn internal(err: &dyn std::error::Error) -> ApiError {
    ApiError::Internal { reason: chain(err) }
}

pub(crate) fn invalid(field: &str, problem: &str) -> ApiError {
    ApiError::InvalidInput {
        field: field.to_owned(),
        problem: problem.to_owned(),
    }
}

pub(crate) fn not_found(what: &str) -> ApiError {
    ApiError::NotFound {
        what: what.to_owned(),
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::WrongKey => ApiError::NeedsReenrolment,
            StoreError::Open(_)
            | StoreError::Configure { .. }
            | StoreError::NewerSchema { .. }
            | StoreError::Migrate { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Seal { .. }
            | StoreError::Read { .. }
            | StoreError::Write { .. } => storage(&e),
        }
    }
}

impl From<DocumentError> for ApiError {
    fn from(e: DocumentError) -> Self {
        match e {
            // A newer app wrote the case; this one must not touch it. Updating the app helps,
            // retrying does not: report it like a damaged record.
            DocumentError::NewerSchema { .. }
            | DocumentError::Missing { .. }
            | DocumentError::WrongType { .. }
            | DocumentError::BadValue { .. }
            | DocumentError::IdMismatch
            | DocumentError::TooDeep
            | DocumentError::Load(_)
            | DocumentError::Merge(_) => storage(&e),
            DocumentError::Automerge(_) => internal(&e),
        }
    }
}

impl From<EditError> for ApiError {
    fn from(e: EditError) -> Self {
        match e {
            EditError::Invalid(invalid) => ApiError::InvalidInput {
                field: invalid.field.to_owned(),
                problem: invalid.problem.to_string(),
            },
            EditError::NotFound { what } => not_found(what),
            // Deleted on another device meanwhile: for the app it is gone.
            EditError::ContactDeleted => not_found("contact"),
            EditError::CaseClosed => invalid("caseId", "the case is closed"),
            EditError::Document(d) => d.into(),
        }
    }
}

impl From<LocalError> for ApiError {
    fn from(e: LocalError) -> Self {
        match e {
            LocalError::UnknownCase => not_found("case"),
            LocalError::Locked => ApiError::Locked,
            LocalError::ReadOnly | LocalError::HandingOver => ApiError::ReadOnly,
            LocalError::BadActor | LocalError::BadDirectory => storage(&e),
            LocalError::Load(d) => storage(&d),
            // Every call of this library writes what the relay accepts: a refusal is a bug.
            LocalError::Refused(_) => internal(&e),
            LocalError::Edit(edit) => edit.into(),
            LocalError::Document(d) => d.into(),
            LocalError::Store(s) => s.into(),
        }
    }
}

impl From<CryptoError> for ApiError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::KeyLength { .. } => invalid("key", "must be 32 bytes"),
            CryptoError::Random => internal(&e),
            CryptoError::TooLarge
            | CryptoError::Truncated
            | CryptoError::Unauthentic
            | CryptoError::BadDeviceKey => storage(&e),
        }
    }
}

impl From<NetError> for ApiError {
    fn from(e: NetError) -> Self {
        match e {
            NetError::Wiped => ApiError::WipedByOrganisation,
            NetError::NotEnrolled => ApiError::NeedsReenrolment,
            NetError::BadUrl => invalid("relayUrl", "must start with http:// or https://"),
            NetError::BadCertificate => invalid("caCertificate", "is not a usable PEM certificate"),
            NetError::Refused { ref code, .. } => refused(code, &e),
            NetError::BadResponse(_)
            | NetError::Http(_)
            | NetError::WebSocket(_)
            | NetError::Unauthorized
            | NetError::Closed
            | NetError::Timeout
            | NetError::BadFrame => network(&e),
            NetError::Client(client) => match client {
                peerlog_core::client::ClientError::Local(local) => local.into(),
                // This library only writes what the relay accepts: a refusal is a bug to report.
                refused @ peerlog_core::client::ClientError::ChangesRefused { .. } => {
                    internal(&refused)
                }
                other => network(&other),
            },
            NetError::Local(local) => local.into(),
            NetError::Store(store) => store.into(),
            NetError::Crypto(crypto) => crypto.into(),
            NetError::Task => internal(&e),
        }
    }
}

/// A relay's refusal, by its stable error code (`server/src/error.rs`).
fn refused(code: &str, e: &NetError) -> ApiError {
    match code {
        // Enrolment: the one-time code is wrong, used or expired.
        "invalid_code" => invalid(
            "code",
            "is not a valid enrolment code (wrong, used or expired)",
        ),
        // Token requests: the relay does not accept this device's key any more.
        "unauthorized" | "invalid_signature" | "key_in_use" => ApiError::NeedsReenrolment,
        "device_revoked" => ApiError::WipedByOrganisation,
        // Our own request was malformed: a bug.
        "bad_request" | "invalid_field" => internal(e),
        // `rate_limited`, `internal`, a proxy's error page: try again later.
        _ => network(e),
    }
}

#[cfg(test)]
mod tests;
