//! The typed case model: what one case document holds, as plain Rust values.
//!
//! These types are read out of a [`crate::CaseDoc`]; they are never written back whole. Writes go
//! through the operations in [`crate::document`], which touch only the fields they change.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Time};

use crate::ids::{AgreementId, CaseId, ContactId, DeviceId, GoalId, StepId, TeamId, UserId};

/// Milliseconds since the Unix epoch, UTC.
pub type UnixMillis = i64;

/// A string value in a document that is not one of the codes this version knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} code")]
pub struct UnknownCode {
    pub kind: &'static str,
}

/// Declares a closed set of categories with their stable wire codes (the strings stored in documents).
macro_rules! codes {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code stored in documents and sent over the wire.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($code => Ok($name::$variant),)+ _ => Err(UnknownCode { kind: $kind }) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.code()) }
        }
    };
}

codes!(
    /// How a contact took place.
    ContactMode, "mode" {
        Phone = "phone",
        Message = "message",
        Video = "video",
        Meeting = "meeting",
        Accompany = "accompany",
        Activity = "activity",
    }
);

codes!(
    /// Who took the initiative for a contact.
    Initiator, "initiatedBy" {
        Prw = "prw",
        ServiceUser = "serviceUser",
        Other = "other",
    }
);

codes!(
    /// Life areas: the topics of a contact and the area of a plan goal.
    LifeArea, "area" {
        Housing = "housing",
        Finances = "finances",
        Work = "work",
        Education = "education",
        Network = "network",
        Health = "health",
        Treatment = "treatment",
        Family = "family",
        Leisure = "leisure",
        Other = "other",
    }
);

codes!(
    /// The kind of support given (SAMHSA's four types of peer support).
    SupportType, "supportType" {
        Emotional = "emotional",
        Informational = "informational",
        Instrumental = "instrumental",
        Affiliational = "affiliational",
    }
);

codes!(
    /// The life cycle of a case.
    CaseStatus, "status" {
        Active = "active",
        Paused = "paused",
        Closed = "closed",
    }
);

codes!(
    /// The life cycle of a plan goal.
    GoalStatus, "goalStatus" {
        Open = "open",
        Active = "active",
        Reached = "reached",
        Dropped = "dropped",
    }
);

/// The service user, pseudonymously: an alias they chose, never a name or national id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUser {
    pub alias: String,
    pub birth_year: Option<i32>,
    pub interests: Vec<String>,
    pub background: Vec<String>,
}

/// A weekly window in which the PRW has agreed to be reachable, in the organisation's local time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactWindow {
    /// ISO weekdays, 1 = Monday … 7 = Sunday.
    pub days: Vec<i8>,
    pub from: Time,
    pub to: Time,
}

/// What the PRW and the service user agreed about reachability.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Boundaries {
    pub windows: Vec<ContactWindow>,
    pub channels: Vec<ContactMode>,
    pub max_contacts_per_week: Option<u32>,
    pub outside_hours_plan: Option<String>,
    pub review_on: Option<Date>,
}

/// One logged contact between the PRW and the service user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: ContactId,
    pub at: UnixMillis,
    /// The offset from UTC where the contact took place, in minutes (for display in local time).
    pub tz_offset_min: i32,
    pub minutes: u32,
    pub mode: ContactMode,
    pub initiated_by: Initiator,
    pub topics: Vec<LifeArea>,
    pub support_types: Vec<SupportType>,
    pub note: String,
    pub flag_for_guidance: bool,
    pub logged_by: DeviceId,
    pub logged_at: UnixMillis,
    pub deleted: bool,
}

/// A step towards a goal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: StepId,
    pub text: String,
    pub done: bool,
}

/// A recovery-plan goal, in the service user's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    pub id: GoalId,
    pub area: LifeArea,
    pub text: String,
    pub steps: BTreeMap<StepId, Step>,
    pub status: GoalStatus,
    pub created_at: UnixMillis,
    pub review_on: Option<Date>,
}

/// An agreement such as "tell me if you cancel".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub id: AgreementId,
    pub text: String,
    pub since: Date,
}

/// The recovery plan the PRW keeps with the service user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub goals: BTreeMap<GoalId, Goal>,
    pub agreements: BTreeMap<AgreementId, Agreement>,
    /// What we do if the service user uses.
    pub use_plan: String,
}

/// A whole case, read from its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: CaseId,
    pub schema: u64,
    pub team: TeamId,
    pub prw: UserId,
    pub service_user: ServiceUser,
    pub started_on: Date,
    pub planned_end: Date,
    pub status: CaseStatus,
    pub closed_reason: Option<String>,
    pub boundaries: Boundaries,
    /// Every contact, tombstoned ones included (see [`Contact::deleted`]).
    pub contacts: BTreeMap<ContactId, Contact>,
    pub plan: Plan,
    /// Entries this version cannot read (written by a newer app, or damaged). They stay in the
    /// document untouched; the count lets an app say "update to see everything".
    pub unreadable_entries: usize,
}

impl Case {
    /// Contacts that are not deleted, oldest first.
    pub fn live_contacts(&self) -> impl Iterator<Item = &Contact> {
        let mut live: Vec<&Contact> = self.contacts.values().filter(|c| !c.deleted).collect();
        live.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        live.into_iter()
    }
}
