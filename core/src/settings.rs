//! Organisation settings that insights need: the time zone, office hours and signal thresholds.
//!
//! The relay owns these and sends them to devices in the directory document, so a phone classifies
//! its PRW's week exactly as the coordinator's dashboard does. [`OfficeHours`] and
//! [`SignalThresholds`] are plain values; [`OrgSettings::new`] validates them together with the
//! time zone, so an `OrgSettings` in hand is always valid.

use jiff::civil::Time;
use jiff::tz::TimeZone;

/// Why organisation settings were rejected. Names the field at fault, never a user's data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("unknown time zone {name:?} (expected an IANA name such as Europe/Oslo)")]
    UnknownTimeZone { name: String },
    #[error("office hours need at least one office day")]
    NoOfficeDays,
    #[error("office day {day} is not an ISO weekday (1 = Monday … 7 = Sunday)")]
    WeekdayOutOfRange { day: i8 },
    #[error("office hours must end after they start on the same day")]
    OfficeHoursNotIncreasing,
    #[error("{field} must be between {min} and {max}")]
    ThresholdOutOfRange {
        field: &'static str,
        min: u32,
        max: u32,
    },
    #[error("{field} must be a share above 0 and at most 1")]
    ShareOutOfRange { field: &'static str },
    #[error("times of day must satisfy late_night_to < evening_from < late_night_from")]
    DayPartsOutOfOrder,
}

/// When the organisation's office is open, in its own local time.
///
/// A moment is inside office hours when its local weekday is one of `days` and its local time is
/// in the half-open range `from..to` (so with 08:00–16:00, 08:00 is inside and 16:00 is outside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeHours {
    /// ISO weekdays, 1 = Monday … 7 = Sunday. Order and repeats do not matter.
    pub days: Vec<i8>,
    pub from: Time,
    pub to: Time,
}

impl OfficeHours {
    /// Monday to Friday, 08:00–16:00.
    pub fn weekdays_8_to_16() -> Self {
        Self {
            days: vec![1, 2, 3, 4, 5],
            from: Time::constant(8, 0, 0, 0),
            to: Time::constant(16, 0, 0, 0),
        }
    }

    /// Whether the ISO weekday `day` is an office day.
    pub fn is_office_day(&self, day: i8) -> bool {
        self.days.contains(&day)
    }

    /// Whether a local weekday and time fall inside office hours.
    pub fn contains(&self, day: i8, time: Time) -> bool {
        self.is_office_day(day) && self.from <= time && time < self.to
    }

    fn validated(mut self) -> Result<Self, SettingsError> {
        if let Some(&day) = self.days.iter().find(|d| !(1..=7).contains(*d)) {
            return Err(SettingsError::WeekdayOutOfRange { day });
        }
        self.days.sort_unstable();
        self.days.dedup();
        if self.days.is_empty() {
            return Err(SettingsError::NoOfficeDays);
        }
        if self.from >= self.to {
            return Err(SettingsError::OfficeHoursNotIncreasing);
        }
        Ok(self)
    }
}

/// Thresholds for the workload and boundary signals. They prompt a guidance conversation; they
/// are not limits and not scores.
///
/// Times of day split every day (weekends too) into three parts, in the organisation's time zone:
/// *late night* is `late_night_from..24:00` and `00:00..late_night_to`, *evening* is
/// `evening_from..late_night_from`, and the rest is *day*.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalThresholds {
    /// A case with no contact for at least this many calendar days gets a "no contact" signal.
    pub no_contact_days: u32,
    /// A PRW whose share of contacts outside office hours in a week is at least this gets a signal.
    pub outside_hours_share: f64,
    /// … but only once the week has at least this many contacts (one contact is not a pattern).
    pub outside_hours_min_contacts: u32,
    /// Start of the evening (local time).
    pub evening_from: Time,
    /// Start of the late night (local time); the evening ends here.
    pub late_night_from: Time,
    /// End of the late night (local time), the next morning.
    pub late_night_to: Time,
    /// A PRW with at least this many late-night contacts in a week gets a signal.
    pub late_night_contacts: u32,
    /// The weekly number of contacts initiated by the service user above which a case gets a signal
    /// when its boundaries agree no number of their own.
    pub default_max_contacts_per_week: Option<u32>,
    /// Contacts flagged for guidance in this many past days appear on the guidance agenda.
    pub guidance_lookback_days: u32,
}

impl Default for SignalThresholds {
    fn default() -> Self {
        Self {
            no_contact_days: 14,
            outside_hours_share: 0.5,
            outside_hours_min_contacts: 3,
            evening_from: Time::constant(18, 0, 0, 0),
            late_night_from: Time::constant(22, 0, 0, 0),
            late_night_to: Time::constant(6, 0, 0, 0),
            late_night_contacts: 2,
            default_max_contacts_per_week: None,
            guidance_lookback_days: 28,
        }
    }
}

