//! A deterministic generator of a realistic organisation written into a relay database: teams,
//! coordinators, PRWs and cases with up to years of contacts, goals, agreements and boundaries, all
//! written through core's operations. Used by benchmarks (the coordinator's team overview at a
//! realistic size) and by tests that check report numbers against an independent count of the
//! returned [`SeedTruth`]. Aliases (`case-0001`) and notes are invented; no personal data.
//!
//! Everything the truth records is a function of [`SeedSpec`] and `now` (ids of users and teams
//! are assigned by the relay and differ between runs; case ids come from the seeded RNG). Local
//! times use the organisation's time zone (Europe/Oslo when the database has no organisation).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use peerlog_core::document::{NewContact, NewGoal};
use peerlog_core::ids::{CaseId, DeviceId, TeamId, UserId};
use peerlog_core::model::{
    Boundaries, CaseStatus, ContactMode, ContactWindow, Initiator, LifeArea, ServiceUser,
    SupportType, UnixMillis,
};
use peerlog_core::settings::OrgSettings;
use peerlog_core::{CaseDoc, EditCtx, EditError, NewCase};
use rand::seq::index;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cases::casework::{self, CaseworkError, relay_device};
use crate::db::{Db, DbError, cases, identity, org};
use crate::sync::ports::Role;

const MINUTE_MS: i64 = 60 * 1000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
const WEEK_MS: i64 = 7 * DAY_MS;

/// Share of cases that start on the first day of the history (the rest start later).
const START_AT_BEGINNING: f64 = 0.35;
/// Share of contacts on a Saturday or Sunday.
const WEEKEND_SHARE: f64 = 0.08;
/// Share of contacts starting in the evening (18:00–22:59 local).
const EVENING_SHARE: f64 = 0.15;
/// Share of contacts flagged for guidance when logged.
const FLAGGED_SHARE: f64 = 0.03;
/// Share of contacts deleted shortly after they were logged.
const DELETED_SHARE: f64 = 0.02;
/// Share of cases with an agreed weekly maximum of contacts (and contact windows).
const BOUNDARY_SHARE: f64 = 0.35;

const NOTES: &[&str] = &[
    "Coffee and a walk; talked through the week.",
    "Short call about sleep. Will talk again Thursday.",
    "Went along to the benefits office. Went fine.",
    "Planned the week together.",
    "Evening messages: a hard day, stayed with the plan.",
    "Filled in a course application together.",
    "Met at the library; talked about the weekend.",
    "Cancelled in advance, as agreed.",
    "Follow-up after the clinic appointment.",
    "Football training together.",
    "",
];

const GOALS: &[(LifeArea, &str)] = &[
    (LifeArea::Housing, "A place of my own"),
    (LifeArea::Work, "Try a work placement"),
    (LifeArea::Finances, "A plan for my debts"),
    (LifeArea::Network, "Someone to call besides services"),
    (LifeArea::Leisure, "Join a team or a club"),
    (LifeArea::Treatment, "Keep my clinic appointments"),
    (LifeArea::Education, "Finish the course I started"),
    (LifeArea::Health, "Sleep better"),
];

const INTERESTS: &[&str] = &[
    "fishing", "music", "cooking", "gaming", "football", "woodwork", "drawing", "hiking",
];

const CLOSE_REASONS: &[&str] = &[
    "Goals reached",
    "Ended by mutual agreement",
    "Moved to another municipality",
    "Referred to another service",
];

/// The size and shape of the generated organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedSpec {
    /// Number of teams (`team-01`, …).
    pub teams: usize,
    /// Coordinators in each team (`coord-01-1`, …).
    pub coordinators_per_team: usize,
    /// PRWs (`prw-001`, …), spread round-robin over the teams.
    pub prws: usize,
    /// Cases (`case-0001`, …), at least one per PRW while they last, the rest spread at random.
    pub cases: usize,
    /// Length of the history in weeks, ending at `now`.
    pub weeks: u32,
    /// Share of cases (0.0–1.0) closed at some point in the history.
    pub closed_share: f64,
    /// Seed of the generator: the same seed and `now` give the same [`SeedTruth`].
    pub seed: u64,
}

