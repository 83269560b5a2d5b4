//! Peerlog core: the case document model, its operations, insights and the encrypted offline store.
//!
//! A peer recovery worker (PRW) follows one to three service users. Each relationship is a
//! **case**, held as one Automerge document ([`CaseDoc`]) on every device that may see it. Devices
//! edit offline; edits merge without losing a word. This crate does no network or clock IO of its
//! own: the time and randomness come in as arguments, storage sits behind the [`store::Store`]
//! trait.
//!
//! # A tour
//!
//! The relay opens a case; the PRW's phone and tablet each receive it, then go offline. On the
//! phone the PRW logs Saturday's café meeting; on the tablet they add a goal to the plan. On Monday
//! both sync through the relay, and both edits hold everywhere.
//!
//! ```
//! use jiff::civil::date;
//! use peerlog_core::document::{NewContact, NewGoal};
//! use peerlog_core::ids::CaseId;
//! use peerlog_core::local::LocalCases;
//! use peerlog_core::model::*;
//! use peerlog_core::store::MemoryStore;
//! use peerlog_core::{CaseDoc, EditCtx, NewCase};
//! use rand::{SeedableRng, rngs::StdRng};
//!
//! let mut rng = StdRng::seed_from_u64(1);
//! let saturday = 1_795_881_600_000; // 2026-11-28T14:00:00Z
//!
//! // The relay opens the case (devices never create case documents).
//! let relay_id = "relay".parse()?;
//! let case_id = CaseId::random(&mut rng);
//! let mut relay = CaseDoc::create(
//!     NewCase {
//!         id: case_id,
//!         team: "team-north".parse()?,
//!         prw: "prw-ola".parse()?,
//!         service_user: ServiceUser {
//!             alias: "Fjellrev".into(),
//!             birth_year: Some(1991),
//!             interests: vec!["fishing".into()],
//!             background: vec![],
//!         },
//!         started_on: date(2026, 9, 1),
//!         planned_end: date(2028, 9, 1),
//!         boundaries: Boundaries::default(),
//!     },
//!     automerge::ActorId::random(),
//!     &mut EditCtx { now: saturday, device: &relay_id, rng: &mut rng },
//! )?;
//!
//! // Phone and tablet each receive the case, then lose signal.
//! let mut phone = LocalCases::open(MemoryStore::default(), "phone".parse()?, &mut rng)?;
//! let mut tablet = LocalCases::open(MemoryStore::default(), "tablet".parse()?, &mut rng)?;
//! phone.receive(&case_id, &relay.save())?;
//! tablet.receive(&case_id, &relay.save())?;
//!
//! let contact = phone.edit(&case_id, saturday, &mut rng, |doc, ctx| {
//!     doc.log_contact(ctx, &NewContact {
//!         at: saturday - 90 * 60_000,
//!         tz_offset_min: 60,
//!         minutes: 60,
//!         mode: ContactMode::Meeting,
//!         initiated_by: Initiator::ServiceUser,
//!         topics: vec![LifeArea::Housing],
//!         support_types: vec![SupportType::Emotional],
//!         note: "Coffee; worried about the flat viewing.".into(),
//!         flag_for_guidance: true,
//!     })
//! })?;
//! let goal = tablet.edit(&case_id, saturday, &mut rng, |doc, ctx| {
//!     doc.add_goal(ctx, &NewGoal { area: LifeArea::Housing, text: "My own flat".into(), review_on: None })
//! })?;
//! assert_eq!(phone.pending_count()?, 1, "saved on the phone, not yet at the relay");
//!
//! // Monday: both sync through the relay.
//! for device in [&mut phone, &mut tablet] {
//!     let heads = relay.heads();
//!     let (theirs, _) = device.doc(&case_id).unwrap().changes_since(&heads);
//!     relay.apply_encoded(&theirs)?;
//!     device.confirm(&case_id, &relay.heads())?;
//! }
//! for device in [&mut phone, &mut tablet] {
//!     device.receive(&case_id, &relay.save())?;
//! }
//!
//! let on_phone = phone.read(&case_id)?;
//! assert_eq!(on_phone, tablet.read(&case_id)?);
//! assert!(on_phone.contacts[&contact].flag_for_guidance);
//! assert_eq!(on_phone.plan.goals[&goal].text, "My own flat");
//! assert_eq!(phone.pending_count()? + tablet.pending_count()?, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod client;
pub mod crypto;
pub mod directory;
pub mod document;
pub mod ids;
pub mod insights;
pub mod local;
pub mod matching;
pub mod model;
pub mod net;
pub mod protocol;
pub mod settings;
pub mod store;

pub use document::{CaseDoc, DocumentError, EditCtx, EditError, NewCase};
