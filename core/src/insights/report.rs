//! Monthly and yearly reports for funders: how many service users were followed, how many cases
//! started and closed, and what the contacts added up to, over a calendar month or year.
//!
//! Periods are calendar months and years in the organisation's time zone, DST included: a month
//! runs from local midnight on its first day to local midnight on the first day of the next month
//! (so March in Oslo is 743 hours long and October 745). Contacts are classified with
//! [`classify`], so outside-office-hours and weekend counts agree with the team overview. Only
//! live (not deleted) contacts count. A report holds periods, counts and categories, never notes,
//! aliases or other free text.
//!
//! Nothing here reads a clock, touches IO or panics on any input; counts saturate instead of
//! overflowing.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::Date;

use crate::model::{Case, ContactMode, LifeArea, SupportType, UnixMillis};
use crate::settings::OrgSettings;

use super::timing::classify;
use super::totals::{WeekTotals, share};
use super::week::start_of_day_ms;

/// Why a text or a number pair is not a report period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Neither `YYYY` nor `YYYY-MM`.
    #[error("not a report period (expected YYYY-MM or YYYY)")]
    Malformed,
    /// A year outside [`Period::MIN_YEAR`]..=[`Period::MAX_YEAR`].
    #[error("year {year} is outside 2000 to 2100")]
    YearOutOfRange { year: i16 },
    /// A month outside 1..=12.
    #[error("month {month} is not between 1 and 12")]
    MonthOutOfRange { month: i8 },
}

/// A calendar month or year in the organisation's time zone, the span a report covers.
///
/// Build one with [`Period::parse`], [`Period::month`] or [`Period::year`], which check the
/// ranges (years [`Period::MIN_YEAR`] to [`Period::MAX_YEAR`], months 1 to 12). The variants are
/// public for matching; a period built by hand with values outside those ranges is treated as the
/// nearest valid one by every method (and by [`report`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// Month `month` (1 = January) of `year`.
    Month { year: i16, month: i8 },
    /// The whole calendar year.
    Year { year: i16 },
}

impl Period {
    /// The earliest year a period may lie in.
    pub const MIN_YEAR: i16 = 2000;
    /// The latest year a period may lie in.
    pub const MAX_YEAR: i16 = 2100;

    /// Month `month` (1 to 12) of `year`.
    pub fn month(year: i16, month: i8) -> Result<Period, PeriodError> {
        check_year(year)?;
        if !(1..=12).contains(&month) {
            return Err(PeriodError::MonthOutOfRange { month });
        }
        Ok(Period::Month { year, month })
    }

    /// The calendar year `year`.
    pub fn year(year: i16) -> Result<Period, PeriodError> {
        check_year(year)?;
        Ok(Period::Year { year })
    }

    /// Parses `2026-03` (a month) or `2026` (a year): four ASCII digits, optionally a hyphen and
    /// two more. Anything else is an error, never a panic.
    pub fn parse(s: &str) -> Result<Period, PeriodError> {
        let digits = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
        let (year, month) = match s.split_once('-') {
            Some((year, month)) => (year, Some(month)),
            None => (s, None),
        };
        if !digits(year, 4) || month.is_some_and(|m| !digits(m, 2)) {
            return Err(PeriodError::Malformed);
        }
        let year: i16 = year.parse().map_err(|_| PeriodError::Malformed)?;
        match month {
            Some(month) => {
                let month: i8 = month.parse().map_err(|_| PeriodError::Malformed)?;
                Period::month(year, month)
            }
            None => Period::year(year),
        }
    }

    /// The period as text: `2026-03` or `2026`. [`Period::parse`] reads it back.
    pub fn label(&self) -> String {
        match self.clamped() {
            Period::Month { year, month } => format!("{year:04}-{month:02}"),
            Period::Year { year } => format!("{year:04}"),
        }
    }

    /// The twelve months of `year`, January first (the year clamped to the supported range).
    pub fn months(year: i16) -> Vec<Period> {
        let year = clamp_year(year);
        (1..=12)
            .map(|month| Period::Month { year, month })
            .collect()
    }

    /// The first calendar day of the period.
    pub fn first_day(&self) -> Date {
        match self.clamped() {
            Period::Month { year, month } => first_of_month(year, month),
            Period::Year { year } => first_of_month(year, 1),
        }
    }