impl SeedSpec {
    /// The benchmark organisation: 5 teams with 2 coordinators each, 50 PRWs, 150 cases, two years
    /// (104 weeks) of contacts, 15 % of cases closed, seed 1.
    pub fn benchmark() -> Self {
        Self {
            teams: 5,
            coordinators_per_team: 2,
            prws: 50,
            cases: 150,
            weeks: 104,
            closed_share: 0.15,
            seed: 1,
        }
    }

    fn check(&self) -> Result<(), SeedError> {
        if self.prws > 0 && self.teams == 0 {
            return Err(SeedError::Spec("PRWs need at least one team"));
        }
        if self.cases > 0 && self.prws == 0 {
            return Err(SeedError::Spec("cases need at least one PRW"));
        }
        if self.weeks == 0 {
            return Err(SeedError::Spec(
                "the history must be at least one week long",
            ));
        }
        if !(0.0..=1.0).contains(&self.closed_share) {
            return Err(SeedError::Spec("closed_share must be between 0 and 1"));
        }
        Ok(())
    }
}

/// One generated contact, as logged (deleted ones included, marked `deleted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededContact {
    pub case: CaseId,
    pub team: TeamId,
    pub prw: UserId,
    /// Start of the contact.
    pub at: UnixMillis,
    pub minutes: u32,
    pub mode: ContactMode,
    pub initiated_by: Initiator,
    /// 1–2 distinct life areas, in the order written.
    pub topics: Vec<LifeArea>,
    /// 1–2 distinct support types, in the order written.
    pub support_types: Vec<SupportType>,
    /// Deleted (tombstoned) shortly after it was logged.
    pub deleted: bool,
    /// Flagged for guidance when logged.
    pub flagged: bool,
}

/// One generated case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededCase {
    pub id: CaseId,
    pub team: TeamId,
    pub prw: UserId,
    /// The invented alias, `case-0001` and so on.
    pub alias: String,
    /// The case's start date in the organisation's time zone.
    pub started_on: Date,
    /// When the case was opened (the `cases` row's `opened_at`); no contact starts before it.
    pub opened_at: UnixMillis,
    /// When the case was closed (document and `cases` row), if it was; no contact ends after it.
    pub closed_at: Option<UnixMillis>,
    /// The agreed weekly maximum of contacts, if the case has one.
    pub max_contacts_per_week: Option<u32>,
}

