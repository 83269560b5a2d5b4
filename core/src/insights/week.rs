//! ISO weeks (Monday start) and local calendar days in the organisation's time zone.
//!
//! Every conversion here is total: timestamps beyond what jiff can represent are clamped to its
//! limits, so no stored value can make an insight fail or panic.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, DateTime, ISOWeekDate, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::model::UnixMillis;
use crate::settings::OrgSettings;

const DAY_SECS: i64 = 86_400;

/// Why a text or a number pair is not an ISO week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an ISO week (expected YYYY-Www, week 1 to 52 or 53 as the year has)")]
pub struct WeekError;

/// An ISO 8601 week: Monday to Sunday, numbered within its ISO week-numbering year.
/// Orders chronologically.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IsoWeek {
    monday: Date,
}

impl IsoWeek {
    /// Week `week` of ISO year `year` (week 53 only in years that have one).
    pub fn new(year: i16, week: i8) -> Result<Self, WeekError> {
        ISOWeekDate::new(year, week, Weekday::Monday)
            .map(|d| Self { monday: d.date() })
            .map_err(|_| WeekError)
    }

    /// The week a calendar date lies in.
    pub fn of_date(date: Date) -> Self {
        let back = i64::from(date.weekday().to_monday_zero_offset());
        let monday = date
            .checked_sub(SignedDuration::from_secs(back * DAY_SECS))
            // Only the first days of the smallest representable year have no Monday before them.
            .unwrap_or(Date::MIN);
        Self { monday }
    }

    /// The ISO week-numbering year (which differs from the calendar year around New Year).
    pub fn year(self) -> i16 {
        self.monday.iso_week_date().year()
    }

    /// The week number, 1 to 53.
    pub fn week(self) -> i8 {
        self.monday.iso_week_date().week()
    }

    /// The week's Monday.
    pub fn monday(self) -> Date {
        self.monday
    }

    /// The week `n` weeks later (earlier if negative), if representable.
    pub fn checked_add_weeks(self, n: i64) -> Option<Self> {
        let secs = n.checked_mul(7 * DAY_SECS)?;
        let monday = self
            .monday
            .checked_add(SignedDuration::from_secs(secs))
            .ok()?;
        Some(Self { monday })
    }

    /// The following week, if representable.
    pub fn next(self) -> Option<Self> {
        self.checked_add_weeks(1)
    }

    /// The preceding week, if representable.
    pub fn previous(self) -> Option<Self> {
        self.checked_add_weeks(-1)
    }
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-W{:02}", self.year(), self.week())
    }
}

impl fmt::Debug for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IsoWeek({self})")
    }
}

impl FromStr for IsoWeek {
    type Err = WeekError;

    /// Parses `2026-W13`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (year, week) = s.split_once("-W").ok_or(WeekError)?;
        let digits = |t: &str, n: std::ops::RangeInclusive<usize>| {
            n.contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(year, 4..=4) || !digits(week, 2..=2) {
            return Err(WeekError);
        }
        let year = year.parse().map_err(|_| WeekError)?;
        let week = week.parse().map_err(|_| WeekError)?;
        Self::new(year, week)
    }
}

/// The instants a week spans in the organisation's time zone: `start` is local Monday 00:00,
/// `end` (exclusive) is the next local Monday 00:00. Around a DST change the week is 167 or 169
/// hours long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekBounds {
    pub start: UnixMillis,
    pub end: UnixMillis,
}

impl WeekBounds {
    /// Whether an instant lies in the week.
    pub fn contains(&self, at: UnixMillis) -> bool {
        self.start <= at && at < self.end
    }

    /// The length of the week in whole hours.
    pub fn hours(&self) -> i64 {
        self.end.saturating_sub(self.start) / 3_600_000
    }
}

/// The ISO week that an instant falls in, by the organisation's local calendar.
pub fn week_of(at: UnixMillis, settings: &OrgSettings) -> IsoWeek {
    IsoWeek::of_date(local_datetime(at, settings.time_zone()).date())
}

/// Where a week begins and ends, as UTC milliseconds.
pub fn week_bounds(week: IsoWeek, settings: &OrgSettings) -> WeekBounds {
    let tz = settings.time_zone();
    let start = start_of_day_ms(week.monday, tz);
    let end = week
        .monday
        .checked_add(SignedDuration::from_secs(7 * DAY_SECS))
        .map_or(max_ms(), |next| start_of_day_ms(next, tz));
    WeekBounds { start, end }
}

