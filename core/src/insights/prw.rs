//! One PRW's week (what the phone shows its PRW, and each row of the coordinator's overview) and
//! the week-by-week series behind "this week and the last four".

use crate::ids::{CaseId, ContactId, UserId};
use crate::model::{Case, CaseStatus, UnixMillis};
use crate::settings::OrgSettings;

use super::goals::{GoalsSummary, goals_summary};
use super::timing::classify;
use super::totals::WeekTotals;
use super::week::{IsoWeek, WeekBounds, days_between, local_datetime, week_bounds};

/// The longest series [`weekly_series`] computes (ten years of weeks).
pub const MAX_SERIES_WEEKS: u32 = 520;

/// A contact flagged "to talk about in guidance": where and when, never what was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlaggedContact {
    pub case: CaseId,
    pub contact: ContactId,
    pub at: UnixMillis,
}

/// Where a case's weekly number of service-user-initiated contacts comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitSource {
    /// `boundaries.max_contacts_per_week`, agreed in the case.
    Agreed,
    /// The organisation's `default_max_contacts_per_week`, as the case agrees none.
    OrgDefault,
}

/// The weekly number of contacts the service user may initiate before it is worth a talk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactLimit {
    pub max: u32,
    pub source: LimitSource,
}

impl ContactLimit {
    /// The limit that applies to a case, if any.
    pub fn for_case(case: &Case, settings: &OrgSettings) -> Option<Self> {
        match case.boundaries.max_contacts_per_week {
            Some(max) => Some(Self {
                max,
                source: LimitSource::Agreed,
            }),
            None => settings
                .thresholds()
                .default_max_contacts_per_week
                .map(|max| Self {
                    max,
                    source: LimitSource::OrgDefault,
                }),
        }
    }
}

/// One case in a PRW's week.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseWeek {
    pub case: CaseId,
    pub status: CaseStatus,
    /// The case's live contacts that started in the week.
    pub totals: WeekTotals,
    pub limit: Option<ContactLimit>,
    /// More contacts initiated by the service user this week than `limit.max`.
    pub above_limit: bool,
    /// The latest live contact at or before `now` (contacts dated after `now` are ignored here).
    pub last_contact_at: Option<UnixMillis>,
    /// Calendar days in the organisation's time zone from that contact to `now` (0 = today).
    pub days_since_last_contact: Option<u32>,
    /// Live contacts in the week flagged for guidance, oldest first.
    pub flagged: Vec<FlaggedContact>,
    pub goals: GoalsSummary,
}

/// A PRW's week: totals over their cases, and each case.
#[derive(Debug, Clone, PartialEq)]
pub struct PrwWeek {
    pub prw: UserId,
    pub week: IsoWeek,
    pub bounds: WeekBounds,
    /// Cases assigned to the PRW that are not closed.
    pub caseload: u32,
    /// The sum of `cases[..].totals`.
    pub totals: WeekTotals,
    /// The PRW's cases that are not closed, and closed ones with contacts in the week; by case id.
    pub cases: Vec<CaseWeek>,
    /// Goals of the cases that are not closed.
    pub goals: GoalsSummary,
}

impl PrwWeek {
    /// Every flagged contact of the week, oldest first.
    pub fn flagged(&self) -> Vec<&FlaggedContact> {
        let mut all: Vec<&FlaggedContact> = self.cases.iter().flat_map(|c| &c.flagged).collect();
        all.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.case.cmp(&b.case)));
        all
    }

    /// Cases whose service user initiated more contacts than agreed this week.
    pub fn cases_above_limit(&self) -> impl Iterator<Item = &CaseWeek> {
        self.cases.iter().filter(|c| c.above_limit)
    }
}

/// One point of a weekly series.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekPoint {
    pub week: IsoWeek,
    pub bounds: WeekBounds,
    pub totals: WeekTotals,
}

/// The week of one PRW: every case assigned to `prw` among `cases`, counted in `week` by the
/// organisation's clock. `now` is used only for "days since last contact".
pub fn prw_week<'a>(
    cases: impl IntoIterator<Item = &'a Case>,
    prw: &UserId,
    week: IsoWeek,
    settings: &OrgSettings,
    now: UnixMillis,
) -> PrwWeek {
    let mut mine: Vec<&Case> = cases.into_iter().filter(|c| &c.prw == prw).collect();
    mine.sort_by_key(|c| c.id);
    prw_week_of_sorted(&mine, prw, week, settings, now)
}