    /// The last calendar day of the period.
    pub fn last_day(&self) -> Date {
        match self.clamped() {
            Period::Month { .. } => self.first_day().last_of_month(),
            Period::Year { year } => first_of_month(year, 12).last_of_month(),
        }
    }

    /// Whether a calendar date lies in the period.
    pub fn contains_date(&self, date: Date) -> bool {
        self.first_day() <= date && date <= self.last_day()
    }

    /// The instants the period spans in the organisation's time zone, as UTC milliseconds:
    /// `[start, end)` from local midnight on the first day to local midnight on the first day of
    /// the next period.
    pub fn bounds(&self, settings: &OrgSettings) -> (UnixMillis, UnixMillis) {
        let tz = settings.time_zone();
        let start = start_of_day_ms(self.first_day(), tz);
        let end = self.last_day().tomorrow().map_or_else(
            |_| Timestamp::MAX.as_millisecond(),
            |next| start_of_day_ms(next, tz),
        );
        (start, end)
    }

    /// The same period with its year and month moved into the supported ranges.
    fn clamped(self) -> Period {
        match self {
            Period::Month { year, month } => Period::Month {
                year: clamp_year(year),
                month: month.clamp(1, 12),
            },
            Period::Year { year } => Period::Year {
                year: clamp_year(year),
            },
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    /// Parses `2026-03` or `2026` (see [`Period::parse`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

fn check_year(year: i16) -> Result<(), PeriodError> {
    if (Period::MIN_YEAR..=Period::MAX_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(PeriodError::YearOutOfRange { year })
    }
}

fn clamp_year(year: i16) -> i16 {
    year.clamp(Period::MIN_YEAR, Period::MAX_YEAR)
}

/// The first day of a month; year and month are already within the supported ranges, so the
/// fallback is never taken.
fn first_of_month(year: i16, month: i8) -> Date {
    Date::new(year, month, 1).unwrap_or(Date::MIN)
}

/// A case as a report sees it: the case and, if the relay has closed it, when.
#[derive(Debug, Clone, Copy)]
pub struct ReportCase<'a> {
    pub case: &'a Case,
    /// When the case was closed (from the relay's case table); `None` while it is open.
    pub closed_at: Option<UnixMillis>,
}

/// What a period adds up to across the cases given. Categories without contacts are left out of
/// the maps.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub period: Period,
    /// Cases active at some time in the period: started on or before its last day, and not closed
    /// before its start (a case closed during the period counts).
    pub service_users_followed: u32,
    /// Cases whose `started_on` lies in the period.
    pub new_cases: u32,
    /// Cases whose `closed_at` lies in the period.
    pub closed_cases: u32,
    /// Live contacts that started in the period.
    pub contacts: u32,
    pub minutes: u64,
    pub outside_office_hours: u32,
    /// `outside_office_hours / contacts`; `None` when there are no contacts.
    pub outside_office_hours_share: Option<f64>,
    /// Contacts on a local Saturday or Sunday.
    pub weekend: u32,
    pub service_user_initiated: u32,
    /// Contacts where the PRW accompanied the service user ([`ContactMode::Accompany`]).
    pub accompaniments: u32,
    pub by_mode: BTreeMap<ContactMode, u32>,
    /// Contacts per topic; a contact with several topics counts once for each.
    pub by_topic: BTreeMap<LifeArea, u32>,
    /// Contacts per type of support; a contact with several types counts once for each.
    pub by_support: BTreeMap<SupportType, u32>,
}

impl Report {
    /// An empty report: nothing followed, no contacts.
    pub fn empty(period: Period) -> Self {
        Self {
            period: period.clamped(),
            service_users_followed: 0,
            new_cases: 0,
            closed_cases: 0,
            contacts: 0,
            minutes: 0,
            outside_office_hours: 0,
            outside_office_hours_share: None,
            weekend: 0,
            service_user_initiated: 0,
            accompaniments: 0,
            by_mode: BTreeMap::new(),
            by_topic: BTreeMap::new(),
            by_support: BTreeMap::new(),
        }
    }

