//! Counting contacts: the numbers one week of contacts adds up to, for a case or a PRW.

use std::collections::BTreeMap;

use crate::model::{Contact, ContactMode, Initiator};

use super::timing::{ContactTiming, DayPart};

/// What a set of contacts adds up to. Counts saturate instead of overflowing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WeekTotals {
    pub contacts: u32,
    pub minutes: u64,
    pub outside_office_hours: u32,
    /// `outside_office_hours / contacts`; `None` when there are no contacts.
    pub outside_office_hours_share: Option<f64>,
    pub weekend: u32,
    /// `weekend / contacts`; `None` when there are no contacts.
    pub weekend_share: Option<f64>,
    /// Contacts that started in the evening (see [`DayPart::Evening`]).
    pub evening: u32,
    /// Contacts that started in the late night (see [`DayPart::LateNight`]); not counted in `evening`.
    pub late_night: u32,
    pub service_user_initiated: u32,
    /// Contacts per mode; modes without contacts are left out.
    pub by_mode: BTreeMap<ContactMode, u32>,
}

impl WeekTotals {
    /// Total time in hours.
    pub fn hours(&self) -> f64 {
        self.minutes as f64 / 60.0
    }

    pub(crate) fn add(&mut self, contact: &Contact, timing: &ContactTiming) {
        self.contacts = self.contacts.saturating_add(1);
        self.minutes = self.minutes.saturating_add(u64::from(contact.minutes));
        let bump = |n: &mut u32, yes: bool| *n = n.saturating_add(u32::from(yes));
        bump(&mut self.outside_office_hours, timing.outside_office_hours);
        bump(&mut self.weekend, timing.weekend);
        bump(&mut self.evening, timing.day_part == DayPart::Evening);
        bump(&mut self.late_night, timing.day_part == DayPart::LateNight);
        bump(
            &mut self.service_user_initiated,
            contact.initiated_by == Initiator::ServiceUser,
        );
        let mode = self.by_mode.entry(contact.mode).or_insert(0);
        *mode = mode.saturating_add(1);
        self.update_shares();
    }

    pub(crate) fn merge(&mut self, other: &WeekTotals) {
        self.contacts = self.contacts.saturating_add(other.contacts);
        self.minutes = self.minutes.saturating_add(other.minutes);
        self.outside_office_hours = self
            .outside_office_hours
            .saturating_add(other.outside_office_hours);
        self.weekend = self.weekend.saturating_add(other.weekend);
        self.evening = self.evening.saturating_add(other.evening);
        self.late_night = self.late_night.saturating_add(other.late_night);
        self.service_user_initiated = self
            .service_user_initiated
            .saturating_add(other.service_user_initiated);
        for (mode, n) in &other.by_mode {
            let mine = self.by_mode.entry(*mode).or_insert(0);
            *mine = mine.saturating_add(*n);
        }
        self.update_shares();
    }

    fn update_shares(&mut self) {
        self.outside_office_hours_share = share(self.outside_office_hours, self.contacts);
        self.weekend_share = share(self.weekend, self.contacts);
    }
}

/// `part / whole` within `[0, 1]`, or `None` for an empty whole.
pub(crate) fn share(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| (f64::from(part.min(whole)) / f64::from(whole)).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_of_nothing_are_none() {
        assert_eq!(share(0, 0), None);
        assert_eq!(share(5, 0), None);
        assert_eq!(share(1, 2), Some(0.5));
        assert_eq!(share(3, 2), Some(1.0));
        let empty = WeekTotals::default();
        assert_eq!(empty.outside_office_hours_share, None);
        assert_eq!(empty.hours(), 0.0);
    }
}