/// [`prw_week`] over cases already chosen for `prw` and sorted by id.
pub(crate) fn prw_week_of_sorted(
    mine: &[&Case],
    prw: &UserId,
    week: IsoWeek,
    settings: &OrgSettings,
    now: UnixMillis,
) -> PrwWeek {
    let bounds = week_bounds(week, settings);
    let mut out = PrwWeek {
        prw: prw.clone(),
        week,
        bounds,
        caseload: 0,
        totals: WeekTotals::default(),
        cases: Vec::new(),
        goals: GoalsSummary::default(),
    };
    for case in mine {
        let open = case.status != CaseStatus::Closed;
        let cw = case_week(case, bounds, settings, now);
        if open {
            out.caseload = out.caseload.saturating_add(1);
            out.goals.merge(&cw.goals);
        }
        if open || cw.totals.contacts > 0 {
            out.totals.merge(&cw.totals);
            out.cases.push(cw);
        }
    }
    out
}

/// One case in the week given by `bounds`.
pub(crate) fn case_week(
    case: &Case,
    bounds: WeekBounds,
    settings: &OrgSettings,
    now: UnixMillis,
) -> CaseWeek {
    let mut totals = WeekTotals::default();
    let mut flagged = Vec::new();
    for contact in case.live_contacts().filter(|c| bounds.contains(c.at)) {
        totals.add(contact, &classify(contact.at, settings));
        if contact.flag_for_guidance {
            flagged.push(FlaggedContact {
                case: case.id,
                contact: contact.id.clone(),
                at: contact.at,
            });
        }
    }
    let limit = ContactLimit::for_case(case, settings);
    let last_contact_at = last_contact_at(case, now);
    CaseWeek {
        case: case.id,
        status: case.status,
        above_limit: limit.is_some_and(|l| totals.service_user_initiated > l.max),
        limit,
        totals,
        last_contact_at,
        days_since_last_contact: last_contact_at.map(|at| days_from(at, now, settings)),
        flagged,
        goals: goals_summary(case),
    }
}

/// The latest live contact at or before `now`.
pub(crate) fn last_contact_at(case: &Case, now: UnixMillis) -> Option<UnixMillis> {
    case.contacts
        .values()
        .filter(|c| !c.deleted && c.at <= now)
        .map(|c| c.at)
        .max()
}

/// Calendar days in the organisation's time zone from `at` to `now`, at least 0.
pub(crate) fn days_from(at: UnixMillis, now: UnixMillis, settings: &OrgSettings) -> u32 {
    let tz = settings.time_zone();
    let days = days_between(
        local_datetime(at, tz).date(),
        local_datetime(now, tz).date(),
    );
    u32::try_from(days.max(0)).unwrap_or(u32::MAX)
}