impl SignalThresholds {
    fn validate(&self) -> Result<(), SettingsError> {
        in_range("no_contact_days", self.no_contact_days, 1, 366)?;
        in_range(
            "outside_hours_min_contacts",
            self.outside_hours_min_contacts,
            1,
            1000,
        )?;
        in_range("late_night_contacts", self.late_night_contacts, 1, 1000)?;
        in_range(
            "guidance_lookback_days",
            self.guidance_lookback_days,
            1,
            366,
        )?;
        if let Some(max) = self.default_max_contacts_per_week {
            in_range("default_max_contacts_per_week", max, 0, 1000)?;
        }
        let share = self.outside_hours_share;
        if !(share.is_finite() && share > 0.0 && share <= 1.0) {
            return Err(SettingsError::ShareOutOfRange {
                field: "outside_hours_share",
            });
        }
        if !(self.late_night_to < self.evening_from && self.evening_from < self.late_night_from) {
            return Err(SettingsError::DayPartsOutOfOrder);
        }
        Ok(())
    }
}

fn in_range(field: &'static str, value: u32, min: u32, max: u32) -> Result<(), SettingsError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(SettingsError::ThresholdOutOfRange { field, min, max })
    }
}

/// Validated organisation settings.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgSettings {
    time_zone_name: String,
    time_zone: TimeZone,
    office_hours: OfficeHours,
    thresholds: SignalThresholds,
}

/// The POSIX rule Norway has followed since 1996, used only if the bundled database were missing.
const OSLO_POSIX: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

impl OrgSettings {
    /// Validates the settings. `time_zone` is an IANA name such as `Europe/Oslo`, looked up in the
    /// time zone database bundled with the binary (so phones and relay agree on the rules).
    pub fn new(
        time_zone: &str,
        office_hours: OfficeHours,
        thresholds: SignalThresholds,
    ) -> Result<Self, SettingsError> {
        let tz = TimeZone::get(time_zone).map_err(|_| SettingsError::UnknownTimeZone {
            name: time_zone.chars().take(64).collect(),
        })?;
        let office_hours = office_hours.validated()?;
        thresholds.validate()?;
        Ok(Self {
            time_zone_name: tz.iana_name().unwrap_or(time_zone).to_owned(),
            time_zone: tz,
            office_hours,
            thresholds,
        })
    }

    /// Europe/Oslo, Monday to Friday 08:00–16:00, default thresholds.
    pub fn norway_default() -> Self {
        let time_zone = TimeZone::get("Europe/Oslo")
            .or_else(|_| TimeZone::posix(OSLO_POSIX))
            .unwrap_or(TimeZone::UTC);
        Self {
            time_zone_name: "Europe/Oslo".to_owned(),
            time_zone,
            office_hours: OfficeHours::weekdays_8_to_16(),
            thresholds: SignalThresholds::default(),
        }
    }

    /// The same settings with other office hours.
    pub fn with_office_hours(self, office_hours: OfficeHours) -> Result<Self, SettingsError> {
        Ok(Self {
            office_hours: office_hours.validated()?,
            ..self
        })
    }

