//! When a contact took place, as the organisation's clock and calendar see it.
//!
//! Classification uses the contact's start (`at`) in the organisation's time zone, whatever the
//! phone's zone or the contact's recorded `tz_offset_min` was; its duration is not considered.

use jiff::civil::{Date, Time};

use crate::model::UnixMillis;
use crate::settings::{OrgSettings, SignalThresholds};

use super::week::{IsoWeek, local_datetime};

/// The part of the day a contact started in (weekends included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DayPart {
    /// From `late_night_to` until `evening_from`.
    Day,
    /// From `evening_from` until `late_night_from`.
    Evening,
    /// From `late_night_from` until `late_night_to` the next morning.
    LateNight,
}

impl DayPart {
    /// The part of the day a local time falls in.
    pub fn of(time: Time, thresholds: &SignalThresholds) -> Self {
        if time >= thresholds.late_night_from || time < thresholds.late_night_to {
            DayPart::LateNight
        } else if time >= thresholds.evening_from {
            DayPart::Evening
        } else {
            DayPart::Day
        }
    }
}

/// A contact's start in the organisation's local time, and how it classifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactTiming {
    pub date: Date,
    pub time: Time,
    /// ISO weekday, 1 = Monday … 7 = Sunday.
    pub weekday: i8,
    pub week: IsoWeek,
    /// Not on an office day, or before `from` / at or after `to` of office hours.
    pub outside_office_hours: bool,
    /// Local Saturday or Sunday, whatever the office days are.
    pub weekend: bool,
    pub day_part: DayPart,
}

/// Classifies an instant by the organisation's local clock and calendar (DST included).
pub fn classify(at: UnixMillis, settings: &OrgSettings) -> ContactTiming {
    let local = local_datetime(at, settings.time_zone());
    let (date, time) = (local.date(), local.time());
    let weekday = date.weekday().to_monday_one_offset();
    ContactTiming {
        date,
        time,
        weekday,
        week: IsoWeek::of_date(date),
        outside_office_hours: !settings.office_hours().contains(weekday, time),
        weekend: weekday >= 6,
        day_part: DayPart::of(time, settings.thresholds()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insights::testutil::{ms, oslo};

    fn inside(utc: &str) -> bool {
        !classify(ms(utc), &oslo()).outside_office_hours
    }

    #[test]
    fn office_hours_follow_oslo_summer_and_winter_time() {
        // Summer Monday: 07:30 UTC is 09:30 CEST.
        assert!(inside("2026-06-15T07:30:00Z"));
        // Winter Monday: 07:30 UTC is 08:30 CET.
        assert!(inside("2026-01-12T07:30:00Z"));
        // Winter Monday: 06:30 UTC is 07:30 CET, before the office opens.
        assert!(!inside("2026-01-12T06:30:00Z"));
        // Summer Monday: 06:30 UTC is 08:30 CEST, inside; 14:30 UTC is 16:30, outside.
        assert!(inside("2026-06-15T06:30:00Z"));
        assert!(!inside("2026-06-15T14:30:00Z"));
        // Edges: 08:00 local is inside, 16:00 local is outside.
        assert!(inside("2026-01-12T07:00:00Z"));
        assert!(!inside("2026-01-12T15:00:00Z"));
        assert!(inside("2026-01-12T14:59:59Z"));
    }

    #[test]
    fn contacts_either_side_of_the_spring_change() {
        // Sunday 2026-03-29: clocks go 02:00 CET -> 03:00 CEST at 01:00 UTC.
        let before = classify(ms("2026-03-29T00:30:00Z"), &oslo());
        assert_eq!(
            (before.weekday, before.time),
            (7, Time::constant(1, 30, 0, 0))
        );
        let after = classify(ms("2026-03-29T01:30:00Z"), &oslo());
        assert_eq!(after.time, Time::constant(3, 30, 0, 0));
        assert!(before.weekend && after.weekend);
        assert_eq!(before.day_part, DayPart::LateNight);
        // The Monday after: 07:30 UTC was 08:30 a day earlier, now 09:30; 06:30 UTC is now
        // 08:30 (inside) where the week before it was 07:30 (outside).
        assert!(inside("2026-03-30T06:30:00Z"));
        assert!(!inside("2026-03-23T06:30:00Z"));
        // Friday before the change, 15:30 UTC = 16:30 CET (outside); the Friday after it is
        // 17:30 CEST (outside), 14:30 UTC = 16:30 CEST (outside), 13:30 UTC = 15:30 (inside).
        assert!(!inside("2026-03-27T15:30:00Z"));
        assert!(inside("2026-04-03T13:30:00Z"));
        assert!(!inside("2026-04-03T14:30:00Z"));
    }

    #[test]
    fn contacts_either_side_of_the_autumn_change() {
        // Sunday 2026-10-25: clocks go 03:00 CEST -> 02:00 CET at 01:00 UTC; 02:30 happens twice.
        let first = classify(ms("2026-10-25T00:30:00Z"), &oslo());
        let second = classify(ms("2026-10-25T01:30:00Z"), &oslo());
        assert_eq!(first.time, Time::constant(2, 30, 0, 0));
        assert_eq!(second.time, Time::constant(2, 30, 0, 0));
        assert_eq!(first.week, second.week);
        // Friday before: 06:30 UTC is 08:30 CEST (inside); Monday after: 06:30 UTC is 07:30 CET.
        assert!(inside("2026-10-23T06:30:00Z"));
        assert!(!inside("2026-10-26T06:30:00Z"));
        assert!(inside("2026-10-26T07:00:00Z"));
    }

    #[test]
    fn weekends_and_parts_of_the_day() {
        let s = oslo();
        let sat_noon = classify(ms("2026-06-13T10:00:00Z"), &s);
        assert!(sat_noon.weekend && sat_noon.outside_office_hours);
        assert_eq!((sat_noon.weekday, sat_noon.day_part), (6, DayPart::Day));
        let evening = classify(ms("2026-06-15T16:00:00Z"), &s); // 18:00 CEST
        assert_eq!(evening.day_part, DayPart::Evening);
        assert!(!evening.weekend);
        let late = classify(ms("2026-06-15T20:00:00Z"), &s); // 22:00 CEST
        assert_eq!(late.day_part, DayPart::LateNight);
        let early = classify(ms("2026-06-16T03:59:00Z"), &s); // 05:59 CEST
        assert_eq!(early.day_part, DayPart::LateNight);
        let morning = classify(ms("2026-06-16T04:00:00Z"), &s); // 06:00 CEST
        assert_eq!(morning.day_part, DayPart::Day);
    }
}
