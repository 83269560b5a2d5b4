//! Plain records that cross the boundary: what the app reads (cases, contacts, the plan) and what
//! it writes (a new contact, a contact patch), mirroring core's model through `From`.
//!
//! Ids cross as strings, times as Unix milliseconds (UTC), calendar dates as `YYYY-MM-DD` and
//! times of day as `HH:MM`.

use peerlog_core::document;
use peerlog_core::model::{self, Case};

use crate::categories::{
    CaseStatus, ContactMode, GoalStatus, Initiator, LifeArea, SupportType, from_core, to_core,
};

/// One case in the list: who (the alias the service user chose) and how it stands.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CaseSummary {
    pub case_id: String,
    pub alias: String,
    pub status: CaseStatus,
    /// Live (not deleted) contacts.
    pub contact_count: u32,
    pub last_contact_at: Option<i64>,
    /// Goals that are open or active.
    pub open_goals: u32,
}

impl From<&Case> for CaseSummary {
    fn from(case: &Case) -> Self {
        Self {
            case_id: case.id.to_string(),
            alias: case.service_user.alias.clone(),
            status: case.status.into(),
            contact_count: u32::try_from(case.live_contacts().count()).unwrap_or(u32::MAX),
            last_contact_at: case.live_contacts().map(|c| c.at).max(),
            open_goals: u32::try_from(
                case.plan
                    .goals
                    .values()
                    .filter(|g| {
                        matches!(
                            g.status,
                            model::GoalStatus::Open | model::GoalStatus::Active
                        )
                    })
                    .count(),
            )
            .unwrap_or(u32::MAX),
        }
    }
}

/// A whole case as the case screen shows it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CaseDetail {
    pub case_id: String,
    pub alias: String,
    pub birth_year: Option<i32>,
    pub interests: Vec<String>,
    pub background: Vec<String>,
    pub status: CaseStatus,
    pub closed_reason: Option<String>,
    pub started_on: String,
    pub planned_end: String,
    pub boundaries: BoundariesRecord,
    /// Live contacts, newest first.
    pub contacts: Vec<ContactRecord>,
    /// Goals, oldest first.
    pub goals: Vec<GoalRecord>,
    /// Agreements, oldest first.
    pub agreements: Vec<AgreementRecord>,
    pub use_plan: String,
    /// Entries a newer app wrote that this version cannot show ("update to see everything").
    pub unreadable_entries: u32,
}

impl From<&Case> for CaseDetail {
    fn from(case: &Case) -> Self {
        let mut contacts: Vec<ContactRecord> = case.live_contacts().map(Into::into).collect();
        contacts.reverse();
        let mut goals: Vec<&model::Goal> = case.plan.goals.values().collect();
        goals.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        let mut agreements: Vec<&model::Agreement> = case.plan.agreements.values().collect();
        agreements.sort_by(|a, b| a.since.cmp(&b.since).then_with(|| a.id.cmp(&b.id)));
        let su = &case.service_user;
        Self {
            case_id: case.id.to_string(),
            alias: su.alias.clone(),
            birth_year: su.birth_year,
            interests: su.interests.clone(),
            background: su.background.clone(),
            status: case.status.into(),
            closed_reason: case.closed_reason.clone(),
            started_on: case.started_on.to_string(),
            planned_end: case.planned_end.to_string(),
            boundaries: (&case.boundaries).into(),
            contacts,
            goals: goals.into_iter().map(Into::into).collect(),
            agreements: agreements.into_iter().map(Into::into).collect(),
            use_plan: case.plan.use_plan.clone(),
            unreadable_entries: u32::try_from(case.unreadable_entries).unwrap_or(u32::MAX),
        }
    }
}

/// A weekly window in which the PRW agreed to be reachable (organisation's local time).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContactWindowRecord {
    /// ISO weekdays, 1 = Monday … 7 = Sunday.
    pub days: Vec<i8>,
    /// `HH:MM`, start of the window.
    pub starts: String,
    /// `HH:MM`, end of the window.
    pub ends: String,
}

/// What the PRW and the service user agreed about reachability.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BoundariesRecord {
    pub windows: Vec<ContactWindowRecord>,
    pub channels: Vec<ContactMode>,
    pub max_contacts_per_week: Option<u32>,
    pub outside_hours_plan: Option<String>,
    pub review_on: Option<String>,
}

fn hh_mm(t: jiff::civil::Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

impl From<&model::Boundaries> for BoundariesRecord {
    fn from(b: &model::Boundaries) -> Self {
        Self {
            windows: b
                .windows
                .iter()
                .map(|w| ContactWindowRecord {
                    days: w.days.clone(),
                    starts: hh_mm(w.from),
                    ends: hh_mm(w.to),
                })
                .collect(),
            channels: from_core(&b.channels),
            max_contacts_per_week: b.max_contacts_per_week,
            outside_hours_plan: b.outside_hours_plan.clone(),
            review_on: b.review_on.map(|d| d.to_string()),
        }
    }
}

/// One logged contact.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContactRecord {
    pub contact_id: String,
    /// Start, Unix milliseconds UTC.
    pub at: i64,
    /// Offset from UTC where the contact took place, in minutes (for showing local time).
    pub tz_offset_min: i32,
    pub minutes: u32,
    pub mode: ContactMode,
    pub initiated_by: Initiator,
    pub topics: Vec<LifeArea>,
    pub support_types: Vec<SupportType>,
    pub note: String,
    pub flag_for_guidance: bool,
    /// The device that logged it.
    pub logged_by: String,
    pub logged_at: i64,
}

