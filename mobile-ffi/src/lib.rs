//! UniFFI bindings of peerlog-core for Kotlin, Swift and Python apps: a thin translation layer.
//!
//! An app holds one [`Peerlog`] per store: it opens the encrypted store in the app's directory
//! with the 32-byte key from the platform keystore, enrols with a relay using a one-time code,
//! reads and edits cases offline, shows the PRW's own week and syncs when there is signal.
//! Every failure is one [`ApiError`], chosen by what the app can do about it.
//!
//! All logic lives in `peerlog-core`; this crate converts types and errors, supplies the real
//! clock and the system's random generator, and serialises calls on one handle with a mutex.
//! Bindings are generated from the built library by the pinned `uniffi-bindgen` binary of this
//! crate (feature `cli`); see `mobile-ffi/README.md`.

uniffi::setup_scaffolding!();

mod categories;
mod device;
mod error;
mod logging;
mod observe;
mod records;
mod week;

pub use categories::{CaseStatus, ContactMode, GoalStatus, Initiator, LifeArea, SupportType};
pub use device::{Peerlog, wipe_store};
pub use error::ApiError;
pub use logging::{LogLevel, Logger, set_logger};
pub use observe::{Observer, SyncReport, SyncState};
pub use records::{
    AgreementRecord, BoundariesRecord, CaseDetail, CaseSummary, ContactPatch, ContactRecord,
    ContactWindowRecord, EnrolmentInfo, GoalRecord, NewContact, StepRecord,
};
pub use week::{CaseWeekRecord, ModeCount, MyWeek, WeekTotalsRecord};