    /// The same settings with other thresholds.
    pub fn with_thresholds(self, thresholds: SignalThresholds) -> Result<Self, SettingsError> {
        thresholds.validate()?;
        Ok(Self { thresholds, ..self })
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// The IANA name of the time zone, as stored and sent to devices.
    pub fn time_zone_name(&self) -> &str {
        &self.time_zone_name
    }

    /// Office hours, with days sorted and without repeats.
    pub fn office_hours(&self) -> &OfficeHours {
        &self.office_hours
    }

    pub fn thresholds(&self) -> &SignalThresholds {
        &self.thresholds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i8, m: i8) -> Time {
        Time::constant(h, m, 0, 0)
    }

    #[test]
    fn norway_default_is_oslo_weekdays_8_to_16() {
        let s = OrgSettings::norway_default();
        assert_eq!(s.time_zone_name(), "Europe/Oslo");
        assert_eq!(s.time_zone().iana_name(), Some("Europe/Oslo"));
        assert_eq!(s.office_hours().days, vec![1, 2, 3, 4, 5]);
        assert_eq!(s.office_hours().from, t(8, 0));
        assert_eq!(s.office_hours().to, t(16, 0));
        assert_eq!(s.thresholds().no_contact_days, 14);
        let again = OrgSettings::new(
            "Europe/Oslo",
            OfficeHours::weekdays_8_to_16(),
            SignalThresholds::default(),
        );
        assert_eq!(again, Ok(s));
    }

    #[test]
    fn the_posix_fallback_matches_the_oslo_rules() {
        let posix = TimeZone::posix(OSLO_POSIX).unwrap();
        let oslo = TimeZone::get("Europe/Oslo").unwrap();
        for ts in [
            "2026-03-29T00:59:59Z",
            "2026-03-29T01:00:00Z",
            "2026-07-01T12:00:00Z",
            "2026-10-25T00:59:59Z",
            "2026-10-25T01:00:00Z",
        ] {
            let ts: jiff::Timestamp = ts.parse().unwrap();
            assert_eq!(posix.to_offset(ts), oslo.to_offset(ts), "{ts}");
        }
    }

    #[test]
    fn unknown_time_zones_are_rejected() {
        let err = OrgSettings::new(
            "Europe/Atlantis",
            OfficeHours::weekdays_8_to_16(),
            SignalThresholds::default(),
        );
        assert_eq!(
            err,
            Err(SettingsError::UnknownTimeZone {
                name: "Europe/Atlantis".to_owned()
            })
        );
        let long = "x".repeat(10_000);
        let Err(SettingsError::UnknownTimeZone { name }) = OrgSettings::new(
            &long,
            OfficeHours::weekdays_8_to_16(),
            SignalThresholds::default(),
        ) else {
            panic!("accepted a nonsense zone");
        };
        assert_eq!(name.len(), 64, "the echoed name is bounded");
    }

    #[test]
    fn office_hours_are_validated_and_normalised() {
        let s = OrgSettings::norway_default();
        let bad = |days: Vec<i8>, from, to| {
            s.clone()
                .with_office_hours(OfficeHours { days, from, to })
                .unwrap_err()
        };
        assert_eq!(bad(vec![], t(8, 0), t(16, 0)), SettingsError::NoOfficeDays);
        assert_eq!(
            bad(vec![1, 8], t(8, 0), t(16, 0)),
            SettingsError::WeekdayOutOfRange { day: 8 }
        );
        assert_eq!(
            bad(vec![0], t(8, 0), t(16, 0)),
            SettingsError::WeekdayOutOfRange { day: 0 }
        );
        assert_eq!(
            bad(vec![1], t(16, 0), t(16, 0)),
            SettingsError::OfficeHoursNotIncreasing
        );
        assert_eq!(
            bad(vec![1], t(16, 0), t(8, 0)),
            SettingsError::OfficeHoursNotIncreasing
        );
        let ok = s
            .with_office_hours(OfficeHours {
                days: vec![3, 1, 3, 2],
                from: t(9, 0),
                to: t(15, 30),
            })
            .unwrap();
        assert_eq!(ok.office_hours().days, vec![1, 2, 3]);
        assert!(ok.office_hours().contains(1, t(9, 0)));
        assert!(!ok.office_hours().contains(1, t(15, 30)));
        assert!(!ok.office_hours().contains(4, t(12, 0)));
    }

    #[test]
    fn thresholds_are_validated() {
        let s = OrgSettings::norway_default();
        let bad = |f: fn(&mut SignalThresholds)| {
            let mut th = SignalThresholds::default();
            f(&mut th);
            s.clone().with_thresholds(th).unwrap_err()
        };
        assert!(matches!(
            bad(|t| t.no_contact_days = 0),
            SettingsError::ThresholdOutOfRange {
                field: "no_contact_days",
                ..
            }
        ));
        assert!(matches!(
            bad(|t| t.guidance_lookback_days = 10_000),
            SettingsError::ThresholdOutOfRange { .. }
        ));
        assert!(matches!(
            bad(|t| t.late_night_contacts = 0),
            SettingsError::ThresholdOutOfRange { .. }
        ));
        assert!(matches!(
            bad(|t| t.default_max_contacts_per_week = Some(5000)),
            SettingsError::ThresholdOutOfRange { .. }
        ));
        for share in [0.0, -0.1, 1.01, f64::NAN, f64::INFINITY] {
            let th = SignalThresholds {
                outside_hours_share: share,
                ..SignalThresholds::default()
            };
            assert_eq!(
                s.clone().with_thresholds(th),
                Err(SettingsError::ShareOutOfRange {
                    field: "outside_hours_share"
                })
            );
        }
        assert_eq!(
            bad(|t| t.evening_from = t.late_night_from),
            SettingsError::DayPartsOutOfOrder
        );
        assert_eq!(
            bad(|t| t.late_night_to = Time::constant(19, 0, 0, 0)),
            SettingsError::DayPartsOutOfOrder
        );
        let th = SignalThresholds {
            outside_hours_share: 1.0,
            default_max_contacts_per_week: Some(0),
            ..SignalThresholds::default()
        };
        assert!(s.with_thresholds(th).is_ok());
    }
}
