//! What can go wrong in a local store, by step. Messages never carry case content or key material.

use crate::crypto::CryptoError;

/// A store operation failed. Each variant names the step; none carries personal data.
///
/// Deliberately exhaustive: the one conversion at the FFI edge must decide about every variant.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or created.
    #[error("could not open the store database")]
    Open(#[source] rusqlite::Error),
    /// A connection setting (journal mode, durability, secure delete, foreign keys) was refused.
    #[error("could not configure the store database ({pragma})")]
    Configure {
        pragma: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer app version; this version must not touch it.
    #[error(
        "the store was written by a newer app version (schema {found}, this app supports up to {supported})"
    )]
    NewerSchema { found: i64, supported: i64 },
    /// Upgrading the schema to `version` failed; the store stays at the version before it.
    #[error("could not upgrade the store schema to version {version}")]
    Migrate {
        version: i64,
        #[source]
        source: rusqlite::Error,
    },
    /// The key given does not open this store (it opened with another key before).
    #[error("the store key does not open this store")]
    WrongKey,
    /// A stored item does not open or decode under the key that opened the store.
    #[error("stored {what} is corrupt or was tampered with")]
    Corrupt { what: &'static str },
    /// A value could not be sealed before writing (no randomness from the system, or too large).
    #[error("could not seal {what} for storage")]
    Seal {
        what: &'static str,
        #[source]
        source: CryptoError,
    },
    /// Reading `what` from the database failed.
    #[error("could not read {what} from the store")]
    Read {
        what: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    /// Writing `what` to the database failed; the caller must not report it as saved.
    #[error("could not write {what} to the store")]
    Write {
        what: &'static str,
        #[source]
        source: rusqlite::Error,
    },
}