/// Contacts and time of `prw` per week, for `n_weeks` weeks starting with `from_week` (at most
/// [`MAX_SERIES_WEEKS`], and never past the last representable week).
pub fn weekly_series<'a>(
    cases: impl IntoIterator<Item = &'a Case>,
    prw: &UserId,
    from_week: IsoWeek,
    n_weeks: u32,
    settings: &OrgSettings,
) -> Vec<WeekPoint> {
    let mut points: Vec<WeekPoint> = Vec::new();
    let mut week = Some(from_week);
    for _ in 0..n_weeks.min(MAX_SERIES_WEEKS) {
        let Some(w) = week else { break };
        points.push(WeekPoint {
            week: w,
            bounds: week_bounds(w, settings),
            totals: WeekTotals::default(),
        });
        week = w.next();
    }
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return points;
    };
    let span = WeekBounds {
        start: first.bounds.start,
        end: last.bounds.end,
    };
    for case in cases.into_iter().filter(|c| &c.prw == prw) {
        for contact in case.live_contacts().filter(|c| span.contains(c.at)) {
            // The week whose start is the last one at or before the contact.
            let i = points
                .partition_point(|p| p.bounds.start <= contact.at)
                .saturating_sub(1);
            if let Some(point) = points.get_mut(i) {
                point.totals.add(contact, &classify(contact.at, settings));
            }
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::testutil::{CaseBuilder, contact, ms, oslo, user};
    use crate::insights::week::week_of;
    use crate::model::{ContactMode, Initiator};

    fn w(s: &str) -> IsoWeek {
        s.parse().unwrap()
    }

    #[test]
    fn a_week_counts_hours_outside_office_weekends_and_evenings() {
        let s = oslo();
        // 2026-W24: Monday 2026-06-08 … Sunday 2026-06-14 (CEST, UTC+2).
        let case = CaseBuilder::new(1, "prw-a")
            .contact(contact(1, "2026-06-08T08:00:00Z", 60)) // Mon 10:00, office
            .contact(contact(2, "2026-06-09T17:00:00Z", 30)) // Tue 19:00, evening
            .contact(contact(3, "2026-06-10T21:30:00Z", 15)) // Wed 23:30, late night
            .contact(contact(4, "2026-06-13T10:00:00Z", 120)) // Sat 12:00, weekend
            .contact(contact(5, "2026-06-14T21:59:00Z", 5)) // Sun 23:59, weekend late night
            .contact(contact(6, "2026-06-14T22:00:00Z", 45)) // Mon 00:00 of the next week
            .build();
        let week = prw_week(
            [&case],
            &user("prw-a"),
            w("2026-W24"),
            &s,
            ms("2026-06-15T12:00:00Z"),
        );
        let t = &week.totals;
        assert_eq!(t.contacts, 5);
        assert_eq!(t.minutes, 230);
        assert!((t.hours() - 230.0 / 60.0).abs() < 1e-9);
        assert_eq!(t.outside_office_hours, 4);
        assert_eq!(t.outside_office_hours_share, Some(0.8));
        assert_eq!(t.weekend, 2);
        assert_eq!(t.weekend_share, Some(0.4));
        assert_eq!(t.evening, 1);
        assert_eq!(t.late_night, 2);
        assert_eq!(t.by_mode.get(&ContactMode::Meeting), Some(&5));
        assert_eq!(week.caseload, 1);
        assert_eq!(week.cases.len(), 1);
        assert_eq!(week.cases[0].totals, *t);
        assert_eq!(
            week.cases[0].last_contact_at,
            Some(ms("2026-06-14T22:00:00Z"))
        );
        assert_eq!(week.cases[0].days_since_last_contact, Some(0));
    }

    #[test]
    fn deleted_contacts_and_other_prws_cases_are_ignored() {
        let s = oslo();
        let mut gone = contact(2, "2026-06-09T08:00:00Z", 600);
        gone.deleted = true;
        gone.flag_for_guidance = true;
        let mine = CaseBuilder::new(1, "prw-a")
            .contact(contact(1, "2026-06-08T08:00:00Z", 60))
            .contact(gone)
            .build();
        let theirs = CaseBuilder::new(2, "prw-b")
            .contact(contact(3, "2026-06-08T08:00:00Z", 60))
            .build();
        let week = prw_week(
            &[mine, theirs],
            &user("prw-a"),
            w("2026-W24"),
            &s,
            ms("2026-06-20T12:00:00Z"),
        );
        assert_eq!(week.totals.contacts, 1);
        assert_eq!(week.totals.minutes, 60);
        assert!(week.flagged().is_empty());
        assert_eq!(week.cases.len(), 1);
        assert_eq!(week.cases[0].days_since_last_contact, Some(12));
    }

    #[test]
    fn service_user_initiated_contacts_above_the_agreed_max_are_flagged() {
        let s = oslo();
        let by_user = |n, at| {
            let mut c = contact(n, at, 10);
            c.initiated_by = Initiator::ServiceUser;
            c
        };
        let case = CaseBuilder::new(1, "prw-a")
            .max_per_week(2)
            .contact(by_user(1, "2026-06-08T08:00:00Z"))
            .contact(by_user(2, "2026-06-09T08:00:00Z"))
            .contact(contact(3, "2026-06-10T08:00:00Z", 10))
            .build();
        let now = ms("2026-06-12T12:00:00Z");
        let at_max = prw_week([&case], &user("prw-a"), w("2026-W24"), &s, now);
        assert_eq!(at_max.cases[0].totals.service_user_initiated, 2);
        assert!(
            !at_max.cases[0].above_limit,
            "at the agreed number is not above it"
        );

        let case = CaseBuilder::from(case)
            .contact(by_user(4, "2026-06-11T08:00:00Z"))
            .build();
        let above = prw_week([&case], &user("prw-a"), w("2026-W24"), &s, now);
        let cw = &above.cases[0];
        assert!(cw.above_limit);
        assert_eq!(
            cw.limit,
            Some(ContactLimit {
                max: 2,
                source: LimitSource::Agreed
            })
        );
        assert_eq!(above.cases_above_limit().count(), 1);
    }

    #[test]
    fn flagged_contacts_carry_ids_and_times_only() {
        let s = oslo();
        let mut flagged = contact(7, "2026-06-09T08:00:00Z", 10);
        flagged.flag_for_guidance = true;
        flagged.note = "private words".to_owned();
        let case = CaseBuilder::new(1, "prw-a").contact(flagged).build();
        let week = prw_week(
            [&case],
            &user("prw-a"),
            w("2026-W24"),
            &s,
            ms("2026-06-12T00:00:00Z"),
        );
        let f = week.flagged();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].at, ms("2026-06-09T08:00:00Z"));
        assert_eq!(f[0].case, case.id);
        assert!(!format!("{week:?}").contains("private"));
    }

    #[test]
    fn closed_cases_count_only_in_weeks_they_had_contacts() {
        let s = oslo();
        let closed = CaseBuilder::new(1, "prw-a")
            .status(CaseStatus::Closed)
            .contact(contact(1, "2026-06-08T08:00:00Z", 30))
            .build();
        let open = CaseBuilder::new(2, "prw-a").build();
        let now = ms("2026-06-20T00:00:00Z");
        let cases = [closed, open];
        let with = prw_week(&cases, &user("prw-a"), w("2026-W24"), &s, now);
        assert_eq!(
            (with.caseload, with.cases.len(), with.totals.contacts),
            (1, 2, 1)
        );
        let without = prw_week(&cases, &user("prw-a"), w("2026-W25"), &s, now);
        assert_eq!((without.caseload, without.cases.len()), (1, 1));
    }

    #[test]
    fn empty_inputs_give_zeroes_and_no_shares() {
        let s = oslo();
        let none: [Case; 0] = [];
        let week = prw_week(&none, &user("prw-a"), w("2026-W24"), &s, 0);
        assert_eq!(week.totals, WeekTotals::default());
        assert_eq!(week.totals.outside_office_hours_share, None);
        assert_eq!(week.totals.weekend_share, None);
        assert_eq!(week.caseload, 0);
        let idle = CaseBuilder::new(1, "prw-a").build();
        let week = prw_week([&idle], &user("prw-a"), w("2026-W24"), &s, 0);
        assert_eq!(week.cases[0].days_since_last_contact, None);
        assert_eq!(week.totals.outside_office_hours_share, None);
        assert!(weekly_series(&none, &user("prw-a"), w("2026-W24"), 0, &s).is_empty());
    }

    #[test]
    fn the_series_puts_each_contact_in_its_local_week() {
        let s = oslo();
        let case = CaseBuilder::new(1, "prw-a")
            // Sunday 23:30 local (22:30 UTC) and Monday 00:30 local (Sunday 23:30 UTC).
            .contact(contact(1, "2026-03-22T22:30:00Z", 10))
            .contact(contact(2, "2026-03-22T23:30:00Z", 20))
            // Either side of the spring change, same week (W13).
            .contact(contact(3, "2026-03-29T00:30:00Z", 30))
            .contact(contact(4, "2026-03-29T01:30:00Z", 40))
            // Sunday 23:30 CEST right after the change: still W13.
            .contact(contact(5, "2026-03-29T21:30:00Z", 50))
            .contact(contact(6, "2026-04-20T10:00:00Z", 60))
            .build();
        let now_week = week_of(ms("2026-04-22T10:00:00Z"), &s);
        let from = now_week.checked_add_weeks(-4).unwrap();
        let series = weekly_series([&case], &user("prw-a"), from, 5, &s);
        let got: Vec<(String, u32, u64)> = series
            .iter()
            .map(|p| (p.week.to_string(), p.totals.contacts, p.totals.minutes))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2026-W13".to_owned(), 4, 140),
                ("2026-W14".to_owned(), 0, 0),
                ("2026-W15".to_owned(), 0, 0),
                ("2026-W16".to_owned(), 0, 0),
                ("2026-W17".to_owned(), 1, 60),
            ]
        );
        let before = weekly_series([&case], &user("prw-a"), w("2026-W12"), 1, &s);
        assert_eq!(before[0].totals.contacts, 1);
        assert_eq!(series[0].bounds.hours(), 167);
        let capped = weekly_series([&case], &user("prw-a"), from, u32::MAX, &s);
        assert_eq!(capped.len(), MAX_SERIES_WEEKS as usize);
        // Each point equals the PRW week for that week.
        for p in &series {
            let pw = prw_week([&case], &user("prw-a"), p.week, &s, 0);
            assert_eq!(pw.totals, p.totals);
        }
    }
}