impl From<&model::Contact> for ContactRecord {
    fn from(c: &model::Contact) -> Self {
        Self {
            contact_id: c.id.to_string(),
            at: c.at,
            tz_offset_min: c.tz_offset_min,
            minutes: c.minutes,
            mode: c.mode.into(),
            initiated_by: c.initiated_by.into(),
            topics: from_core(&c.topics),
            support_types: from_core(&c.support_types),
            note: c.note.clone(),
            flag_for_guidance: c.flag_for_guidance,
            logged_by: c.logged_by.to_string(),
            logged_at: c.logged_at,
        }
    }
}

/// A plan goal with its steps.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GoalRecord {
    pub goal_id: String,
    pub area: LifeArea,
    /// In the service user's own words.
    pub text: String,
    pub status: GoalStatus,
    pub steps: Vec<StepRecord>,
    pub created_at: i64,
    pub review_on: Option<String>,
}

impl From<&model::Goal> for GoalRecord {
    fn from(g: &model::Goal) -> Self {
        Self {
            goal_id: g.id.to_string(),
            area: g.area.into(),
            text: g.text.clone(),
            status: g.status.into(),
            steps: g.steps.values().map(Into::into).collect(),
            created_at: g.created_at,
            review_on: g.review_on.map(|d| d.to_string()),
        }
    }
}

/// A step towards a goal.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StepRecord {
    pub step_id: String,
    pub text: String,
    pub done: bool,
}

impl From<&model::Step> for StepRecord {
    fn from(s: &model::Step) -> Self {
        Self {
            step_id: s.id.to_string(),
            text: s.text.clone(),
            done: s.done,
        }
    }
}

/// An agreement such as "tell me if you cancel".
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AgreementRecord {
    pub agreement_id: String,
    pub text: String,
    /// `YYYY-MM-DD`.
    pub since: String,
}

impl From<&model::Agreement> for AgreementRecord {
    fn from(a: &model::Agreement) -> Self {
        Self {
            agreement_id: a.id.to_string(),
            text: a.text.clone(),
            since: a.since.to_string(),
        }
    }
}

/// A contact to log.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewContact {
    /// Start, Unix milliseconds UTC.
    pub at: i64,
    pub tz_offset_min: i32,
    pub minutes: i64,
    pub mode: ContactMode,
    pub initiated_by: Initiator,
    pub topics: Vec<LifeArea>,
    pub support_types: Vec<SupportType>,
    pub note: String,
    pub flag_for_guidance: bool,
}

impl From<&NewContact> for document::NewContact {
    fn from(c: &NewContact) -> Self {
        Self {
            at: c.at,
            tz_offset_min: c.tz_offset_min,
            minutes: c.minutes,
            mode: c.mode.into(),
            initiated_by: c.initiated_by.into(),
            topics: to_core(&c.topics),
            support_types: to_core(&c.support_types),
            note: c.note.clone(),
            flag_for_guidance: c.flag_for_guidance,
        }
    }
}

/// Changes to a logged contact: only the fields that are set change.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct ContactPatch {
    #[uniffi(default = None)]
    pub at: Option<i64>,
    #[uniffi(default = None)]
    pub tz_offset_min: Option<i32>,
    #[uniffi(default = None)]
    pub minutes: Option<i64>,
    #[uniffi(default = None)]
    pub mode: Option<ContactMode>,
    #[uniffi(default = None)]
    pub initiated_by: Option<Initiator>,
    #[uniffi(default = None)]
    pub topics: Option<Vec<LifeArea>>,
    #[uniffi(default = None)]
    pub support_types: Option<Vec<SupportType>>,
    #[uniffi(default = None)]
    pub note: Option<String>,
    #[uniffi(default = None)]
    pub flag_for_guidance: Option<bool>,
}

impl From<&ContactPatch> for document::ContactPatch {
    fn from(p: &ContactPatch) -> Self {
        Self {
            at: p.at,
            tz_offset_min: p.tz_offset_min,
            minutes: p.minutes,
            mode: p.mode.map(Into::into),
            initiated_by: p.initiated_by.map(Into::into),
            topics: p.topics.as_deref().map(to_core),
            support_types: p.support_types.as_deref().map(to_core),
            note: p.note.clone(),
            flag_for_guidance: p.flag_for_guidance,
        }
    }
}

/// What enrolment bound to this device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrolmentInfo {
    pub device_id: String,
    pub user_id: String,
    /// `prw`, `coordinator` or `admin`.
    pub role: String,
}

impl From<&peerlog_core::net::Enrolment> for EnrolmentInfo {
    fn from(e: &peerlog_core::net::Enrolment) -> Self {
        Self {
            device_id: e.device_id.to_string(),
            user_id: e.user_id.to_string(),
            role: e.role.clone(),
        }
    }
}
