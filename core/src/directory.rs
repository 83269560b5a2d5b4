//! The device's view of its directory document: the read-only Automerge document the relay keeps
//! per user, listing the cases the user may see and the settings devices need offline.
//!
//! The relay writes it (`server/src/directory.rs` documents the shape); devices only read it. It
//! holds no alias or other personal data: those live in the case documents, which erasure deletes.

use std::collections::BTreeMap;

use automerge::ReadDoc;
use automerge::hydrate::{Map, Value};
use jiff::civil::Time;

use crate::document::DocumentError;
use crate::ids::CaseId;
use crate::model::CaseStatus;
use crate::settings::{OfficeHours, OrgSettings, SignalThresholds};

/// What the user may do with a listed case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseAccess {
    Read,
    ReadWrite,
}

/// One case the user may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub status: CaseStatus,
    pub access: CaseAccess,
}

/// How long a device may go without a successful sync before it locks its store, and before it
/// destroys its keys and local data (both counted from the last successful sync).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LostPhonePolicy {
    pub lock_after_days: u32,
    pub wipe_after_days: u32,
}

impl Default for LostPhonePolicy {
    fn default() -> Self {
        Self {
            lock_after_days: 14,
            wipe_after_days: 30,
        }
    }
}

/// A directory as read from its document.
#[derive(Debug, Clone, PartialEq)]
pub struct Directory {
    pub cases: BTreeMap<CaseId, DirectoryEntry>,
    /// `None` when the settings are missing or invalid; insights then use a default.
    pub settings: Option<OrgSettings>,
    pub lost_phone: LostPhonePolicy,
}

/// Reads a directory document. Entries this version does not understand are skipped.
pub fn read(doc: &impl ReadDoc) -> Result<Directory, DocumentError> {
    let Value::Map(root) = doc.hydrate(automerge::ROOT, None)? else {
        return Err(DocumentError::WrongType { path: "root" });
    };
    if string(&root, "kind").as_deref() != Some("directory") {
        return Err(DocumentError::Missing { path: "kind" });
    }
    let mut cases = BTreeMap::new();
    if let Some(Value::Map(listed)) = root.get("cases") {
        for (id, entry) in listed.iter() {
            let Value::Map(entry) = &entry.value else {
                continue;
            };
            let parsed = id.parse::<CaseId>().ok().zip(
                string(entry, "status")
                    .and_then(|s| s.parse::<CaseStatus>().ok())
                    .zip(match string(entry, "access").as_deref() {
                        Some("readWrite") => Some(CaseAccess::ReadWrite),
                        Some("read") => Some(CaseAccess::Read),
                        _ => None,
                    }),
            );
            if let Some((id, (status, access))) = parsed {
                cases.insert(id, DirectoryEntry { status, access });
            }
        }
    }
    let settings_map = match root.get("settings") {
        Some(Value::Map(m)) => Some(m),
        _ => None,
    };
    let lost_phone = settings_map
        .and_then(|s| match s.get("lostPhone") {
            Some(Value::Map(m)) => Some(m),
            _ => None,
        })
        .and_then(|m| {
            let lock = u32::try_from(int(m, "lockAfterDays")?).ok()?;
            let wipe = u32::try_from(int(m, "wipeAfterDays")?).ok()?;
            Some(LostPhonePolicy {
                lock_after_days: lock.max(1),
                wipe_after_days: wipe.max(lock.max(1)),
            })
        })
        .unwrap_or_default();
    Ok(Directory {
        cases,
        settings: settings_map.and_then(settings),
        lost_phone,
    })
}

fn settings(map: &Map) -> Option<OrgSettings> {
    let tz = string(map, "timeZone")?;
    let Some(Value::Map(office)) = map.get("officeHours") else {
        return None;
    };
    let days = match office.get("days") {
        Some(Value::List(list)) => list
            .iter()
            .filter_map(|d| match &d.value {
                Value::Scalar(s) => s.as_i64().and_then(|d| i8::try_from(d).ok()),
                _ => None,
            })
            .collect(),
        _ => return None,
    };
    let office_hours = OfficeHours {
        days,
        from: time(office, "from")?,
        to: time(office, "to")?,
    };
    let mut thresholds = SignalThresholds::default();
    if let Some(Value::Map(t)) = map.get("thresholds") {
        let u = |key| int(t, key).and_then(|v| u32::try_from(v).ok());
        thresholds.no_contact_days = u("noContactDays").unwrap_or(thresholds.no_contact_days);
        thresholds.outside_hours_min_contacts =
            u("outsideHoursMinContacts").unwrap_or(thresholds.outside_hours_min_contacts);
        thresholds.late_night_contacts =
            u("lateNightContacts").unwrap_or(thresholds.late_night_contacts);
        thresholds.guidance_lookback_days =
            u("guidanceLookbackDays").unwrap_or(thresholds.guidance_lookback_days);
        thresholds.default_max_contacts_per_week = u("defaultMaxContactsPerWeek");
        if let Some(share) = match t.get("outsideHoursShare") {
            Some(Value::Scalar(s)) => s.as_f64(),
            _ => None,
        } {
            thresholds.outside_hours_share = share;
        }
        thresholds.evening_from = time(t, "eveningFrom").unwrap_or(thresholds.evening_from);
        thresholds.late_night_from = time(t, "lateNightFrom").unwrap_or(thresholds.late_night_from);
        thresholds.late_night_to = time(t, "lateNightTo").unwrap_or(thresholds.late_night_to);
    }
    OrgSettings::new(&tz, office_hours, thresholds).ok()
}

