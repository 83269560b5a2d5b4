//! The door check against the phone's own operations and against hostile writes.

use automerge::transaction::{Transactable, Transaction};
use automerge::{ActorId, Change, ObjType, ROOT, ReadDoc, ScalarValue};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{Checked, Refusal, check_device_changes};
use crate::document::NewGoal;
use crate::document::test_support::{NOW, device, replica, sample_case, sample_contact};
use crate::model::LifeArea;
use crate::{CaseDoc, EditCtx};

fn rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(11)
}

/// Writes with a raw automerge transaction on a device's copy (as a hostile client would), then
/// checks the new changes applied to the relay's copy.
fn device_writes(
    relay: &CaseDoc,
    write: impl FnOnce(&mut Transaction<'_>),
) -> Result<Checked, Refusal> {
    let mut copy = relay.automerge().fork().with_actor(ActorId::random());
    let before = copy.get_heads();
    let mut tx = copy.transaction();
    write(&mut tx);
    tx.commit();
    let changes: Vec<Change> = copy.get_changes(&before);
    let mut merged = relay.automerge().clone();
    merged.apply_changes(changes.clone()).unwrap();
    let refs: Vec<&Change> = changes.iter().collect();
    check_device_changes(&merged, &refs)
}

fn child(tx: &Transaction<'_>, parent: &automerge::ObjId, key: &str) -> automerge::ObjId {
    tx.get(parent, key).unwrap().unwrap().1
}

#[test]
fn every_operation_of_the_phone_passes() {
    let mut rng = rng();
    let relay = sample_case(&mut rng);
    let mut phone = replica(&relay, &mut rng);
    let before = phone.heads();
    let id = device("phone-1");
    let mut ctx = EditCtx {
        now: NOW,
        device: &id,
        rng: &mut rng,
    };
    let contact = phone
        .log_contact(&mut ctx, &sample_contact(NOW - 3_600_000))
        .unwrap();
    phone.flag_contact(&mut ctx, &contact, true).unwrap();
    let goal = phone
        .add_goal(
            &mut ctx,
            &NewGoal {
                area: LifeArea::Work,
                text: "A job by summer".into(),
                review_on: None,
            },
        )
        .unwrap();
    let step = phone.add_step(&mut ctx, &goal, "Write a CV").unwrap();
    phone.set_step_done(&mut ctx, &goal, &step, true).unwrap();
    phone
        .edit_step(&mut ctx, &goal, &step, "Write a short CV")
        .unwrap();
    phone.remove_step(&mut ctx, &goal, &step).unwrap();
    phone
        .edit_goal_text(&mut ctx, &goal, "A job by autumn")
        .unwrap();
    phone
        .set_goal_area(&mut ctx, &goal, LifeArea::Education)
        .unwrap();
    let agreement = phone
        .add_agreement(
            &mut ctx,
            "Tell me if you cancel",
            "2026-02-01".parse().unwrap(),
        )
        .unwrap();
    phone.remove_agreement(&mut ctx, &agreement).unwrap();
    phone.set_use_plan(&mut ctx, "Call me first").unwrap();
    let boundaries = relay.read().unwrap().boundaries;
    phone.set_boundaries(&mut ctx, &boundaries).unwrap();
    phone
        .set_contact_windows(&mut ctx, &boundaries.windows)
        .unwrap();
    phone.delete_contact(&mut ctx, &contact).unwrap();

    let changes: Vec<Change> = phone.automerge().get_changes(&before);
    let refs: Vec<&Change> = changes.iter().collect();
    let checked = check_device_changes(phone.automerge(), &refs).unwrap();
    assert_eq!(checked.changes, changes.len());
    assert!(checked.ops > 20, "{checked:?}");
}

#[test]
fn relay_owned_fields_are_refused() {
    let relay = sample_case(&mut rng());
    for key in [
        "schema",
        "caseId",
        "team",
        "prw",
        "status",
        "startedOn",
        "plannedEnd",
        "closedReason",
        "serviceUser",
    ] {
        let refused = device_writes(&relay, |tx| tx.put(ROOT, key, "x").unwrap());
        assert!(
            matches!(refused, Err(Refusal::RelayOwned(k)) if k == key),
            "{key}: {refused:?}"
        );
    }
    let refused = device_writes(&relay, |tx| tx.delete(ROOT, "prw").unwrap());
    assert_eq!(refused, Err(Refusal::RelayOwned("prw")));
    let refused = device_writes(&relay, |tx| {
        let su = child(tx, &ROOT, "serviceUser");
        tx.put(&su, "alias", "Other").unwrap();
    });
    assert_eq!(refused, Err(Refusal::RelayOwned("serviceUser")));
}

#[test]
fn unknown_root_keys_and_deep_nesting_are_refused() {
    let relay = sample_case(&mut rng());
    let refused = device_writes(&relay, |tx| {
        let mut at = tx.put_object(ROOT, "notes", ObjType::Map).unwrap();
        for _ in 0..1_000 {
            at = tx.put_object(&at, "x", ObjType::Map).unwrap();
        }
    });
    assert_eq!(refused, Err(Refusal::UnknownKey("root")));

    let refused = device_writes(&relay, |tx| {
        let contacts = child(tx, &ROOT, "contacts");
        let entry = tx
            .put_object(&contacts, "0123456789abcdef", ObjType::Map)
            .unwrap();
        let mut at = tx.put_object(&entry, "extra", ObjType::Map).unwrap();
        for _ in 0..10_000 {
            at = tx.put_object(&at, "x", ObjType::Map).unwrap();
        }
    });
    assert_eq!(refused, Err(Refusal::UnknownKey("contacts")));

    let refused = device_writes(&relay, |tx| {
        let contacts = child(tx, &ROOT, "contacts");
        let entry = tx
            .put_object(&contacts, "0123456789abcdef", ObjType::Map)
            .unwrap();
        let topics = tx.put_object(&entry, "topics", ObjType::List).unwrap();
        tx.insert_object(&topics, 0, ObjType::Map).unwrap();
    });
    assert_eq!(refused, Err(Refusal::WrongType("list item")));
}

#[test]
fn wrong_types_in_contact_fields_are_refused() {
    let relay = sample_case(&mut rng());
    let contact_with = |key: &'static str, value: Option<ScalarValue>, kind: Option<ObjType>| {
        device_writes(&relay, move |tx| {
            let contacts = child(tx, &ROOT, "contacts");
            let entry = tx
                .put_object(&contacts, "0123456789abcdef", ObjType::Map)
                .unwrap();
            if let Some(v) = value {
                tx.put(&entry, key, v).unwrap();
            }
            if let Some(k) = kind {
                tx.put_object(&entry, key, k).unwrap();
            }
        })
    };
    let wrong = |field| Err(Refusal::WrongType(field));
    assert_eq!(
        contact_with("note", None, Some(ObjType::Map)),
        wrong("contacts.note")
    );
    assert!(contact_with("note", None, Some(ObjType::Text)).is_ok());
    assert!(contact_with("note", Some("plain".into()), None).is_ok());
    assert_eq!(
        contact_with("minutes", Some("sixty".into()), None),
        wrong("contacts.minutes")
    );
    assert_eq!(
        contact_with("minutes", None, Some(ObjType::List)),
        wrong("contacts.minutes")
    );
    assert_eq!(
        contact_with("mode", None, Some(ObjType::Map)),
        wrong("contacts.mode")
    );
    // The stock JavaScript client writes every string as Text.
    assert!(contact_with("mode", None, Some(ObjType::Text)).is_ok());
    assert_eq!(
        contact_with("deleted", Some(ScalarValue::Int(1)), None),
        wrong("contacts.deleted")
    );
    assert_eq!(
        contact_with("at", Some(ScalarValue::Int(-5)), None),
        Err(Refusal::OutOfRange("contacts.at"))
    );
    assert_eq!(
        contact_with("at", Some(ScalarValue::Timestamp(99_999_999_999_999)), None),
        Err(Refusal::OutOfRange("contacts.at"))
    );
    assert_eq!(
        contact_with("minutes", Some(ScalarValue::counter(1)), None),
        Err(Refusal::Counter)
    );
    assert_eq!(
        contact_with("note", Some("x".repeat(20_000).into()), None),
        Err(Refusal::OutOfRange("contacts.note"))
    );
    // A number as JavaScript writes it, and a newer version's optional scalar field, are kept.
    assert!(contact_with("minutes", Some(ScalarValue::F64(45.0)), None).is_ok());
    assert!(contact_with("mood", Some("ok".into()), None).is_ok());
}

#[test]
fn entry_maps_are_never_replaced_and_contacts_never_removed() {
    let mut rng = rng();
    let relay = sample_case(&mut rng);
    let refused = device_writes(&relay, |tx| {
        tx.put_object(ROOT, "contacts", ObjType::Map).unwrap();
    });
    assert_eq!(refused, Err(Refusal::Structure("contacts")));
    let refused = device_writes(&relay, |tx| {
        let plan = child(tx, &ROOT, "plan");
        tx.put_object(&plan, "goals", ObjType::Map).unwrap();
    });
    assert_eq!(refused, Err(Refusal::Structure("goals")));

    let mut with_contact = replica(&relay, &mut rng);
    let id = device("phone-1");
    let contact = with_contact
        .log_contact(
            &mut EditCtx {
                now: NOW,
                device: &id,
                rng: &mut rng,
            },
            &sample_contact(NOW - 60_000),
        )
        .unwrap();
    let refused = device_writes(&with_contact, |tx| {
        let contacts = child(tx, &ROOT, "contacts");
        tx.delete(&contacts, contact.as_str()).unwrap();
    });
    assert_eq!(refused, Err(Refusal::Structure("contacts")));
}
