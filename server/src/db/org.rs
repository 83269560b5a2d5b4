//! The organisation row: its name and the settings devices need offline (stored as JSON).
//!
//! The JSON shape ([`SettingsDto`]) is also what the directory documents carry; it is converted
//! by hand to and from core's validated [`OrgSettings`].

use jiff::civil::Time;
use peerlog_core::settings::{OfficeHours, OrgSettings, SettingsError, SignalThresholds};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{DbError, StepExt};

/// After how many days without a sync a device locks itself, and after how many it destroys its
/// keys (the dead-man timer for a phone that never reconnects).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LostPhone {
    pub lock_after_days: u32,
    pub wipe_after_days: u32,
}

impl Default for LostPhone {
    fn default() -> Self {
        Self {
            lock_after_days: 14,
            wipe_after_days: 30,
        }
    }
}

/// Office hours as stored and sent: ISO weekdays and "HH:MM" local times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfficeHoursDto {
    pub days: Vec<i8>,
    pub from: String,
    pub to: String,
}

/// Signal thresholds as stored and sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThresholdsDto {
    pub no_contact_days: u32,
    pub outside_hours_share: f64,
    pub outside_hours_min_contacts: u32,
    pub evening_from: String,
    pub late_night_from: String,
    pub late_night_to: String,
    pub late_night_contacts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_max_contacts_per_week: Option<u32>,
    pub guidance_lookback_days: u32,
}

/// The organisation's settings as stored in `org.settings` and sent in directory documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsDto {
    pub time_zone: String,
    pub office_hours: OfficeHoursDto,
    pub thresholds: ThresholdsDto,
    #[serde(default)]
    pub lost_phone: LostPhone,
}

/// Why stored settings could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsInvalid {
    #[error("a time of day in the settings is not HH:MM")]
    BadTime,
    #[error(transparent)]
    Rejected(#[from] SettingsError),
}

fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn parse_hhmm(s: &str) -> Result<Time, SettingsInvalid> {
    let (h, m) = s.split_once(':').ok_or(SettingsInvalid::BadTime)?;
    let h: i8 = h.parse().map_err(|_| SettingsInvalid::BadTime)?;
    let m: i8 = m.parse().map_err(|_| SettingsInvalid::BadTime)?;
    Time::new(h, m, 0, 0).map_err(|_| SettingsInvalid::BadTime)
}

impl SettingsDto {
    pub fn from_settings(s: &OrgSettings, lost_phone: LostPhone) -> Self {
        let th = s.thresholds();
        Self {
            time_zone: s.time_zone_name().to_owned(),
            office_hours: OfficeHoursDto {
                days: s.office_hours().days.clone(),
                from: hhmm(s.office_hours().from),
                to: hhmm(s.office_hours().to),
            },
            thresholds: ThresholdsDto {
                no_contact_days: th.no_contact_days,
                outside_hours_share: th.outside_hours_share,
                outside_hours_min_contacts: th.outside_hours_min_contacts,
                evening_from: hhmm(th.evening_from),
                late_night_from: hhmm(th.late_night_from),
                late_night_to: hhmm(th.late_night_to),
                late_night_contacts: th.late_night_contacts,
                default_max_contacts_per_week: th.default_max_contacts_per_week,
                guidance_lookback_days: th.guidance_lookback_days,
            },
            lost_phone,
        }
    }

    /// Validates the stored values into core's settings.
    pub fn to_settings(&self) -> Result<OrgSettings, SettingsInvalid> {
        let th = &self.thresholds;
        let thresholds = SignalThresholds {
            no_contact_days: th.no_contact_days,
            outside_hours_share: th.outside_hours_share,
            outside_hours_min_contacts: th.outside_hours_min_contacts,
            evening_from: parse_hhmm(&th.evening_from)?,
            late_night_from: parse_hhmm(&th.late_night_from)?,
            late_night_to: parse_hhmm(&th.late_night_to)?,
            late_night_contacts: th.late_night_contacts,
            default_max_contacts_per_week: th.default_max_contacts_per_week,
            guidance_lookback_days: th.guidance_lookback_days,
        };
        let office = OfficeHours {
            days: self.office_hours.days.clone(),
            from: parse_hhmm(&self.office_hours.from)?,
            to: parse_hhmm(&self.office_hours.to)?,
        };
        Ok(OrgSettings::new(&self.time_zone, office, thresholds)?)
    }
}

