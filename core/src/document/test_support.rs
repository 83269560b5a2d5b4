//! Builders shared by the document tests: a sample case, contacts and edit contexts.

use automerge::ActorId;
use jiff::civil::{date, time};
use rand::RngCore;

use super::{CaseDoc, EditCtx, NewCase, NewContact};
use crate::ids::{CaseId, DeviceId};
use crate::model::{Boundaries, ContactMode, ContactWindow, Initiator, LifeArea, ServiceUser};

/// 2026-11-28T12:00:00Z.
pub(crate) const NOW: i64 = 1_795_867_200_000;

pub(crate) fn device(name: &str) -> DeviceId {
    name.parse().expect("test device id")
}

pub(crate) fn actor(rng: &mut dyn RngCore) -> ActorId {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    ActorId::from(bytes)
}

pub(crate) fn sample_new_case(id: CaseId) -> NewCase {
    NewCase {
        id,
        team: "team-north".parse().expect("team"),
        prw: "prw-ola".parse().expect("prw"),
        service_user: ServiceUser {
            alias: "Fjellrev".to_owned(),
            birth_year: Some(1991),
            interests: vec!["fishing".to_owned(), "chess".to_owned()],
            background: vec!["housing first".to_owned()],
        },
        started_on: date(2026, 9, 1),
        planned_end: date(2028, 9, 1),
        boundaries: Boundaries {
            windows: vec![ContactWindow {
                days: vec![1, 2, 3, 4, 5],
                from: time(9, 0, 0, 0),
                to: time(17, 0, 0, 0),
            }],
            channels: vec![ContactMode::Phone, ContactMode::Meeting],
            max_contacts_per_week: Some(5),
            outside_hours_plan: Some("call the crisis line".to_owned()),
            review_on: Some(date(2027, 1, 15)),
        },
    }
}

/// A new case document created by the relay's actor.
pub(crate) fn sample_case(rng: &mut dyn RngCore) -> CaseDoc {
    let id = CaseId::random(rng);
    let relay = device("relay");
    let actor = actor(rng);
    let mut ctx = EditCtx {
        now: NOW,
        device: &relay,
        rng,
    };
    CaseDoc::create(sample_new_case(id), actor, &mut ctx).expect("sample case")
}

pub(crate) fn sample_contact(at: i64) -> NewContact {
    NewContact {
        at,
        tz_offset_min: 60,
        minutes: 45,
        mode: ContactMode::Meeting,
        initiated_by: Initiator::ServiceUser,
        topics: vec![LifeArea::Housing, LifeArea::Finances],
        support_types: vec![],
        note: "Went to the housing office together; next step is the deposit.".to_owned(),
        flag_for_guidance: false,
    }
}

/// A replica of `doc` as another device would hold it: same history, its own actor.
pub(crate) fn replica(doc: &CaseDoc, rng: &mut dyn RngCore) -> CaseDoc {
    CaseDoc::load(doc.id(), &doc.save(), actor(rng)).expect("replica loads")
}
