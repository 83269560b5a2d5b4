//! `peerlog serve --demo`: seeds a demo organisation so a newcomer sees a living relay — two
//! teams, their coordinators, four PRWs and six cases with several weeks of contacts, goals and
//! agreements, all written through core's operations with a seeded RNG. Aliases and notes are
//! invented. Seeding happens once (the organisation row remembers it); every start prints a
//! fresh enrolment code for a demo PRW.
//!
//! The folder holds the relay's generated organisations: this file is the small hand-written
//! demo behind `--demo`; [`generator`] is the deterministic generator of organisations of any
//! size, with their ground truth, for the overview benchmark and the report checks.

use jiff::civil::Date;
use peerlog_core::document::{NewContact, NewGoal};
use peerlog_core::ids::CaseId;
use peerlog_core::model::{Boundaries, ContactMode, Initiator, LifeArea, ServiceUser, SupportType};
use peerlog_core::{EditCtx, NewCase};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cases::casework::{self, CaseworkError, relay_device};
use crate::db::{Db, DbError, identity, org};
use crate::sync::ports::Role;

pub mod generator;

/// The demo PRW whose device the printed enrolment code enrols.
pub const DEMO_PRW: &str = "ola.prw";

/// The demo coordinators (Team Nord, Team Sør), who sign in to the dashboard.
pub const DEMO_COORDINATORS: [&str; 2] = ["kari.coord", "per.coord"];

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const WEEKS: i64 = 6;

const NOTES: &[&str] = &[
    "Coffee at the station café; talked through the letter from the housing office.",
    "Short call, mostly about sleep. Agreed to talk again Thursday.",
    "Went with them to NAV. The meeting went better than feared.",
    "Walk by the river. Good mood, planning a fishing trip.",
    "Text messages in the evening: craving, but stayed at home. Followed the plan.",
    "Helped fill in the application for the course in spring.",
    "Met at the library. Talked about family and the upcoming birthday.",
    "Cancelled and told me in advance, as agreed.",
    "Phoned late; upset after a conflict with the landlord. Calmed down.",
    "Football training together. First time in years.",
];

const ALIASES: &[(&str, i32, &[&str])] = &[
    ("Fjellrev", 1991, &["fishing", "hiking"]),
    ("Måke", 1985, &["music", "cooking"]),
    ("Ekorn", 1998, &["gaming", "football"]),
    ("Trane", 1979, &["woodwork"]),
    ("Sjøstjerne", 1994, &["drawing", "swimming"]),
    ("Elg", 1988, &["cars", "fishing"]),
];