impl Default for SettingsDto {
    fn default() -> Self {
        Self::from_settings(&OrgSettings::norway_default(), LostPhone::default())
    }
}

/// The organisation row.
#[derive(Debug, Clone, PartialEq)]
pub struct Org {
    pub name: String,
    pub settings: SettingsDto,
    pub created_at: i64,
    pub demo_seeded_at: Option<i64>,
}

/// The organisation, if it has been created.
pub fn get(conn: &Connection) -> Result<Option<Org>, DbError> {
    let row = conn
        .query_row(
            "SELECT name, settings, created_at, demo_seeded_at FROM org WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                ))
            },
        )
        .optional()
        .step("reading the organisation")?;
    Ok(row.map(|(name, settings, created_at, demo_seeded_at)| Org {
        name,
        // Stored by this code; a damaged value falls back to the defaults rather than failing.
        settings: serde_json::from_str(&settings).unwrap_or_default(),
        created_at,
        demo_seeded_at,
    }))
}

/// Creates the organisation with default settings. Returns false if it already existed.
pub fn create(conn: &Connection, name: &str, now: i64) -> Result<bool, DbError> {
    let settings = serde_json::to_string(&SettingsDto::default()).unwrap_or_default();
    let n = conn
        .execute(
            "INSERT OR IGNORE INTO org (id, name, settings, created_at) VALUES (1, ?1, ?2, ?3)",
            params![name, settings, now],
        )
        .step("creating the organisation")?;
    Ok(n == 1)
}

/// Replaces the settings (already validated by the caller).
pub fn set_settings(conn: &Connection, settings: &SettingsDto) -> Result<(), DbError> {
    let json = serde_json::to_string(settings).unwrap_or_default();
    conn.execute("UPDATE org SET settings = ?1 WHERE id = 1", params![json])
        .step("updating the settings")?;
    Ok(())
}

/// Records that the demo data was seeded (so a restart does not seed it twice).
pub fn mark_demo_seeded(conn: &Connection, now: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE org SET demo_seeded_at = ?1 WHERE id = 1",
        params![now],
    )
    .step("marking the demo as seeded")?;
    Ok(())
}

/// The relay's stable sync storage id (advertised to peers so they can reuse sync states across
/// restarts), made with `fresh` on first use.
pub fn storage_id(conn: &Connection, fresh: impl FnOnce() -> String) -> Result<String, DbError> {
    let found: Option<String> = conn
        .query_row(
            "SELECT value FROM relay_meta WHERE key = 'storage-id'",
            [],
            |r| r.get(0),
        )
        .optional()
        .step("reading the storage id")?;
    if let Some(id) = found {
        return Ok(id);
    }
    let id = fresh();
    conn.execute(
        "INSERT INTO relay_meta (key, value) VALUES ('storage-id', ?1)",
        params![id],
    )
    .step("storing the storage id")?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_settings_round_trip_and_have_a_stable_shape() {
        let dto = SettingsDto::default();
        let settings = dto.to_settings().unwrap();
        assert_eq!(settings, OrgSettings::norway_default());
        let json = serde_json::to_value(&dto).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "timeZone": "Europe/Oslo",
                "officeHours": {"days": [1, 2, 3, 4, 5], "from": "08:00", "to": "16:00"},
                "thresholds": {
                    "noContactDays": 14, "outsideHoursShare": 0.5, "outsideHoursMinContacts": 3,
                    "eveningFrom": "18:00", "lateNightFrom": "22:00", "lateNightTo": "06:00",
                    "lateNightContacts": 2, "guidanceLookbackDays": 28
                },
                "lostPhone": {"lockAfterDays": 14, "wipeAfterDays": 30}
            })
        );
    }

    #[test]
    fn bad_times_are_rejected() {
        for bad in ["8", "25:00", "08:61", "x:y", ""] {
            assert!(parse_hhmm(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_hhmm("08:30").unwrap(), Time::constant(8, 30, 0, 0));
    }
}
