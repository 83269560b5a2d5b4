//! A PRW's offline weekend on two devices, stored encrypted on disk, merged on Monday, and the
//! PRW's own week computed from the merged records.
//!
//! Run: `cargo run -p peerlog-core --example offline_weekend [DATA_DIR]`

use std::path::PathBuf;

use jiff::civil::date;
use peerlog_core::crypto::StoreKey;
use peerlog_core::document::{NewContact, NewGoal};
use peerlog_core::ids::CaseId;
use peerlog_core::insights::{prw_week, week_of};
use peerlog_core::local::LocalCases;
use peerlog_core::model::*;
use peerlog_core::settings::OrgSettings;
use peerlog_core::store::SqliteStore;
use peerlog_core::{CaseDoc, EditCtx, NewCase};
use rand::SeedableRng;
use rand::rngs::StdRng;

const HOUR: i64 = 3_600_000;
/// Friday 2026-11-27 17:00 in Oslo.
const FRIDAY_EVENING: i64 = 1_795_795_200_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("peerlog-offline-weekend"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let mut rng = StdRng::seed_from_u64(7);
    let settings = OrgSettings::norway_default();

    // The relay opens a case for PRW "prw-ola"; both of Ola's devices receive it.
    let relay = "relay".parse()?;
    let case = CaseId::random(&mut rng);
    let opened = CaseDoc::create(
        NewCase {
            id: case,
            team: "team-north".parse()?,
            prw: "prw-ola".parse()?,
            service_user: ServiceUser {
                alias: "Fjellrev".into(),
                birth_year: Some(1991),
                interests: vec!["fishing".into()],
                background: vec![],
            },
            started_on: date(2026, 9, 1),
            planned_end: date(2028, 9, 1),
            boundaries: Boundaries {
                max_contacts_per_week: Some(2),
                ..Boundaries::default()
            },
        },
        automerge::ActorId::random(),
        &mut EditCtx {
            now: FRIDAY_EVENING,
            device: &relay,
            rng: &mut rng,
        },
    )?;
    // Each device's key would come from the platform keystore.
    let open = |name: &str, key: u8, rng: &mut StdRng| -> Result<_, Box<dyn std::error::Error>> {
        let store = SqliteStore::open(
            &dir.join(format!("{name}.sqlite")),
            StoreKey::from_bytes(&[key; 32])?,
        )?;
        Ok(LocalCases::open(store, name.parse()?, rng)?)
    };
    let mut phone = open("phone", 1, &mut rng)?;
    let mut tablet = open("tablet", 2, &mut rng)?;
    phone.receive(&case, &opened.save())?;
    tablet.receive(&case, &opened.save())?;

    // No signal all weekend. The service user calls three times; Ola logs it on the phone.
    for (hours_later, minutes) in [(5, 20), (29, 35), (52, 15)] {
        let at = FRIDAY_EVENING + hours_later * HOUR;
        phone.edit(&case, at, &mut rng, |doc, ctx| {
            doc.log_contact(
                ctx,
                &NewContact {
                    at,
                    tz_offset_min: 60,
                    minutes,
                    mode: ContactMode::Phone,
                    initiated_by: Initiator::ServiceUser,
                    topics: vec![LifeArea::Network],
                    support_types: vec![SupportType::Emotional],
                    note: "Long call late in the evening.".into(),
                    flag_for_guidance: hours_later == 52,
                },
            )
        })?;
    }
    // On the tablet Ola writes down the goal they agreed on Saturday.
    tablet.edit(&case, FRIDAY_EVENING + 24 * HOUR, &mut rng, |doc, ctx| {
        doc.add_goal(
            ctx,
            &NewGoal {
                area: LifeArea::Leisure,
                text: "Go fishing every Sunday".into(),
                review_on: None,
            },
        )
    })?;
    println!(
        "offline: phone has {} unsynced changes, tablet {}",
        phone.pending_count()?,
        tablet.pending_count()?
    );

    // Monday: both devices reach the relay, which merges and sends everything back.
    let mut hub = opened;
    for device in [&mut phone, &mut tablet] {
        let (theirs, _) = device
            .doc(&case)
            .ok_or("case missing")?
            .changes_since(&hub.heads());
        hub.apply_encoded(&theirs)?;
        device.confirm(&case, &hub.heads())?;
    }
    for device in [&mut phone, &mut tablet] {
        device.receive(&case, &hub.save())?;
    }
    let merged = phone.read(&case)?;
    assert_eq!(merged, tablet.read(&case)?);
    println!(
        "monday: both devices hold {} contacts and {} goal(s); unsynced now {}",
        merged.live_contacts().count(),
        merged.plan.goals.len(),
        phone.pending_count()? + tablet.pending_count()?
    );

    // Ola's own week, as the phone shows it.
    let now = FRIDAY_EVENING + 60 * HOUR;
    let week = prw_week(
        [&merged],
        &"prw-ola".parse()?,
        week_of(now - 12 * HOUR, &settings),
        &settings,
        now,
    );
    println!(
        "week {}: {} contacts, {:.1} h, {} outside office hours, {} at the weekend, {} flagged for guidance",
        week.week,
        week.totals.contacts,
        week.totals.hours(),
        week.totals.outside_office_hours,
        week.totals.weekend,
        week.flagged().len()
    );
    for c in week.cases_above_limit() {
        println!(
            "  a service user called more often than agreed: {} calls, agreed at most {}",
            c.totals.service_user_initiated,
            c.limit.map(|l| l.max).unwrap_or(0)
        );
    }
    println!("encrypted stores in {}", dir.display());
    Ok(())
}