    /// Total contact time in hours.
    pub fn hours(&self) -> f64 {
        self.minutes as f64 / 60.0
    }
}

/// The report for `period` over `cases` (each case once), in the organisation's time zone.
pub fn report<'a>(
    cases: impl IntoIterator<Item = ReportCase<'a>>,
    period: Period,
    settings: &OrgSettings,
) -> Report {
    let period = period.clamped();
    let (start, end) = period.bounds(settings);
    let last_day = period.last_day();
    let mut out = Report::empty(period);
    let mut totals = WeekTotals::default();
    let bump = |n: &mut u32| *n = n.saturating_add(1);

    for ReportCase { case, closed_at } in cases {
        if case.started_on <= last_day && closed_at.is_none_or(|at| at >= start) {
            bump(&mut out.service_users_followed);
        }
        if period.contains_date(case.started_on) {
            bump(&mut out.new_cases);
        }
        if closed_at.is_some_and(|at| start <= at && at < end) {
            bump(&mut out.closed_cases);
        }
        for contact in case.contacts.values() {
            if contact.deleted || contact.at < start || contact.at >= end {
                continue;
            }
            totals.add(contact, &classify(contact.at, settings));
            if contact.mode == ContactMode::Accompany {
                bump(&mut out.accompaniments);
            }
            count_distinct(&mut out.by_topic, &contact.topics);
            count_distinct(&mut out.by_support, &contact.support_types);
        }
    }

    out.contacts = totals.contacts;
    out.minutes = totals.minutes;
    out.outside_office_hours = totals.outside_office_hours;
    out.outside_office_hours_share = share(totals.outside_office_hours, totals.contacts);
    out.weekend = totals.weekend;
    out.service_user_initiated = totals.service_user_initiated;
    out.by_mode = totals.by_mode;
    out
}

