//! The coordinator's team overview: each PRW's current week and the signals worth a guidance talk.
//!
//! Signals are prompts for a conversation in guidance, never scores or alarms; the PRW sees the
//! same signals about their own work.

use std::collections::BTreeMap;

use jiff::civil::Date;

use crate::ids::{CaseId, ContactId, GoalId, UserId};
use crate::model::{Case, CaseStatus, Contact, GoalStatus, UnixMillis};
use crate::settings::OrgSettings;

use super::prw::{LimitSource, PrwWeek, days_from, last_contact_at, prw_week_of_sorted};
use super::week::{IsoWeek, days_between, local_datetime, week_of};

const DAY_MS: i64 = 86_400_000;

/// Something in a PRW's work worth bringing up in guidance.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// The service user initiated more contacts in `week` than the case agrees (or, with no
    /// agreement, than the organisation's default).
    AboveAgreedContacts {
        prw: UserId,
        case: CaseId,
        week: IsoWeek,
        count: u32,
        max: u32,
        source: LimitSource,
    },
    /// At least `outside_hours_share` of the PRW's contacts in `week` were outside office hours.
    ManyOutsideHours {
        prw: UserId,
        week: IsoWeek,
        share: f64,
        outside: u32,
        contacts: u32,
    },
    /// At least `late_night_contacts` of the PRW's contacts in `week` started in the late night.
    RepeatedLateNight {
        prw: UserId,
        week: IsoWeek,
        count: u32,
    },
    /// An active case has had no contact for `days` calendar days (since its last contact, or
    /// since it started if it has none).
    NoContactFor {
        prw: UserId,
        case: CaseId,
        days: u32,
        last_contact_at: Option<UnixMillis>,
    },
    /// A review date has passed: of the boundaries agreement (`goal: None`) or of an open or
    /// active goal.
    PlanReviewOverdue {
        prw: UserId,
        case: CaseId,
        goal: Option<GoalId>,
        since: Date,
        days: u32,
    },
    /// A contact the PRW flagged to talk about in guidance (within `guidance_lookback_days`).
    FlaggedForGuidance {
        prw: UserId,
        case: CaseId,
        contact: ContactId,
        at: UnixMillis,
    },
}

impl Signal {
    /// The PRW whose work the signal is about.
    pub fn prw(&self) -> &UserId {
        match self {
            Signal::AboveAgreedContacts { prw, .. }
            | Signal::ManyOutsideHours { prw, .. }
            | Signal::RepeatedLateNight { prw, .. }
            | Signal::NoContactFor { prw, .. }
            | Signal::PlanReviewOverdue { prw, .. }
            | Signal::FlaggedForGuidance { prw, .. } => prw,
        }
    }

    /// The case the signal is about, if it is about one case.
    pub fn case(&self) -> Option<&CaseId> {
        match self {
            Signal::AboveAgreedContacts { case, .. }
            | Signal::NoContactFor { case, .. }
            | Signal::PlanReviewOverdue { case, .. }
            | Signal::FlaggedForGuidance { case, .. } => Some(case),
            Signal::ManyOutsideHours { .. } | Signal::RepeatedLateNight { .. } => None,
        }
    }
}

/// The team overview at `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamSignals {
    /// The current week (the one `now` is in).
    pub week: IsoWeek,
    /// Each PRW with a case among the input, by user id, for the current week.
    pub prws: Vec<PrwWeek>,
    /// Per PRW (by user id): contacts above agreed, outside hours, late night, no contact, review
    /// overdue, flagged for guidance.
    pub signals: Vec<Signal>,
}

/// Each PRW's current week and the signals, over a team's cases. Week-based signals look at the
/// current week and the one before it, so a coordinator reading on a Monday still sees last week.
pub fn team_signals<'a>(
    cases: impl IntoIterator<Item = &'a Case>,
    settings: &OrgSettings,
    now: UnixMillis,
) -> TeamSignals {
    let mut by_prw: BTreeMap<&UserId, Vec<&Case>> = BTreeMap::new();
    for case in cases {
        by_prw.entry(&case.prw).or_default().push(case);
    }
    let week = week_of(now, settings);
    let mut out = TeamSignals {
        week,
        prws: Vec::with_capacity(by_prw.len()),
        signals: Vec::new(),
    };
    for (prw, mut cases) in by_prw {
        cases.sort_by_key(|c| c.id);
        let previous = week
            .previous()
            .map(|w| prw_week_of_sorted(&cases, prw, w, settings, now));
        let current = prw_week_of_sorted(&cases, prw, week, settings, now);
        let both: Vec<&PrwWeek> = previous.iter().chain([&current]).collect();
        week_signals(&both, settings, &mut out.signals);
        case_signals(&cases, settings, now, &mut out.signals);
        out.prws.push(current);
    }
    out
}