/// What the demo created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub teams: usize,
    pub users: usize,
    pub cases: usize,
    pub contacts: usize,
}

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Casework(#[from] CaseworkError),
    #[error("writing demo content failed")]
    Edit(#[from] peerlog_core::EditError),
    #[error("making the demo password failed")]
    Password(#[from] crate::auth::password::PasswordError),
}

/// Gives the demo coordinators a fresh random password (printed at start, so a newcomer can
/// sign in to the dashboard at once) and returns it. Only `--demo` calls this.
pub fn reset_coordinator_passwords(db: &Db, now: i64) -> Result<String, DemoError> {
    let bytes: [u8; 12] =
        crate::auth::crypto::random_bytes().map_err(crate::auth::password::PasswordError::from)?;
    let password = crate::auth::totp::base32(&bytes).to_lowercase();
    let hash = crate::auth::password::hash(&password)?;
    db.write(|tx| {
        for name in DEMO_COORDINATORS {
            if let Some(user) = identity::find_user(tx, name)? {
                crate::db::logins::set_password(tx, &user.id, &hash, now)?;
            }
        }
        Ok::<_, DbError>(())
    })?;
    Ok(password)
}

/// Seeds the demo organisation unless it was seeded before. Returns what it made.
pub fn seed(db: &Db, now: i64) -> Result<Option<DemoSummary>, DemoError> {
    if db
        .read(|tx| org::get(tx))?
        .is_some_and(|o| o.demo_seeded_at.is_some())
    {
        return Ok(None);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let people = db.write(|tx| {
        let north = identity::add_team(tx, "Team Nord", now)?;
        let south = identity::add_team(tx, "Team Sør", now)?;
        identity::add_user(
            tx,
            DEMO_COORDINATORS[0],
            Role::Coordinator,
            std::slice::from_ref(&north.id),
            now,
        )?;
        identity::add_user(
            tx,
            DEMO_COORDINATORS[1],
            Role::Coordinator,
            std::slice::from_ref(&south.id),
            now,
        )?;
        let mut prws = Vec::new();
        for (name, team) in [
            (DEMO_PRW, &north),
            ("ingrid.prw", &north),
            ("amir.prw", &south),
            ("sofie.prw", &south),
        ] {
            let user =
                identity::add_user(tx, name, Role::Prw, std::slice::from_ref(&team.id), now)?;
            prws.push((user.id, team.id.clone()));
        }
        org::mark_demo_seeded(tx, now)?;
        Ok::<_, DbError>(prws)
    })?;

    let today = db.read(|tx| casework::org_today(tx, now))?;
    let mut contacts = 0;
    let assignments = [0usize, 0, 1, 2, 2, 3];
    for (i, (alias, birth_year, interests)) in ALIASES.iter().enumerate() {
        let (prw, team) = &people[assignments[i]];
        let started_on = today
            .saturating_sub(jiff::Span::new().days(7 * WEEKS + 3 + i as i64))
            .max(Date::constant(2020, 1, 1));
        let mut doc = casework::create_case_doc(
            NewCase {
                id: CaseId::random(&mut rng),
                team: team.clone(),
                prw: prw.clone(),
                service_user: ServiceUser {
                    alias: (*alias).to_owned(),
                    birth_year: Some(*birth_year),
                    interests: interests.iter().map(|s| (*s).to_owned()).collect(),
                    background: vec!["substance use".to_owned()],
                },
                started_on,
                planned_end: started_on.saturating_add(jiff::Span::new().years(2)),
                boundaries: Boundaries {
                    max_contacts_per_week: Some(4),
                    ..Boundaries::default()
                },
            },
            now - WEEKS * 7 * DAY_MS - DAY_MS,
        )?;
        let device = relay_device();
        let start = now - WEEKS * 7 * DAY_MS;
        let mut ctx = EditCtx {
            now: start,
            device: &device,
            rng: &mut rng,
        };
        doc.add_goal(
            &mut ctx,
            &NewGoal {
                area: LifeArea::Housing,
                text: "A flat of my own before winter".to_owned(),
                review_on: None,
            },
        )?;
        doc.add_agreement(&mut ctx, "Tell me if you cancel", started_on)?;
        let mut at = start;
        while at < now - DAY_MS {
            at += ctx.rng.random_range(DAY_MS..3 * DAY_MS);
            // Mostly afternoons, sometimes late evenings (boundary signals show up).
            let hour = if ctx.rng.random_bool(0.2) { 21 } else { 12 };
            let at_hour = at - at.rem_euclid(DAY_MS) + hour * 60 * 60 * 1000;
            if at_hour >= now {
                break;
            }
            let contact = NewContact {
                at: at_hour,
                tz_offset_min: 60,
                minutes: ctx.rng.random_range(10..120),
                mode: ContactMode::ALL[ctx.rng.random_range(0..ContactMode::ALL.len())],
                initiated_by: if ctx.rng.random_bool(0.5) {
                    Initiator::ServiceUser
                } else {
                    Initiator::Prw
                },
                topics: vec![LifeArea::ALL[ctx.rng.random_range(0..LifeArea::ALL.len())]],
                support_types: vec![SupportType::Emotional],
                note: NOTES[ctx.rng.random_range(0..NOTES.len())].to_owned(),
                flag_for_guidance: ctx.rng.random_bool(0.1),
            };
            ctx.now = at_hour + 30 * 60 * 1000;
            doc.log_contact(&mut ctx, &contact)?;
            contacts += 1;
        }
        casework::store_new_case(db, &doc, team, prw, now)?;
    }
    Ok(Some(DemoSummary {
        teams: 2,
        users: 6,
        cases: ALIASES.len(),
        contacts,
    }))
}