/// An instant as a jiff timestamp, clamped to what jiff can represent.
pub(crate) fn timestamp(at: UnixMillis) -> Timestamp {
    Timestamp::from_millisecond(at).unwrap_or(if at < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// The local date and time of an instant in a time zone.
pub(crate) fn local_datetime(at: UnixMillis, tz: &TimeZone) -> DateTime {
    tz.to_datetime(timestamp(at))
}

/// The first instant of a local day (midnight, or the end of a DST gap that swallows midnight).
pub(crate) fn start_of_day_ms(date: Date, tz: &TimeZone) -> UnixMillis {
    tz.to_timestamp(date.to_datetime(Time::midnight()))
        .map_or_else(
            |_| if date.year() < 0 { min_ms() } else { max_ms() },
            |ts| ts.as_millisecond(),
        )
}

/// Whole calendar days from `earlier` to `later` (negative if `later` comes first).
pub(crate) fn days_between(earlier: Date, later: Date) -> i64 {
    later.duration_since(earlier).as_secs() / DAY_SECS
}

fn min_ms() -> UnixMillis {
    Timestamp::MIN.as_millisecond()
}

fn max_ms() -> UnixMillis {
    Timestamp::MAX.as_millisecond()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::testutil::{ms, oslo};
    use proptest::prelude::*;

    #[test]
    fn weeks_parse_print_and_step() {
        let w: IsoWeek = "2026-W13".parse().unwrap();
        assert_eq!((w.year(), w.week()), (2026, 13));
        assert_eq!(w.monday(), jiff::civil::date(2026, 3, 23));
        assert_eq!(w.to_string(), "2026-W13");
        assert_eq!(w.next().unwrap().to_string(), "2026-W14");
        assert_eq!(w.checked_add_weeks(-13).unwrap().to_string(), "2025-W52");
        assert_eq!(IsoWeek::new(2025, 53), Err(WeekError));
        assert!(IsoWeek::new(2026, 53).is_ok());
        assert!(IsoWeek::new(2026, 0).is_err());
        assert!(IsoWeek::new(2020, 53).is_ok());
        for bad in [
            "",
            "2026-13",
            "2026-W1",
            "2026-W133",
            "+026-W13",
            "2026-W54",
            "2025-W53",
            "２０２６-W01",
        ] {
            assert!(bad.parse::<IsoWeek>().is_err(), "{bad}");
        }
        assert_eq!(w.checked_add_weeks(i64::MAX), None);
        // ISO year differs from the calendar year at the turn of the year.
        assert_eq!(
            IsoWeek::of_date(jiff::civil::date(2027, 1, 1)).to_string(),
            "2026-W53"
        );
        assert_eq!(
            IsoWeek::of_date(jiff::civil::date(2024, 12, 30)).to_string(),
            "2025-W01"
        );
    }

    #[test]
    fn sunday_night_and_monday_morning_local_are_different_weeks() {
        let s = oslo();
        // Sunday 2026-01-11 23:30 local = 22:30 UTC; Monday 00:30 local = Sunday 23:30 UTC.
        // In UTC both are Sunday, but in Oslo they are on either side of the week boundary.
        let sunday = ms("2026-01-11T22:30:00Z");
        let monday = ms("2026-01-11T23:30:00Z");
        assert_eq!(week_of(sunday, &s).to_string(), "2026-W02");
        assert_eq!(week_of(monday, &s).to_string(), "2026-W03");
        let b = week_bounds(week_of(monday, &s), &s);
        assert_eq!(b.start, ms("2026-01-11T23:00:00Z"));
        assert!(b.contains(monday) && !b.contains(sunday));
    }

    #[test]
    fn weeks_with_dst_changes_are_167_and_169_hours() {
        let s = oslo();
        let spring = week_bounds(week_of(ms("2026-03-27T12:00:00Z"), &s), &s);
        assert_eq!(spring.start, ms("2026-03-22T23:00:00Z"));
        assert_eq!(spring.end, ms("2026-03-29T22:00:00Z"));
        assert_eq!(spring.hours(), 167);
        let autumn = week_bounds(week_of(ms("2026-10-21T12:00:00Z"), &s), &s);
        assert_eq!(autumn.start, ms("2026-10-18T22:00:00Z"));
        assert_eq!(autumn.end, ms("2026-10-25T23:00:00Z"));
        assert_eq!(autumn.hours(), 169);
        let plain = week_bounds(IsoWeek::new(2026, 20).unwrap(), &s);
        assert_eq!(plain.hours(), 168);
    }

    #[test]
    fn extreme_timestamps_do_not_panic() {
        let s = oslo();
        for at in [i64::MIN, i64::MAX, 0, -1, 253_402_300_799_999] {
            let w = week_of(at, &s);
            let b = week_bounds(w, &s);
            assert!(b.start <= b.end);
        }
        let last = IsoWeek::of_date(Date::MAX);
        assert_eq!(last.next(), None);
        let first = IsoWeek::of_date(Date::MIN);
        assert_eq!(first.previous(), None);
    }

    proptest! {
        #[test]
        fn every_instant_lies_in_the_bounds_of_its_week(at in -2_000_000_000_000i64..5_000_000_000_000) {
            let s = oslo();
            let w = week_of(at, &s);
            let b = week_bounds(w, &s);
            prop_assert!(b.contains(at));
            prop_assert!((167..=169).contains(&b.hours()));
            prop_assert_eq!(week_of(b.start, &s), w);
            prop_assert_eq!(week_of(b.end - 1, &s), w);
            prop_assert_eq!(Some(week_of(b.end, &s)), w.next());
        }
    }
}
