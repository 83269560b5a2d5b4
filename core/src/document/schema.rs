//! The persisted shape of a case document: its schema version, its key names, and the upgrade path
//! for documents written by older app versions.
//!
//! Key names are part of the wire and storage format (stock automerge-repo clients and the relay
//! read them); `tests/schema_snapshot.rs` pins them.
//!
//! Versioning rules:
//! - Adding an optional field or a new map is *not* a schema change: older readers ignore keys they
//!   do not know, and operations only write the fields they change, so nothing a newer version wrote
//!   is destroyed by an older one.
//! - Renaming, retyping or restructuring a field *is*: bump [`CURRENT_SCHEMA`] and add a step to
//!   [`MIGRATIONS`]. A step must be deterministic and idempotent, because two devices may migrate the
//!   same document concurrently offline and their writes merge.
//! - A document with a schema newer than this version is refused for writing
//!   ([`super::DocumentError::NewerSchema`]): the app must be updated first.

use automerge::transaction::Transactable;

use super::DocumentError;

pub mod check;

/// The schema version this build writes and fully understands.
pub const CURRENT_SCHEMA: u64 = 1;

/// One upgrade step: `MIGRATIONS[i]` turns a version `i + 1` document into version `i + 2`.
pub(crate) type Migration =
    fn(&mut automerge::transaction::Transaction<'_>) -> Result<(), DocumentError>;

/// Upgrade steps, oldest first. Empty while only schema 1 exists.
pub(crate) const MIGRATIONS: &[Migration] = &[];

/// Runs the steps that take a document from `found` to [`CURRENT_SCHEMA`], then records the new
/// version. Does nothing for a current document.
pub(crate) fn upgrade(
    tx: &mut automerge::transaction::Transaction<'_>,
    found: u64,
) -> Result<(), DocumentError> {
    if found > CURRENT_SCHEMA {
        return Err(DocumentError::NewerSchema {
            found,
            supported: CURRENT_SCHEMA,
        });
    }
    let first = usize::try_from(found.saturating_sub(1)).unwrap_or(usize::MAX);
    for step in MIGRATIONS.iter().skip(first) {
        step(tx)?;
    }
    if found < CURRENT_SCHEMA {
        tx.put(automerge::ROOT, keys::SCHEMA, CURRENT_SCHEMA)?;
    }
    Ok(())
}

/// Key names in the document, camelCase as in automerge-repo's JavaScript world.
pub mod keys {
    pub const SCHEMA: &str = "schema";
    pub const CASE_ID: &str = "caseId";
    pub const TEAM: &str = "team";
    pub const PRW: &str = "prw";
    pub const SERVICE_USER: &str = "serviceUser";
    pub const ALIAS: &str = "alias";
    pub const BIRTH_YEAR: &str = "birthYear";
    pub const INTERESTS: &str = "interests";
    pub const BACKGROUND: &str = "background";
    pub const STARTED_ON: &str = "startedOn";
    pub const PLANNED_END: &str = "plannedEnd";
    pub const STATUS: &str = "status";
    pub const CLOSED_REASON: &str = "closedReason";
    pub const BOUNDARIES: &str = "boundaries";
    pub const WINDOWS: &str = "windows";
    pub const DAYS: &str = "days";
    pub const FROM: &str = "from";
    pub const TO: &str = "to";
    pub const CHANNELS: &str = "channels";
    pub const MAX_CONTACTS_PER_WEEK: &str = "maxContactsPerWeek";
    pub const OUTSIDE_HOURS_PLAN: &str = "outsideHoursPlan";
    pub const REVIEW_ON: &str = "reviewOn";
    pub const CONTACTS: &str = "contacts";
    pub const AT: &str = "at";
    pub const TZ_OFFSET_MIN: &str = "tzOffsetMin";
    pub const MINUTES: &str = "minutes";
    pub const MODE: &str = "mode";
    pub const INITIATED_BY: &str = "initiatedBy";
    pub const TOPICS: &str = "topics";
    pub const SUPPORT_TYPE: &str = "supportType";
    pub const NOTE: &str = "note";
    pub const FLAG_FOR_GUIDANCE: &str = "flagForGuidance";
    pub const LOGGED_BY: &str = "loggedBy";
    pub const LOGGED_AT: &str = "loggedAt";
    pub const DELETED: &str = "deleted";
    pub const PLAN: &str = "plan";
    pub const GOALS: &str = "goals";
    pub const AREA: &str = "area";
    pub const TEXT: &str = "text";
    pub const STEPS: &str = "steps";
    pub const DONE: &str = "done";
    pub const CREATED_AT: &str = "createdAt";
    pub const AGREEMENTS: &str = "agreements";
    pub const SINCE: &str = "since";
    pub const USE_PLAN: &str = "usePlan";
}