/// Everything the generator wrote, for checking derived numbers independently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedTruth {
    /// `(id, name)` of each team.
    pub teams: Vec<(TeamId, String)>,
    /// `(id, name, team)` of each coordinator.
    pub coordinators: Vec<(UserId, String, TeamId)>,
    /// `(id, name, team)` of each PRW.
    pub prws: Vec<(UserId, String, TeamId)>,
    /// Cases in the order they were created.
    pub cases: Vec<SeededCase>,
    /// Contacts grouped by case (in `cases` order), oldest first within a case.
    pub contacts: Vec<SeededContact>,
}

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("invalid seed spec: {0}")]
    Spec(&'static str),
    #[error("a {kind} named {name} already exists")]
    NameTaken { kind: &'static str, name: String },
    #[error("a generated time is out of range")]
    TimeOutOfRange,
    #[error("a case builder stopped unexpectedly")]
    Worker,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Casework(#[from] CaseworkError),
    #[error("writing generated case content failed: {0}")]
    Edit(#[from] EditError),
}

/// Generates the organisation described by `spec` into `db`, with a history ending at `now`
/// (Unix ms), and returns what it wrote. The caller creates the organisation first
/// (`serve::initialise`); existing users and teams are left alone, and a generated name that is
/// already taken fails the call before anything is written.
///
/// Case documents are built on all available cores (each case draws from its own stream of the
/// seeded generator, so the result does not depend on scheduling) and stored in case order, one
/// write transaction per case (plus one to close it). On an error, cases stored so far remain.
pub fn seed_org(db: &Db, spec: &SeedSpec, now: UnixMillis) -> Result<SeedTruth, SeedError> {
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    seed_with_workers(db, spec, now, workers)
}

fn seed_with_workers(
    db: &Db,
    spec: &SeedSpec,
    now: UnixMillis,
    workers: usize,
) -> Result<SeedTruth, SeedError> {
    spec.check()?;
    let history_start = now - i64::from(spec.weeks) * WEEK_MS;
    if history_start < peerlog_core::document::validate::EARLIEST_CONTACT_MS {
        return Err(SeedError::TimeOutOfRange);
    }
    let tz = db.read(|tx| org_time_zone(tx))?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);

    let people = db.write(|tx| add_people(tx, spec, history_start))?;
    let plans = plan_cases(&mut rng, spec, &people.prws, &tz, history_start, now)?;

    let workers = workers.clamp(1, plans.len().max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (built_tx, built_rx) = mpsc::sync_channel(2 * workers);
    let stored = std::thread::scope(|scope| {
        for _ in 0..workers {
            let built_tx = built_tx.clone();
            let (plans, next, stop, tz) = (&plans, &next, &stop, &tz);
            scope.spawn(move || {
                let device = relay_device();
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(plan) = plans.get(i) else { break };
                    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
                    rng.set_stream(i as u64 + 1);
                    let built = build_case(&mut rng, plan, tz, &device);
                    if built_tx.send((i, built)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(built_tx);
        let stored = store_in_order(db, &plans, built_rx);
        if stored.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        stored
    })?;

    let mut cases = Vec::with_capacity(plans.len());
    let mut contacts = Vec::new();
    for (plan, built) in plans.into_iter().zip(stored) {
        cases.push(SeededCase {
            max_contacts_per_week: built.max_contacts_per_week,
            ..plan.case
        });
        contacts.extend(built.contacts);
    }
    Ok(SeedTruth {
        teams: people.teams,
        coordinators: people.coordinators,
        prws: people.prws,
        cases,
        contacts,
    })
}

/// A case document built from its plan, with what went into it.
struct BuiltCase {
    doc: CaseDoc,
    contacts: Vec<SeededContact>,
    max_contacts_per_week: Option<u32>,
}

/// What a stored case leaves for the truth once its document is written and dropped.
struct StoredCase {
    contacts: Vec<SeededContact>,
    max_contacts_per_week: Option<u32>,
}

/// Receives built cases in any order and stores them in plan order. Consumes the receiver, so the
/// builders stop sending once this returns.
fn store_in_order(
    db: &Db,
    plans: &[CasePlan],
    built: mpsc::Receiver<(usize, Result<BuiltCase, SeedError>)>,
) -> Result<Vec<StoredCase>, SeedError> {
    let mut waiting = BTreeMap::new();
    let mut stored = Vec::with_capacity(plans.len());
    for (i, case) in built {
        waiting.insert(i, case?);
        while let Some(case) = waiting.remove(&stored.len()) {
            let plan = &plans[stored.len()].case;
            casework::store_new_case(db, &case.doc, &plan.team, &plan.prw, plan.opened_at)?;
            if let Some(closed_at) = plan.closed_at {
                db.write(|tx| cases::set_status(tx, &plan.id, CaseStatus::Closed, closed_at))?;
            }
            stored.push(StoredCase {
                contacts: case.contacts,
                max_contacts_per_week: case.max_contacts_per_week,
            });
        }
    }
    if stored.len() == plans.len() {
        Ok(stored)
    } else {
        Err(SeedError::Worker)
    }
}

/// The organisation's time zone, or Europe/Oslo without an organisation row.
fn org_time_zone(conn: &rusqlite::Connection) -> Result<TimeZone, DbError> {
    Ok(org::get(conn)?
        .and_then(|o| o.settings.to_settings().ok())
        .unwrap_or_else(OrgSettings::norway_default)
        .time_zone()
        .clone())
}

struct People {
    teams: Vec<(TeamId, String)>,
    coordinators: Vec<(UserId, String, TeamId)>,
    prws: Vec<(UserId, String, TeamId)>,
}

fn add_people(
    tx: &rusqlite::Connection,
    spec: &SeedSpec,
    created_at: UnixMillis,
) -> Result<People, SeedError> {
    let mut people = People {
        teams: Vec::with_capacity(spec.teams),
        coordinators: Vec::with_capacity(spec.teams * spec.coordinators_per_team),
        prws: Vec::with_capacity(spec.prws),
    };
    for t in 1..=spec.teams {
        let name = format!("team-{t:02}");
        if identity::find_team(tx, &name)?.is_some() {
            return Err(SeedError::NameTaken { kind: "team", name });
        }
        let team = identity::add_team(tx, &name, created_at)?;
        for c in 1..=spec.coordinators_per_team {
            let name = format!("coord-{t:02}-{c}");
            let user = add_user(tx, &name, Role::Coordinator, &team.id, created_at)?;
            people.coordinators.push((user, name, team.id.clone()));
        }
        people.teams.push((team.id, name));
    }
    for p in 0..spec.prws {
        let name = format!("prw-{:03}", p + 1);
        let team = people.teams[p % people.teams.len()].0.clone();
        let user = add_user(tx, &name, Role::Prw, &team, created_at)?;
        people.prws.push((user, name, team));
    }
    Ok(people)
}

fn add_user(
    tx: &rusqlite::Connection,
    name: &str,
    role: Role,
    team: &TeamId,
    created_at: UnixMillis,
) -> Result<UserId, SeedError> {
    if identity::find_user(tx, name)?.is_some() {
        return Err(SeedError::NameTaken {
            kind: "user",
            name: name.to_owned(),
        });
    }
    let user = identity::add_user(tx, name, role, std::slice::from_ref(team), created_at)?;
    Ok(user.id)
}

/// A case decided before its document is written; `end` is when its contacts must have ended.
struct CasePlan {
    case: SeededCase,
    end: UnixMillis,
}

fn plan_cases(
    rng: &mut ChaCha8Rng,
    spec: &SeedSpec,
    prws: &[(UserId, String, TeamId)],
    tz: &TimeZone,
    history_start: UnixMillis,
    now: UnixMillis,
) -> Result<Vec<CasePlan>, SeedError> {
    let closed_count = ((spec.cases as f64 * spec.closed_share).round() as usize).min(spec.cases);
    let mut closed = vec![false; spec.cases];
    for i in index::sample(rng, spec.cases, closed_count) {
        closed[i] = true;
    }
    let first_day = local_date(history_start, tz)?;
    // Late starters still get four weeks of history when the history is long enough.
    let latest_offset = (i64::from(spec.weeks) * 7 - 28).max(0);
    let mut plans = Vec::with_capacity(spec.cases);
    for (i, closes) in closed.into_iter().enumerate() {
        let (prw, _, team) = if i < prws.len() {
            &prws[i]
        } else {
            &prws[rng.random_range(0..prws.len())]
        };
        let offset = if rng.random_bool(START_AT_BEGINNING) {
            0
        } else {
            rng.random_range(0..=latest_offset)
        };
        let started_on = first_day
            .checked_add(Span::new().days(offset))
            .map_err(|_| SeedError::TimeOutOfRange)?;
        let opened_at = local_ts(started_on, 8, 30, tz)?.0.max(history_start);
        let closed_at = closes.then(|| {
            let lo = opened_at + ((now - opened_at) / 2).min(4 * WEEK_MS);
            let hi = (now - HOUR_MS).max(lo + 1);
            rng.random_range(lo..hi)
        });
        plans.push(CasePlan {
            case: SeededCase {
                id: CaseId::random(rng),
                team: team.clone(),
                prw: prw.clone(),
                alias: format!("case-{:04}", i + 1),
                started_on,
                opened_at,
                closed_at,
                max_contacts_per_week: None,
            },
            end: closed_at.unwrap_or(now),
        });
    }
    Ok(plans)
}

/// Builds one case document: set-up, plan, contacts (a few deleted again), and closing.
fn build_case(
    rng: &mut ChaCha8Rng,
    plan: &CasePlan,
    tz: &TimeZone,
    device: &DeviceId,
) -> Result<BuiltCase, SeedError> {
    let case = &plan.case;
    let end = plan.end;
    let rate: f64 = rng.random_range(1.0..4.0);
    let max_contacts_per_week = rng
        .random_bool(BOUNDARY_SHARE)
        .then(|| rng.random_range(2..=3));
    let boundaries = if let Some(max) = max_contacts_per_week {
        Boundaries {
            windows: vec![ContactWindow {
                days: vec![1, 2, 3, 4, 5],
                from: Time::constant(9, 0, 0, 0),
                to: Time::constant(16, 0, 0, 0),
            }],
            channels: vec![
                ContactMode::Phone,
                ContactMode::Message,
                ContactMode::Meeting,
            ],
            max_contacts_per_week: Some(max),
            outside_hours_plan: Some("Text first; the on-call phone if urgent.".to_owned()),
            review_on: case.started_on.checked_add(Span::new().months(6)).ok(),
        }
    } else {
        Boundaries::default()
    };
    let n_interests = rng.random_range(1..=2);
    let interests = index::sample(rng, INTERESTS.len(), n_interests)
        .into_iter()
        .map(|i| INTERESTS[i].to_owned())
        .collect();
    let mut doc = casework::create_case_doc(
        NewCase {
            id: case.id,
            team: case.team.clone(),
            prw: case.prw.clone(),
            service_user: ServiceUser {
                alias: case.alias.clone(),
                birth_year: Some(rng.random_range(1960..=2004)),
                interests,
                background: vec!["substance use".to_owned()],
            },
            started_on: case.started_on,
            planned_end: case.started_on.saturating_add(Span::new().years(2)),
            boundaries,
        },
        case.opened_at,
    )?;

    let mut ctx = EditCtx {
        now: (case.opened_at + 20 * MINUTE_MS).min(end),
        device,
        rng,
    };
    let mut goals = Vec::new();
    let mut contacts = Vec::new();
    let n_goals = ctx.rng.random_range(1..=2);
    for i in index::sample(ctx.rng, GOALS.len(), n_goals) {
        let (area, text) = GOALS[i];
        let goal = doc.add_goal(
            &mut ctx,
            &NewGoal {
                area,
                text: text.to_owned(),
                review_on: case.started_on.checked_add(Span::new().months(3)).ok(),
            },
        )?;
        doc.add_step(&mut ctx, &goal, "Talk it through at the next meeting")?;
        goals.push(goal);
    }
    doc.add_agreement(
        &mut ctx,
        "Tell me in advance if you cancel",
        case.started_on,
    )?;
    if ctx.rng.random_bool(0.5) {
        doc.set_use_plan(
            &mut ctx,
            "Call me or the on-call phone; we meet the next day.",
        )?;
    }

    let mut monday = case.started_on.saturating_sub(
        Span::new().days(i64::from(case.started_on.weekday().to_monday_zero_offset())),
    );
    while local_ts(monday, 0, 0, tz)?.0 < end {
        let mut week = Vec::new();
        for _ in 0..7 {
            if ctx.rng.random_bool(rate / 7.0) {
                week.push(draw_time(ctx.rng, monday, tz)?);
            }
        }
        week.sort_unstable();
        for (at, tz_offset_min) in week {
            let contact = draw_contact(ctx.rng, at, tz_offset_min);
            if at < case.opened_at || at + contact.minutes * MINUTE_MS > end {
                continue;
            }
            ctx.now = (at + (contact.minutes + ctx.rng.random_range(0..=180)) * MINUTE_MS).min(end);
            let id = doc.log_contact(&mut ctx, &contact)?;
            let deleted = ctx.rng.random_bool(DELETED_SHARE);
            if deleted {
                ctx.now = (ctx.now + ctx.rng.random_range(5..=120) * MINUTE_MS).min(end);
                doc.delete_contact(&mut ctx, &id)?;
            }
            contacts.push(SeededContact {
                case: case.id,
                team: case.team.clone(),
                prw: case.prw.clone(),
                at,
                minutes: u32::try_from(contact.minutes).map_err(|_| SeedError::TimeOutOfRange)?,
                mode: contact.mode,
                initiated_by: contact.initiated_by,
                topics: contact.topics,
                support_types: contact.support_types,
                deleted,
                flagged: contact.flag_for_guidance,
            });
        }
        monday = monday
            .checked_add(Span::new().days(7))
            .map_err(|_| SeedError::TimeOutOfRange)?;
    }

    // Some first goals are reached by the time of the last edit.
    if let Some(goal) = goals.first()
        && ctx.rng.random_bool(0.3)
    {
        doc.set_goal_status(&mut ctx, goal, peerlog_core::model::GoalStatus::Reached)?;
    }
    if let Some(closed_at) = case.closed_at {
        ctx.now = closed_at;
        let reason = CLOSE_REASONS[ctx.rng.random_range(0..CLOSE_REASONS.len())];
        doc.set_status(&mut ctx, CaseStatus::Closed, Some(reason))?;
    }
    Ok(BuiltCase {
        doc,
        contacts,
        max_contacts_per_week,
    })
}

/// A contact start in the week beginning `monday`: mostly weekdays 09:00–15:55 local, sometimes
/// an evening (18:00–22:55) or a weekend day. Returns the time and its UTC offset in minutes.
fn draw_time(rng: &mut dyn RngCore, monday: Date, tz: &TimeZone) -> Result<(i64, i32), SeedError> {
    let day = if rng.random_bool(WEEKEND_SHARE) {
        rng.random_range(5..7)
    } else {
        rng.random_range(0..5)
    };
    let hour = if rng.random_bool(EVENING_SHARE) {
        rng.random_range(18..=22)
    } else {
        rng.random_range(9..=15)
    };
    let minute = 5 * rng.random_range(0..12);
    let date = monday
        .checked_add(Span::new().days(day))
        .map_err(|_| SeedError::TimeOutOfRange)?;
    local_ts(date, hour, minute, tz)
}

/// The rest of a contact: mode (with a plausible duration), initiator, topics, support, note.
fn draw_contact(rng: &mut dyn RngCore, at: i64, tz_offset_min: i32) -> NewContact {
    let (mode, min, max) = match rng.random_range(0..100) {
        0..30 => (ContactMode::Phone, 10, 45),
        30..50 => (ContactMode::Message, 10, 30),
        50..55 => (ContactMode::Video, 20, 60),
        55..80 => (ContactMode::Meeting, 30, 120),
        80..90 => (ContactMode::Accompany, 60, 180),
        _ => (ContactMode::Activity, 60, 180),
    };
    let initiated_by = match rng.random_range(0..100) {
        0..45 => Initiator::Prw,
        45..90 => Initiator::ServiceUser,
        _ => Initiator::Other,
    };
    let n_topics = rng.random_range(1..=2);
    let topics = index::sample(rng, LifeArea::ALL.len(), n_topics)
        .into_iter()
        .map(|i| LifeArea::ALL[i])
        .collect();
    let n_support = rng.random_range(1..=2);
    let support_types = index::sample(rng, SupportType::ALL.len(), n_support)
        .into_iter()
        .map(|i| SupportType::ALL[i])
        .collect();
    NewContact {
        at,
        tz_offset_min,
        minutes: 5 * rng.random_range(min / 5..=max / 5),
        mode,
        initiated_by,
        topics,
        support_types,
        note: NOTES[rng.random_range(0..NOTES.len())].to_owned(),
        flag_for_guidance: rng.random_bool(FLAGGED_SHARE),
    }
}

/// The date of a time in `tz`.
fn local_date(ts: UnixMillis, tz: &TimeZone) -> Result<Date, SeedError> {
    Ok(Timestamp::from_millisecond(ts)
        .map_err(|_| SeedError::TimeOutOfRange)?
        .to_zoned_datetime(tz.clone())
        .date())
}

/// A local wall-clock time in `tz` as Unix ms and its UTC offset in minutes (a time in a DST gap
/// moves forward, as jiff's compatible disambiguation does).
fn local_ts(date: Date, hour: i8, minute: i8, tz: &TimeZone) -> Result<(i64, i32), SeedError> {
    let zoned = date
        .at(hour, minute, 0, 0)
        .to_zoned_datetime(tz.clone())
        .map_err(|_| SeedError::TimeOutOfRange)?;
    Ok((
        zoned.timestamp().as_millisecond(),
        zoned.offset().seconds() / 60,
    ))
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::config::Config;
    use crate::db::docs;

    fn now() -> i64 {
        "2026-03-10T11:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_millisecond()
    }

    fn small() -> SeedSpec {
        SeedSpec {
            teams: 2,
            coordinators_per_team: 1,
            prws: 4,
            cases: 6,
            weeks: 8,
            closed_share: 0.34,
            seed: 7,
        }
    }

    fn org_db(dir: &tempfile::TempDir) -> Db {
        let db = Db::open_in(dir.path()).unwrap();
        crate::serve::initialise(&db, &Config::default(), now()).unwrap();
        db
    }

    fn seeded(spec: &SeedSpec) -> (tempfile::TempDir, Db, SeedTruth) {
        let dir = tempfile::tempdir().unwrap();
        let db = org_db(&dir);
        let truth = seed_org(&db, spec, now()).unwrap();
        (dir, db, truth)
    }

    /// The truth with relay-assigned user and team ids replaced by their names.
    fn normalised(truth: &SeedTruth) -> String {
        let mut text = format!("{truth:?}");
        let names = truth
            .teams
            .iter()
            .map(|(id, name)| (id.as_str(), name))
            .chain(
                truth
                    .coordinators
                    .iter()
                    .map(|(id, name, _)| (id.as_str(), name)),
            )
            .chain(truth.prws.iter().map(|(id, name, _)| (id.as_str(), name)));
        for (id, name) in names {
            text = text.replace(id, name);
        }
        text
    }

    #[test]
    fn same_seed_gives_the_same_truth_and_another_seed_another() {
        let (_d1, _db1, a) = seeded(&small());
        let (_d2, _db2, b) = seeded(&small());
        assert_eq!(normalised(&a), normalised(&b));
        let (_d3, _db3, c) = seeded(&SeedSpec { seed: 8, ..small() });
        assert_ne!(normalised(&a), normalised(&c));
    }

    #[test]
    fn the_truth_does_not_depend_on_the_number_of_builders() {
        let dir = tempfile::tempdir().unwrap();
        let one = seed_with_workers(&org_db(&dir), &small(), now(), 1).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let three = seed_with_workers(&org_db(&dir), &small(), now(), 3).unwrap();
        assert_eq!(normalised(&one), normalised(&three));
    }

    #[test]
    fn truth_has_the_requested_shape() {
        let (_dir, _db, truth) = seeded(&small());
        let names = |v: &[(UserId, String, TeamId)]| -> Vec<String> {
            v.iter().map(|u| u.1.clone()).collect()
        };
        assert_eq!(
            truth.teams.iter().map(|t| t.1.as_str()).collect::<Vec<_>>(),
            ["team-01", "team-02"]
        );
        assert_eq!(
            names(&truth.coordinators),
            Vec::from(["coord-01-1".to_owned(), "coord-02-1".to_owned()])
        );
        assert_eq!(
            names(&truth.prws),
            Vec::from(["prw-001", "prw-002", "prw-003", "prw-004"].map(str::to_owned))
        );
        assert_eq!(truth.cases.len(), 6);
        assert_eq!(
            truth.cases.iter().filter(|c| c.closed_at.is_some()).count(),
            2
        );
        let history_start = now() - 8 * WEEK_MS;
        let cases: BTreeMap<_, _> = truth.cases.iter().map(|c| (c.id, c)).collect();
        for contact in &truth.contacts {
            let case = cases[&contact.case];
            assert_eq!((&contact.team, &contact.prw), (&case.team, &case.prw));
            assert!(contact.at >= case.opened_at && contact.at >= history_start);
            let end = case.closed_at.unwrap_or(now());
            assert!(contact.at + i64::from(contact.minutes) * MINUTE_MS <= end);
            assert!((10..=180).contains(&contact.minutes));
            assert!((1..=2).contains(&contact.topics.len()));
            assert!((1..=2).contains(&contact.support_types.len()));
        }
        // On average 1–4 contacts a week per case, some outside office hours.
        let n = truth.contacts.len();
        assert!(n >= 6 * 4, "{n} contacts");
        let tz = TimeZone::get("Europe/Oslo").unwrap();
        let local: Vec<_> = truth
            .contacts
            .iter()
            .map(|c| {
                Timestamp::from_millisecond(c.at)
                    .unwrap()
                    .to_zoned_datetime(tz.clone())
            })
            .collect();
        assert!(local.iter().any(|z| z.hour() >= 18));
        assert!(
            local
                .iter()
                .any(|z| z.weekday().to_monday_one_offset() >= 6)
        );
        assert!(local.iter().all(|z| (9..=22).contains(&z.hour())));
    }

    #[test]
    fn stored_documents_and_rows_match_the_truth() {
        let (_dir, db, truth) = seeded(&small());
        assert!(truth.contacts.iter().any(|c| c.deleted) || truth.contacts.len() < 50);
        for case in &truth.cases {
            let bytes = db.read(|tx| docs::load(tx, &case.id)).unwrap().unwrap();
            let doc = CaseDoc::load(case.id, &bytes, ActorId::random()).unwrap();
            let read = doc.read().unwrap();
            assert_eq!((&read.team, &read.prw), (&case.team, &case.prw));
            assert_eq!(read.service_user.alias, case.alias);
            assert_eq!(read.started_on, case.started_on);
            assert_eq!(
                read.boundaries.max_contacts_per_week,
                case.max_contacts_per_week
            );
            assert!(!read.plan.goals.is_empty());
            assert_eq!(read.plan.agreements.len(), 1);
            assert_eq!(read.unreadable_entries, 0);

            let expected: Vec<_> = truth
                .contacts
                .iter()
                .filter(|c| c.case == case.id)
                .collect();
            let live: Vec<_> = read
                .live_contacts()
                .map(|c| {
                    (
                        c.at,
                        c.minutes,
                        c.mode,
                        c.initiated_by,
                        c.topics.clone(),
                        c.support_types.clone(),
                        c.flag_for_guidance,
                    )
                })
                .collect();
            let want: Vec<_> = expected
                .iter()
                .filter(|c| !c.deleted)
                .map(|c| {
                    (
                        c.at,
                        c.minutes,
                        c.mode,
                        c.initiated_by,
                        c.topics.clone(),
                        c.support_types.clone(),
                        c.flagged,
                    )
                })
                .collect();
            assert_eq!(live, want);
            let tombstones = read.contacts.values().filter(|c| c.deleted).count();
            assert_eq!(tombstones, expected.iter().filter(|c| c.deleted).count());

            let row = db.read(|tx| cases::get(tx, &case.id)).unwrap().unwrap();
            assert_eq!((&row.team, &row.prw), (&case.team, &case.prw));
            assert_eq!(row.opened_at, case.opened_at);
            assert_eq!(row.closed_at, case.closed_at);
            let status = if case.closed_at.is_some() {
                CaseStatus::Closed
            } else {
                CaseStatus::Active
            };
            assert_eq!((row.status, read.status), (status, status));
            assert_eq!(read.closed_reason.is_some(), case.closed_at.is_some());
        }
    }

    #[test]
    fn taken_names_are_refused_and_nothing_is_written() {
        let (_dir, db, _truth) = seeded(&small());
        let users = db.read(|tx| identity::list_users(tx)).unwrap().len();
        let err = seed_org(&db, &small(), now()).unwrap_err();
        assert!(matches!(err, SeedError::NameTaken { .. }), "{err}");
        assert_eq!(db.read(|tx| identity::list_users(tx)).unwrap().len(), users);
        assert!(matches!(
            seed_org(
                &db,
                &SeedSpec {
                    weeks: 0,
                    ..small()
                },
                now()
            ),
            Err(SeedError::Spec(_))
        ));
    }

    /// `cargo test -p peerlog-server --lib seed::tests::benchmark_org -- --ignored --nocapture`
    #[test]
    #[ignore = "timing of the benchmark organisation; run by hand"]
    fn benchmark_org() {
        let dir = tempfile::tempdir().unwrap();
        let db = org_db(&dir);
        let started = std::time::Instant::now();
        let truth = seed_org(&db, &SeedSpec::benchmark(), now()).unwrap();
        println!(
            "seeded {} cases, {} contacts ({} deleted) in {:?}",
            truth.cases.len(),
            truth.contacts.len(),
            truth.contacts.iter().filter(|c| c.deleted).count(),
            started.elapsed()
        );
    }
}