fn string(map: &Map, key: &str) -> Option<String> {
    match map.get(key) {
        Some(Value::Scalar(automerge::ScalarValue::Str(s))) => Some(s.to_string()),
        _ => None,
    }
}

fn int(map: &Map, key: &str) -> Option<i64> {
    match map.get(key) {
        Some(Value::Scalar(s)) => s.as_i64(),
        _ => None,
    }
}

fn time(map: &Map, key: &str) -> Option<Time> {
    string(map, key)?.parse().ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use automerge::transaction::Transactable;
    use automerge::{Automerge, ObjType};

    use super::*;

    /// Writes a directory document the way the relay does (tests only).
    pub(crate) fn write(doc: &mut Automerge, cases: &[(CaseId, &str, &str)]) {
        doc.transact(|tx| {
            tx.put(automerge::ROOT, "schema", 1)?;
            tx.put(automerge::ROOT, "kind", "directory")?;
            let map = tx.put_object(automerge::ROOT, "cases", ObjType::Map)?;
            for (id, status, access) in cases {
                let e = tx.put_object(&map, id.to_string(), ObjType::Map)?;
                tx.put(&e, "status", *status)?;
                tx.put(&e, "access", *access)?;
            }
            let s = tx.put_object(automerge::ROOT, "settings", ObjType::Map)?;
            tx.put(&s, "timeZone", "Europe/Oslo")?;
            let o = tx.put_object(&s, "officeHours", ObjType::Map)?;
            let days = tx.put_object(&o, "days", ObjType::List)?;
            for (i, d) in [1, 2, 3, 4].iter().enumerate() {
                tx.insert(&days, i, *d as i64)?;
            }
            tx.put(&o, "from", "09:00")?;
            tx.put(&o, "to", "15:00")?;
            let t = tx.put_object(&s, "thresholds", ObjType::Map)?;
            tx.put(&t, "noContactDays", 10)?;
            let l = tx.put_object(&s, "lostPhone", ObjType::Map)?;
            tx.put(&l, "lockAfterDays", 7)?;
            tx.put(&l, "wipeAfterDays", 21)?;
            Ok::<_, automerge::AutomergeError>(())
        })
        .map_err(|f| f.error)
        .unwrap();
    }

    #[test]
    fn a_directory_reads_cases_settings_and_the_lost_phone_policy() {
        let a = CaseId::from_bytes([1; 16]);
        let b = CaseId::from_bytes([2; 16]);
        let mut doc = Automerge::new();
        write(
            &mut doc,
            &[(a, "active", "readWrite"), (b, "closed", "read")],
        );
        doc.transact(|tx| {
            let (_, cases) = tx.get(automerge::ROOT, "cases")?.unwrap();
            let odd = tx.put_object(&cases, "not-an-id", ObjType::Map)?;
            tx.put(&odd, "status", "active")
        })
        .map_err(|f| f.error)
        .unwrap();
        let dir = read(&doc).unwrap();
        assert_eq!(dir.cases.len(), 2, "entries it cannot read are skipped");
        assert_eq!(
            dir.cases[&a],
            DirectoryEntry {
                status: CaseStatus::Active,
                access: CaseAccess::ReadWrite
            }
        );
        assert_eq!(dir.cases[&b].access, CaseAccess::Read);
        let settings = dir.settings.unwrap();
        assert_eq!(settings.time_zone_name(), "Europe/Oslo");
        assert_eq!(settings.office_hours().days, vec![1, 2, 3, 4]);
        assert_eq!(settings.thresholds().no_contact_days, 10);
        assert_eq!(
            dir.lost_phone,
            LostPhonePolicy {
                lock_after_days: 7,
                wipe_after_days: 21
            }
        );
    }

    #[test]
    fn a_document_that_is_no_directory_is_refused() {
        let mut doc = Automerge::new();
        doc.transact(|tx| tx.put(automerge::ROOT, "kind", "case"))
            .map_err(|f| f.error)
            .unwrap();
        assert!(read(&doc).is_err());
        assert!(read(&Automerge::new()).is_err());
    }
}
