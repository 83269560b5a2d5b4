//! Test helpers: build cases and contacts directly, without a document.

use jiff::civil::{Date, date};

use crate::ids::{CaseId, EntryId, UserId};
use crate::model::{
    Boundaries, Case, CaseStatus, Contact, ContactMode, Goal, GoalStatus, Initiator, LifeArea,
    Plan, ServiceUser, UnixMillis,
};
use crate::settings::OrgSettings;

pub(crate) fn oslo() -> OrgSettings {
    OrgSettings::norway_default()
}

/// An RFC 3339 instant as Unix milliseconds.
pub(crate) fn ms(rfc3339: &str) -> UnixMillis {
    rfc3339
        .parse::<jiff::Timestamp>()
        .expect("test timestamp")
        .as_millisecond()
}

pub(crate) fn user(id: &str) -> UserId {
    id.parse().expect("test user id")
}

pub(crate) fn entry(n: u64) -> EntryId {
    format!("{n:016x}").parse().expect("test entry id")
}

pub(crate) fn case_id(n: u8) -> CaseId {
    CaseId::from_bytes([n; 16])
}

/// A PRW-initiated meeting, not flagged, not deleted.
pub(crate) fn contact(n: u64, at: &str, minutes: u32) -> Contact {
    contact_at(n, ms(at), minutes)
}

pub(crate) fn contact_at(n: u64, at: UnixMillis, minutes: u32) -> Contact {
    Contact {
        id: entry(n),
        at,
        tz_offset_min: 0,
        minutes,
        mode: ContactMode::Meeting,
        initiated_by: Initiator::Prw,
        topics: vec![LifeArea::Housing],
        support_types: Vec::new(),
        note: "a note that must never appear in insights".to_owned(),
        flag_for_guidance: false,
        logged_by: "device-1".parse().expect("device id"),
        logged_at: at,
        deleted: false,
    }
}

pub(crate) fn goal(n: u64, area: LifeArea, status: GoalStatus, review_on: Option<Date>) -> Goal {
    Goal {
        id: entry(n),
        area,
        text: "goal text that must never appear in insights".to_owned(),
        steps: Default::default(),
        status,
        created_at: 0,
        review_on,
    }
}

/// Builds a [`Case`] for tests: active, started 2025-01-01, no contacts or goals.
#[derive(Debug)]
pub(crate) struct CaseBuilder(Case);

impl From<Case> for CaseBuilder {
    fn from(case: Case) -> Self {
        Self(case)
    }
}

impl CaseBuilder {
    pub(crate) fn new(n: u8, prw: &str) -> Self {
        Self(Case {
            id: case_id(n),
            schema: 1,
            team: "team-1".parse().expect("team id"),
            prw: user(prw),
            service_user: ServiceUser {
                alias: "SECRET-ALIAS".to_owned(),
                birth_year: Some(1990),
                interests: Vec::new(),
                background: Vec::new(),
            },
            started_on: date(2025, 1, 1),
            planned_end: date(2027, 1, 1),
            status: CaseStatus::Active,
            closed_reason: None,
            boundaries: Boundaries::default(),
            contacts: Default::default(),
            plan: Plan::default(),
            unreadable_entries: 0,
        })
    }

    pub(crate) fn contact(mut self, c: Contact) -> Self {
        self.0.contacts.insert(c.id.clone(), c);
        self
    }

    pub(crate) fn goal(mut self, g: Goal) -> Self {
        self.0.plan.goals.insert(g.id.clone(), g);
        self
    }

    pub(crate) fn status(mut self, status: CaseStatus) -> Self {
        self.0.status = status;
        self
    }

    pub(crate) fn started_on(mut self, d: Date) -> Self {
        self.0.started_on = d;
        self
    }

    pub(crate) fn max_per_week(mut self, max: u32) -> Self {
        self.0.boundaries.max_contacts_per_week = Some(max);
        self
    }

    pub(crate) fn review_on(mut self, d: Date) -> Self {
        self.0.boundaries.review_on = Some(d);
        self
    }

    pub(crate) fn build(self) -> Case {
        self.0
    }
}