/// Adds one to the count of each distinct item (a repeated item counts once).
fn count_distinct<T: Copy + Ord>(counts: &mut BTreeMap<T, u32>, items: &[T]) {
    for (i, item) in items.iter().enumerate() {
        if items[..i].contains(item) {
            continue;
        }
        let n = counts.entry(*item).or_insert(0);
        *n = n.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;
    use crate::insights::testutil::{CaseBuilder, contact, contact_at, ms, oslo};
    use crate::model::{Contact, Initiator};
    use crate::settings::{OfficeHours, SignalThresholds};

    fn march() -> Period {
        Period::month(2026, 3).unwrap()
    }

    fn one_case(contacts: impl IntoIterator<Item = Contact>) -> Case {
        contacts
            .into_iter()
            .fold(CaseBuilder::new(1, "prw-1"), CaseBuilder::contact)
            .build()
    }

    fn open(case: &Case) -> ReportCase<'_> {
        ReportCase {
            case,
            closed_at: None,
        }
    }

    fn report_of(case: &Case, period: Period, settings: &OrgSettings) -> Report {
        report([open(case)], period, settings)
    }

    #[test]
    fn periods_parse_print_and_list() {
        assert_eq!(
            Period::parse("2026-03"),
            Ok(Period::Month {
                year: 2026,
                month: 3
            })
        );
        assert_eq!(Period::parse("2026"), Ok(Period::Year { year: 2026 }));
        assert_eq!(
            "2000-01".parse(),
            Ok(Period::Month {
                year: 2000,
                month: 1
            })
        );
        assert_eq!(
            "2100-12".parse(),
            Ok(Period::Month {
                year: 2100,
                month: 12
            })
        );
        for s in ["2026-03", "2026", "2000-01", "2100-12", "2024-02"] {
            let p = Period::parse(s).unwrap();
            assert_eq!(p.label(), s);
            assert_eq!(p.to_string(), s);
            assert_eq!(Period::parse(&p.label()), Ok(p));
        }
        assert_eq!(
            Period::parse("2026-13"),
            Err(PeriodError::MonthOutOfRange { month: 13 })
        );
        assert_eq!(
            Period::parse("2026-00"),
            Err(PeriodError::MonthOutOfRange { month: 0 })
        );
        assert_eq!(
            Period::parse("1999"),
            Err(PeriodError::YearOutOfRange { year: 1999 })
        );
        assert_eq!(
            Period::parse("2101-01"),
            Err(PeriodError::YearOutOfRange { year: 2101 })
        );
        for bad in [
            "",
            "2026-3",
            "2026-003",
            "26-03",
            "202603",
            "2026-",
            "-2026",
            "+026",
            "2026-+3",
            " 2026",
            "2026 ",
            "2026-03-01",
            "2026-W13",
            "abcd",
            "２０２６",
            "2026-０３",
            "2026/03",
            "9999999999",
        ] {
            assert_eq!(Period::parse(bad), Err(PeriodError::Malformed), "{bad:?}");
        }
        assert!(Period::month(2026, -1).is_err());
        assert!(Period::year(i16::MIN).is_err());

        let months = Period::months(2026);
        assert_eq!(months.len(), 12);
        assert_eq!(
            months[0],
            Period::Month {
                year: 2026,
                month: 1
            }
        );
        assert_eq!(
            months[11],
            Period::Month {
                year: 2026,
                month: 12
            }
        );
        assert_eq!(march().first_day(), date(2026, 3, 1));
        assert_eq!(march().last_day(), date(2026, 3, 31));
        assert_eq!(
            Period::month(2024, 2).unwrap().last_day(),
            date(2024, 2, 29)
        );
        assert_eq!(Period::year(2026).unwrap().last_day(), date(2026, 12, 31));
    }

    #[test]
    fn hand_built_periods_out_of_range_are_clamped_not_panics() {
        let s = oslo();
        let wild = Period::Month {
            year: i16::MAX,
            month: i8::MIN,
        };
        assert_eq!(wild.label(), "2100-01");
        let (start, end) = wild.bounds(&s);
        assert!(start < end);
        assert_eq!(
            report(Vec::new(), wild, &s).period,
            Period::Month {
                year: 2100,
                month: 1
            }
        );
        let ancient = Period::Year { year: i16::MIN };
        assert_eq!(ancient.label(), "2000");
        assert_eq!(
            Period::months(-5)[0],
            Period::Month {
                year: 2000,
                month: 1
            }
        );
        let (start, end) = Period::year(2100).unwrap().bounds(&s);
        assert!(start < end);
    }

    #[test]
    fn month_bounds_follow_dst() {
        let s = oslo();
        let hours = |(start, end): (i64, i64)| (end - start) / 3_600_000;
        // March: CET at the start, CEST at the end (clocks go forward on the 29th).
        let b = march().bounds(&s);
        assert_eq!(b, (ms("2026-02-28T23:00:00Z"), ms("2026-03-31T22:00:00Z")));
        assert_eq!(hours(b), 31 * 24 - 1);
        // October: CEST at the start, CET at the end (clocks go back on the 25th).
        let b = Period::month(2026, 10).unwrap().bounds(&s);
        assert_eq!(b, (ms("2026-09-30T22:00:00Z"), ms("2026-10-31T23:00:00Z")));
        assert_eq!(hours(b), 31 * 24 + 1);
        let b = Period::month(2026, 6).unwrap().bounds(&s);
        assert_eq!(hours(b), 30 * 24);
        // The year starts and ends in winter time.
        let b = Period::year(2026).unwrap().bounds(&s);
        assert_eq!(b, (ms("2025-12-31T23:00:00Z"), ms("2026-12-31T23:00:00Z")));
        assert_eq!(hours(b), 365 * 24);
        // Months tile their year.
        let months = Period::months(2026);
        assert_eq!(months[0].bounds(&s).0, b.0);
        assert_eq!(months[11].bounds(&s).1, b.1);
        for pair in months.windows(2) {
            assert_eq!(pair[0].bounds(&s).1, pair[1].bounds(&s).0);
        }
    }

    #[test]
    fn contacts_near_month_ends_belong_to_the_local_month() {
        let s = oslo();
        let case = one_case([
            // 2026-03-31 23:30 CEST: March.
            contact(1, "2026-03-31T21:30:00Z", 10),
            // 2026-04-01 00:30 CEST: April, though still March 31 in UTC.
            contact(2, "2026-03-31T22:30:00Z", 20),
            // 2026-10-31 23:30 CET: October.
            contact(3, "2026-10-31T22:30:00Z", 30),
            // 2026-11-01 00:30 CET: November, though still October 31 in UTC.
            contact(4, "2026-10-31T23:30:00Z", 40),
            // 2026-03-01 00:00 CET exactly: March; one millisecond earlier: February.
            contact_at(5, ms("2026-02-28T23:00:00Z"), 50),
            contact_at(6, ms("2026-02-28T23:00:00Z") - 1, 60),
        ]);
        let minutes = |p: Period| report_of(&case, p, &s).minutes;
        assert_eq!(minutes(Period::month(2026, 2).unwrap()), 60);
        assert_eq!(minutes(march()), 10 + 50);
        assert_eq!(minutes(Period::month(2026, 4).unwrap()), 20);
        assert_eq!(minutes(Period::month(2026, 10).unwrap()), 30);
        assert_eq!(minutes(Period::month(2026, 11).unwrap()), 40);
        assert_eq!(minutes(Period::year(2026).unwrap()), 210);
    }

    #[test]
    fn late_evening_on_the_last_day_is_that_month_west_of_utc() {
        // In New York 23:30 on 31 March (EDT) is already 1 April in UTC.
        let s = OrgSettings::new(
            "America/New_York",
            OfficeHours::weekdays_8_to_16(),
            SignalThresholds::default(),
        )
        .unwrap();
        let case = one_case([
            contact(1, "2026-04-01T03:30:00Z", 15),
            // 2025-11-30 23:30 EST is 2025-12-01 in UTC: November, and not in 2026 at all.
            contact(2, "2025-12-01T04:30:00Z", 25),
        ]);
        assert_eq!(report_of(&case, march(), &s).contacts, 1);
        assert_eq!(
            report_of(&case, Period::month(2026, 4).unwrap(), &s).contacts,
            0
        );
        assert_eq!(
            report_of(&case, Period::month(2025, 11).unwrap(), &s).minutes,
            25
        );
        assert_eq!(
            report_of(&case, Period::year(2026).unwrap(), &s).minutes,
            15
        );
    }

    #[test]
    fn deleted_contacts_are_excluded() {
        let mut gone = contact(2, "2026-03-10T10:00:00Z", 90);
        gone.deleted = true;
        let case = one_case([contact(1, "2026-03-10T09:00:00Z", 30), gone]);
        let r = report_of(&case, march(), &oslo());
        assert_eq!((r.contacts, r.minutes), (1, 30));
        assert_eq!(r.by_topic, BTreeMap::from([(LifeArea::Housing, 1)]));
        assert_eq!(r.by_mode, BTreeMap::from([(ContactMode::Meeting, 1)]));
    }

    #[test]
    fn several_topics_count_once_each() {
        let mut c = contact(1, "2026-03-10T09:00:00Z", 30);
        c.topics = vec![LifeArea::Housing, LifeArea::Work, LifeArea::Housing];
        c.support_types = vec![SupportType::Emotional, SupportType::Informational];
        let mut d = contact(2, "2026-03-11T09:00:00Z", 30);
        d.topics = vec![LifeArea::Work];
        d.support_types = vec![SupportType::Emotional, SupportType::Emotional];
        let mut e = contact(3, "2026-03-12T09:00:00Z", 30);
        e.topics = Vec::new();
        let r = report_of(&one_case([c, d, e]), march(), &oslo());
        assert_eq!(r.contacts, 3);
        assert_eq!(
            r.by_topic,
            BTreeMap::from([(LifeArea::Housing, 1), (LifeArea::Work, 2)])
        );
        assert_eq!(
            r.by_support,
            BTreeMap::from([(SupportType::Emotional, 2), (SupportType::Informational, 1)])
        );
    }

    #[test]
    fn contacts_are_counted_and_classified_like_the_team_overview() {
        let s = oslo();
        // Tuesday 10:00 CET: inside office hours.
        let office = contact(1, "2026-03-10T09:00:00Z", 60);
        // Tuesday 18:00 CET: outside, service user's initiative, a phone call.
        let mut evening = contact(2, "2026-03-10T17:00:00Z", 15);
        evening.initiated_by = Initiator::ServiceUser;
        evening.mode = ContactMode::Phone;
        // Saturday 12:00 CET: outside and weekend, accompanying to an appointment.
        let mut saturday = contact(3, "2026-03-14T11:00:00Z", 120);
        saturday.mode = ContactMode::Accompany;
        // Monday 08:30 CEST after the change (06:30 UTC): inside office hours.
        let mut monday = contact(4, "2026-03-30T06:30:00Z", 45);
        monday.mode = ContactMode::Accompany;
        let contacts = [office, evening, saturday, monday];
        for c in &contacts {
            let r = report_of(&one_case([c.clone()]), march(), &s);
            assert_eq!(
                r.outside_office_hours,
                u32::from(classify(c.at, &s).outside_office_hours)
            );
        }
        let r = report_of(&one_case(contacts), march(), &s);
        assert_eq!(r.contacts, 4);
        assert_eq!(r.minutes, 240);
        assert_eq!(r.hours(), 4.0);
        assert_eq!(r.outside_office_hours, 2);
        assert_eq!(r.outside_office_hours_share, Some(0.5));
        assert_eq!(r.weekend, 1);
        assert_eq!(r.service_user_initiated, 1);
        assert_eq!(r.accompaniments, 2);
        assert_eq!(
            r.by_mode,
            BTreeMap::from([
                (ContactMode::Phone, 1),
                (ContactMode::Meeting, 1),
                (ContactMode::Accompany, 2),
            ])
        );
        let shown = format!("{r:?}");
        assert!(
            !shown.contains("note") && !shown.contains("SECRET"),
            "{shown}"
        );
    }

    #[test]
    fn cases_followed_new_and_closed() {
        let s = oslo();
        let (start, end) = march().bounds(&s);
        let case = |n: u8, started: Date| CaseBuilder::new(n, "prw-1").started_on(started).build();
        let long_running = case(1, date(2025, 1, 1));
        let first_day = case(2, date(2026, 3, 1));
        let last_day = case(3, date(2026, 3, 31));
        let day_after = case(4, date(2026, 4, 1));
        let closed_at_start = case(5, date(2025, 6, 1));
        let closed_just_before = case(6, date(2025, 6, 1));
        let closed_at_end = case(7, date(2025, 6, 1));
        let february_only = case(8, date(2026, 2, 1));
        let rc = |case, closed_at| ReportCase { case, closed_at };
        let cases = [
            rc(&long_running, None),
            rc(&first_day, None),
            rc(&last_day, None),
            rc(&day_after, None),
            rc(&closed_at_start, Some(start)),
            rc(&closed_just_before, Some(start - 1)),
            rc(&closed_at_end, Some(end)),
            rc(&february_only, Some(ms("2026-02-20T12:00:00Z"))),
        ];
        let r = report(cases, march(), &s);
        // Followed: long-running, both started in March, closed at the start, closed at the end.
        assert_eq!(r.service_users_followed, 5);
        assert_eq!(r.new_cases, 2);
        assert_eq!(r.closed_cases, 1);
        assert_eq!(r.contacts, 0);

        let april = report(cases, Period::month(2026, 4).unwrap(), &s);
        assert_eq!((april.new_cases, april.closed_cases), (1, 1));
        // Long-running, first day, last day, day after, closed at March's end (= April's start).
        assert_eq!(april.service_users_followed, 5);

        let year = report(cases, Period::year(2026).unwrap(), &s);
        assert_eq!(year.service_users_followed, 8);
        assert_eq!((year.new_cases, year.closed_cases), (4, 4));
    }

    #[test]
    fn empty_input_gives_an_empty_report() {
        let r = report(Vec::new(), march(), &oslo());
        assert_eq!(r, Report::empty(march()));
        assert_eq!(r.period, march());
        assert_eq!(r.contacts, 0);
        assert_eq!(r.outside_office_hours_share, None);
        assert_eq!(r.hours(), 0.0);
        assert!(r.by_mode.is_empty() && r.by_topic.is_empty() && r.by_support.is_empty());
        // A case with no contacts in the period still counts as followed.
        let quiet = CaseBuilder::new(1, "prw-1").build();
        let r = report_of(&quiet, march(), &oslo());
        assert_eq!((r.service_users_followed, r.contacts), (1, 0));
        assert_eq!(r.outside_office_hours_share, None);
    }

    #[test]
    fn extreme_contact_times_do_not_panic() {
        let case = one_case([
            contact_at(1, i64::MIN, u32::MAX),
            contact_at(2, i64::MAX, u32::MAX),
            contact_at(3, 0, 0),
        ]);
        let r = report_of(&case, Period::year(2026).unwrap(), &oslo());
        assert_eq!(r.contacts, 0);
    }

    /// A generated contact: when, how long, mode, topics, support types, initiator, deleted.
    type ArbContact = (i64, u32, usize, Vec<usize>, Vec<usize>, bool, bool);
    /// A generated case: start (days from 1 January), closed at, contacts.
    type ArbCase = (i64, Option<i64>, Vec<ArbContact>);

    fn arb_cases(year: i16) -> impl Strategy<Value = Vec<ArbCase>> {
        let s = oslo();
        let (year_start, year_end) = Period::Year { year }.bounds(&s);
        let edges: Vec<i64> = Period::months(year)
            .iter()
            .map(|m| m.bounds(&s).0)
            .chain([year_end])
            .collect();
        let hour = 3_600_000i64;
        let instant = prop_oneof![
            (year_start - 72 * hour)..(year_end + 72 * hour),
            (prop::sample::select(edges), -3 * hour..3 * hour).prop_map(|(e, off)| e + off),
        ];
        let contact = (
            instant.clone(),
            0u32..600,
            0..ContactMode::ALL.len(),
            prop::collection::vec(0..LifeArea::ALL.len(), 0..4),
            prop::collection::vec(0..SupportType::ALL.len(), 0..3),
            any::<bool>(),
            prop::bool::weighted(0.2),
        );
        let case = (
            -400i64..400,
            prop::option::of(instant),
            prop::collection::vec(contact, 0..12),
        );
        prop::collection::vec(case, 0..6)
    }

    fn build_cases(year: i16, arb: &[ArbCase]) -> Vec<(Case, Option<i64>)> {
        let jan1 = date(year, 1, 1);
        let mut n = 0u64;
        arb.iter()
            .enumerate()
            .map(|(i, (start_days, closed_at, contacts))| {
                let started = jan1
                    .checked_add(jiff::Span::new().days(*start_days))
                    .unwrap();
                let mut b = CaseBuilder::new(i as u8, "prw-1").started_on(started);
                for (at, minutes, mode, topics, supports, by_user, deleted) in contacts {
                    n += 1;
                    let mut c = contact_at(n, *at, *minutes);
                    c.mode = ContactMode::ALL[*mode];
                    c.topics = topics.iter().map(|t| LifeArea::ALL[*t]).collect();
                    c.support_types = supports.iter().map(|t| SupportType::ALL[*t]).collect();
                    if *by_user {
                        c.initiated_by = Initiator::ServiceUser;
                    }
                    c.deleted = *deleted;
                    b = b.contact(c);
                }
                (b.build(), *closed_at)
            })
            .collect()
    }

    fn add_maps<K: Ord + Copy>(sum: &mut BTreeMap<K, u32>, part: &BTreeMap<K, u32>) {
        for (k, n) in part {
            *sum.entry(*k).or_insert(0) += n;
        }
    }

    proptest! {
        #[test]
        fn twelve_months_sum_to_their_year(
            (year, arb) in prop_oneof![Just(2024i16), Just(2026i16)]
                .prop_flat_map(|y| (Just(y), arb_cases(y)))
        ) {
            let s = oslo();
            let cases = build_cases(year, &arb);
            let input = || cases.iter().map(|(case, closed_at)| ReportCase { case, closed_at: *closed_at });
            let whole = report(input(), Period::year(year).unwrap(), &s);
            let mut sum = Report::empty(Period::year(year).unwrap());
            for month in Period::months(year) {
                let r = report(input(), month, &s);
                prop_assert!(r.service_users_followed <= whole.service_users_followed);
                sum.new_cases += r.new_cases;
                sum.closed_cases += r.closed_cases;
                sum.contacts += r.contacts;
                sum.minutes += r.minutes;
                sum.outside_office_hours += r.outside_office_hours;
                sum.weekend += r.weekend;
                sum.service_user_initiated += r.service_user_initiated;
                sum.accompaniments += r.accompaniments;
                add_maps(&mut sum.by_mode, &r.by_mode);
                add_maps(&mut sum.by_topic, &r.by_topic);
                add_maps(&mut sum.by_support, &r.by_support);
            }
            prop_assert_eq!(sum.contacts, whole.contacts);
            prop_assert_eq!(sum.minutes, whole.minutes);
            prop_assert_eq!(sum.new_cases, whole.new_cases);
            prop_assert_eq!(sum.closed_cases, whole.closed_cases);
            prop_assert_eq!(sum.outside_office_hours, whole.outside_office_hours);
            prop_assert_eq!(sum.weekend, whole.weekend);
            prop_assert_eq!(sum.service_user_initiated, whole.service_user_initiated);
            prop_assert_eq!(sum.accompaniments, whole.accompaniments);
            prop_assert_eq!(&sum.by_mode, &whole.by_mode);
            prop_assert_eq!(&sum.by_topic, &whole.by_topic);
            prop_assert_eq!(&sum.by_support, &whole.by_support);
        }
    }
}