/// Signals from whole weeks: contacts above agreed, outside office hours, late night.
fn week_signals(weeks: &[&PrwWeek], settings: &OrgSettings, signals: &mut Vec<Signal>) {
    let th = settings.thresholds();
    for pw in weeks {
        for cw in pw.cases.iter().filter(|c| c.status != CaseStatus::Closed) {
            if cw.above_limit
                && let Some(limit) = cw.limit
            {
                signals.push(Signal::AboveAgreedContacts {
                    prw: pw.prw.clone(),
                    case: cw.case,
                    week: pw.week,
                    count: cw.totals.service_user_initiated,
                    max: limit.max,
                    source: limit.source,
                });
            }
        }
    }
    for pw in weeks {
        let t = &pw.totals;
        if let Some(share) = t.outside_office_hours_share
            && t.contacts >= th.outside_hours_min_contacts
            && share >= th.outside_hours_share
        {
            signals.push(Signal::ManyOutsideHours {
                prw: pw.prw.clone(),
                week: pw.week,
                share,
                outside: t.outside_office_hours,
                contacts: t.contacts,
            });
        }
    }
    for pw in weeks {
        if pw.totals.late_night >= th.late_night_contacts {
            signals.push(Signal::RepeatedLateNight {
                prw: pw.prw.clone(),
                week: pw.week,
                count: pw.totals.late_night,
            });
        }
    }
}

/// Signals from the state of each case at `now`: no contact, review overdue, flagged.
fn case_signals(
    cases: &[&Case],
    settings: &OrgSettings,
    now: UnixMillis,
    signals: &mut Vec<Signal>,
) {
    let th = settings.thresholds();
    let tz = settings.time_zone();
    let today = local_datetime(now, tz).date();
    for case in cases.iter().filter(|c| c.status == CaseStatus::Active) {
        let last_contact_at = last_contact_at(case, now);
        let days = match last_contact_at {
            Some(at) => Some(days_from(at, now, settings)),
            None => u32::try_from(days_between(case.started_on, today)).ok(),
        };
        if let Some(days) = days.filter(|d| *d >= th.no_contact_days) {
            signals.push(Signal::NoContactFor {
                prw: case.prw.clone(),
                case: case.id,
                days,
                last_contact_at,
            });
        }
    }

    let overdue = |since: Date| {
        let days = days_between(since, today);
        (days > 0).then(|| u32::try_from(days).unwrap_or(u32::MAX))
    };
    for case in cases.iter().filter(|c| c.status != CaseStatus::Closed) {
        if let Some(since) = case.boundaries.review_on
            && let Some(days) = overdue(since)
        {
            signals.push(Signal::PlanReviewOverdue {
                prw: case.prw.clone(),
                case: case.id,
                goal: None,
                since,
                days,
            });
        }
        for goal in case.plan.goals.values() {
            if matches!(goal.status, GoalStatus::Open | GoalStatus::Active)
                && let Some(since) = goal.review_on
                && let Some(days) = overdue(since)
            {
                signals.push(Signal::PlanReviewOverdue {
                    prw: case.prw.clone(),
                    case: case.id,
                    goal: Some(goal.id.clone()),
                    since,
                    days,
                });
            }
        }
    }

    let lookback = i64::from(th.guidance_lookback_days).saturating_mul(DAY_MS);
    let cutoff = now.saturating_sub(lookback);
    let mut flagged: Vec<(&Case, &Contact)> = cases
        .iter()
        .flat_map(|case| {
            case.live_contacts()
                .filter(|c| c.flag_for_guidance && c.at >= cutoff)
                .map(move |c| (*case, c))
        })
        .collect();
    // Stable: ties keep case order.
    flagged.sort_by_key(|(_, c)| c.at);
    signals.extend(
        flagged
            .into_iter()
            .map(|(case, c)| Signal::FlaggedForGuidance {
                prw: case.prw.clone(),
                case: case.id,
                contact: c.id.clone(),
                at: c.at,
            }),
    );
}

#[cfg(test)]
mod tests;
