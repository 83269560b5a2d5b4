//! The PRW's own week (core's `insights::prw_week`) as records: hours, evenings and weekends,
//! who initiated how often, each case against its agreed limit, and what is flagged for guidance.
//! Ids, counts and times only, like core's insights.

use peerlog_core::insights::{self, CaseWeek, PrwWeek, WeekTotals};

use crate::categories::{CaseStatus, ContactMode};

/// What a week's contacts add up to.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct WeekTotalsRecord {
    pub contacts: u32,
    pub minutes: u64,
    pub outside_office_hours: u32,
    /// `outside_office_hours / contacts`; `None` without contacts.
    pub outside_office_hours_share: Option<f64>,
    pub weekend: u32,
    /// `weekend / contacts`; `None` without contacts.
    pub weekend_share: Option<f64>,
    pub evening: u32,
    pub late_night: u32,
    pub service_user_initiated: u32,
    /// Contacts per mode (modes without contacts are left out).
    pub by_mode: Vec<ModeCount>,
}

/// How many contacts took place in one mode.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ModeCount {
    pub mode: ContactMode,
    pub contacts: u32,
}

impl From<&WeekTotals> for WeekTotalsRecord {
    fn from(t: &WeekTotals) -> Self {
        Self {
            contacts: t.contacts,
            minutes: t.minutes,
            outside_office_hours: t.outside_office_hours,
            outside_office_hours_share: t.outside_office_hours_share,
            weekend: t.weekend,
            weekend_share: t.weekend_share,
            evening: t.evening,
            late_night: t.late_night,
            service_user_initiated: t.service_user_initiated,
            by_mode: t
                .by_mode
                .iter()
                .map(|(mode, n)| ModeCount {
                    mode: (*mode).into(),
                    contacts: *n,
                })
                .collect(),
        }
    }
}

/// One case in the PRW's week.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CaseWeekRecord {
    pub case_id: String,
    pub status: CaseStatus,
    pub totals: WeekTotalsRecord,
    /// The weekly number of service-user-initiated contacts agreed (or the organisation's default).
    pub contact_limit: Option<u32>,
    pub above_limit: bool,
    pub last_contact_at: Option<i64>,
    pub days_since_last_contact: Option<u32>,
    /// Contacts of the week flagged for guidance, oldest first.
    pub flagged_contact_ids: Vec<String>,
}

impl From<&CaseWeek> for CaseWeekRecord {
    fn from(c: &CaseWeek) -> Self {
        Self {
            case_id: c.case.to_string(),
            status: c.status.into(),
            totals: (&c.totals).into(),
            contact_limit: c.limit.map(|l| l.max),
            above_limit: c.above_limit,
            last_contact_at: c.last_contact_at,
            days_since_last_contact: c.days_since_last_contact,
            flagged_contact_ids: c.flagged.iter().map(|f| f.contact.to_string()).collect(),
        }
    }
}

/// The PRW's own week, in the organisation's time zone (ISO week, Monday 00:00 to Monday 00:00).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MyWeek {
    pub iso_year: i16,
    pub iso_week: i8,
    pub starts_at: i64,
    pub ends_at: i64,
    /// Cases that are not closed.
    pub caseload: u32,
    pub totals: WeekTotalsRecord,
    pub cases: Vec<CaseWeekRecord>,
    /// Contacts flagged for guidance in the week, over all cases.
    pub flagged: u32,
}

impl From<&PrwWeek> for MyWeek {
    fn from(w: &PrwWeek) -> Self {
        Self {
            iso_year: w.week.year(),
            iso_week: w.week.week(),
            starts_at: w.bounds.start,
            ends_at: w.bounds.end,
            caseload: w.caseload,
            totals: (&w.totals).into(),
            cases: w.cases.iter().map(Into::into).collect(),
            flagged: u32::try_from(w.flagged().len()).unwrap_or(u32::MAX),
        }
    }
}

/// The ISO week `weeks_back` weeks before the one containing `now`.
pub(crate) fn week_back(
    now: i64,
    weeks_back: u32,
    settings: &peerlog_core::settings::OrgSettings,
) -> Option<insights::IsoWeek> {
    insights::week_of(now, settings).checked_add_weeks(-i64::from(weeks_back))
}
