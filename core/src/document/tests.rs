//! Tests of case operations: each works offline, refuses bad input cleanly, and merges as promised.

use automerge::ReadDoc;
use automerge::transaction::Transactable;
use jiff::civil::{date, time};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::test_support::*;
use super::*;
use crate::model::{
    CaseStatus, ContactMode, ContactWindow, GoalStatus, Initiator, LifeArea, SupportType,
};

fn rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(42)
}

fn ctx<'a>(device: &'a crate::ids::DeviceId, rng: &'a mut ChaCha8Rng) -> EditCtx<'a> {
    EditCtx {
        now: NOW,
        device,
        rng,
    }
}

/// Asserts that `result` is an invalid-input error for `field` and that the document is unchanged.
fn assert_refused<T: std::fmt::Debug>(
    doc: &CaseDoc,
    before: &[automerge::ChangeHash],
    result: Result<T, EditError>,
    field: &str,
) {
    match result {
        Err(EditError::Invalid(Invalid { field: f, .. })) => assert_eq!(f, field),
        other => panic!("expected invalid {field}, got {other:?}"),
    }
    assert_eq!(
        doc.heads(),
        before,
        "a refused edit must not change the document"
    );
}

macro_rules! refused {
    ($doc:ident, $before:ident, $result:expr, $field:expr) => {{
        let result = $result;
        assert_refused(&$doc, &$before, result, $field);
    }};
}

#[test]
fn a_new_case_reads_back_as_created() {
    let mut rng = rng();
    let doc = sample_case(&mut rng);
    let case = doc.read().unwrap();
    let expected = sample_new_case(doc.id());
    assert_eq!(case.id, doc.id());
    assert_eq!(case.schema, schema::CURRENT_SCHEMA);
    assert_eq!(case.service_user, expected.service_user);
    assert_eq!(case.boundaries, expected.boundaries);
    assert_eq!(case.status, CaseStatus::Active);
    assert_eq!(case.started_on, expected.started_on);
    assert!(case.contacts.is_empty());
    assert_eq!(case.unreadable_entries, 0);
}

#[test]
fn changes_carry_their_time_and_operation_name() {
    let mut rng = rng();
    let mut doc = sample_case(&mut rng);
    let phone = device("phone-1");
    doc.log_contact(&mut ctx(&phone, &mut rng), &sample_contact(NOW - 3_600_000))
        .unwrap();
    let change = doc.automerge().get_last_local_change().unwrap();
    assert_eq!(change.timestamp(), NOW / 1000);
    assert_eq!(change.message(), Some("log-contact"));
}

#[test]
fn contact_life_cycle() {
    let mut rng = rng();
    let mut doc = sample_case(&mut rng);
    let phone = device("phone-1");
    let at = NOW - 3_600_000;
    let id = doc
        .log_contact(&mut ctx(&phone, &mut rng), &sample_contact(at))
        .unwrap();
    let c = doc.read().unwrap().contacts[&id].clone();
    assert_eq!(
        (c.at, c.minutes, c.mode, c.logged_by.as_str()),
        (at, 45, ContactMode::Meeting, "phone-1")
    );
    assert_eq!(c.logged_at, NOW);
    assert!(!c.flag_for_guidance && !c.deleted);

    let patch = ContactPatch {
        minutes: Some(90),
        topics: Some(vec![LifeArea::Work]),
        support_types: Some(vec![SupportType::Emotional, SupportType::Emotional]),
        note: Some("Changed plan: job centre instead.".to_owned()),
        ..ContactPatch::default()
    };
    doc.edit_contact(&mut ctx(&phone, &mut rng), &id, &patch)
        .unwrap();
    doc.flag_contact(&mut ctx(&phone, &mut rng), &id, true)
        .unwrap();
    let c = doc.read().unwrap().contacts[&id].clone();
    assert_eq!(c.minutes, 90);
    assert_eq!(c.topics, vec![LifeArea::Work]);
    assert_eq!(c.support_types, vec![SupportType::Emotional]);
    assert_eq!(c.note, "Changed plan: job centre instead.");
    assert!(c.flag_for_guidance);
    assert_eq!(c.mode, ContactMode::Meeting, "untouched fields stay");

    doc.delete_contact(&mut ctx(&phone, &mut rng), &id).unwrap();
    let case = doc.read().unwrap();
    assert!(case.contacts[&id].deleted);
    assert!(
        case.contacts[&id].note.is_empty(),
        "a deleted note is cleared"
    );
    assert_eq!(case.live_contacts().count(), 0);
    assert!(matches!(
        doc.edit_contact(&mut ctx(&phone, &mut rng), &id, &patch),
        Err(EditError::ContactDeleted)
    ));
}

#[test]
fn plan_life_cycle() {
    let mut rng = rng();
    let mut doc = sample_case(&mut rng);
    let phone = device("phone-1");
    let goal = doc
        .add_goal(
            &mut ctx(&phone, &mut rng),
            &NewGoal {
                area: LifeArea::Housing,
                text: "Get my own flat".to_owned(),
                review_on: Some(date(2027, 2, 1)),
            },
        )
        .unwrap();
    doc.edit_goal_text(
        &mut ctx(&phone, &mut rng),
        &goal,
        "Get my own flat by summer",
    )
    .unwrap();
    doc.set_goal_status(&mut ctx(&phone, &mut rng), &goal, GoalStatus::Active)
        .unwrap();
    doc.set_goal_area(&mut ctx(&phone, &mut rng), &goal, LifeArea::Finances)
        .unwrap();
    doc.set_goal_review(&mut ctx(&phone, &mut rng), &goal, None)
        .unwrap();
    let step = doc
        .add_step(&mut ctx(&phone, &mut rng), &goal, "Visit NAV")
        .unwrap();
    doc.edit_step(
        &mut ctx(&phone, &mut rng),
        &goal,
        &step,
        "Visit NAV on Tuesday",
    )
    .unwrap();
    doc.set_step_done(&mut ctx(&phone, &mut rng), &goal, &step, true)
        .unwrap();
    let gone = doc
        .add_step(&mut ctx(&phone, &mut rng), &goal, "to be removed")
        .unwrap();
    doc.remove_step(&mut ctx(&phone, &mut rng), &goal, &gone)
        .unwrap();
    let agreement = doc
        .add_agreement(
            &mut ctx(&phone, &mut rng),
            "Tell me if you cancel",
            date(2026, 10, 1),
        )
        .unwrap();
    doc.set_use_plan(
        &mut ctx(&phone, &mut rng),
        "Call me, then we go to the clinic together.",
    )
    .unwrap();

    let plan = doc.read().unwrap().plan;
    let g = &plan.goals[&goal];
    assert_eq!(g.text, "Get my own flat by summer");
    assert_eq!(
        (g.status, g.area, g.review_on),
        (GoalStatus::Active, LifeArea::Finances, None)
    );
    assert_eq!(g.steps.len(), 1);
    assert_eq!(g.steps[&step].text, "Visit NAV on Tuesday");
    assert!(g.steps[&step].done);
    assert_eq!(plan.agreements[&agreement].text, "Tell me if you cancel");
    assert_eq!(plan.use_plan, "Call me, then we go to the clinic together.");

    doc.remove_agreement(&mut ctx(&phone, &mut rng), &agreement)
        .unwrap();
    assert!(doc.read().unwrap().plan.agreements.is_empty());
}

#[test]
fn boundaries_and_status() {
    let mut rng = rng();
    let mut doc = sample_case(&mut rng);
    let phone = device("phone-1");
    let windows = vec![ContactWindow {
        days: vec![6, 1, 1],
        from: time(10, 0, 0, 0),
        to: time(12, 30, 0, 0),
    }];
    doc.set_contact_windows(&mut ctx(&phone, &mut rng), &windows)
        .unwrap();
    let case = doc.read().unwrap();
    assert_eq!(case.boundaries.windows[0].days, vec![1, 6]);
    assert_eq!(case.boundaries.windows[0].to, time(12, 30, 0, 0));
    assert_eq!(
        case.boundaries.max_contacts_per_week,
        Some(5),
        "other fields stay"
    );

    let mut b = case.boundaries.clone();
    b.max_contacts_per_week = None;
    b.outside_hours_plan = Some("   ".to_owned());
    doc.set_boundaries(&mut ctx(&phone, &mut rng), &b).unwrap();
    let case = doc.read().unwrap();
    assert_eq!(case.boundaries.max_contacts_per_week, None);
    assert_eq!(case.boundaries.outside_hours_plan, None);

    doc.set_status(
        &mut ctx(&phone, &mut rng),
        CaseStatus::Closed,
        Some("plan completed"),
    )
    .unwrap();
    let case = doc.read().unwrap();
    assert_eq!(case.status, CaseStatus::Closed);
    assert_eq!(case.closed_reason.as_deref(), Some("plan completed"));
    doc.set_status(&mut ctx(&phone, &mut rng), CaseStatus::Active, None)
        .unwrap();
    assert_eq!(doc.read().unwrap().closed_reason, None);
}

#[test]
fn reassigning_writes_the_new_prw_once_and_never_on_a_closed_case() {
    let mut rng = rng();
    let mut doc = sample_case(&mut rng);
    let relay = device("relay");
    let kari: crate::ids::UserId = "prw-kari".parse().unwrap();

    doc.set_prw(&mut ctx(&relay, &mut rng), &kari).unwrap();
    assert_eq!(doc.read().unwrap().prw, kari);
    let heads = doc.heads();
    let change = doc.automerge().get_last_local_change().unwrap();
    assert_eq!(change.message(), Some("set-prw"));

    doc.set_prw(&mut ctx(&relay, &mut rng), &kari).unwrap();
    assert_eq!(doc.heads(), heads, "the same PRW again writes nothing");

    doc.set_status(
        &mut ctx(&relay, &mut rng),
        CaseStatus::Closed,
        Some("moved"),
    )
    .unwrap();
    let closed = doc.heads();
    let ola: crate::ids::UserId = "prw-ola".parse().unwrap();
    assert!(matches!(
        doc.set_prw(&mut ctx(&relay, &mut rng), &ola),
        Err(EditError::CaseClosed)
    ));
    assert_eq!(doc.heads(), closed);
}

#[test]
fn every_operation_refuses_bad_input_without_writing() {
    let mut rng = rng();
    let mut doc = sample_case(&mut rng);
    let phone = device("phone-1");
    let contact = doc
        .log_contact(&mut ctx(&phone, &mut rng), &sample_contact(NOW))
        .unwrap();
    let goal = doc
        .add_goal(
            &mut ctx(&phone, &mut rng),
            &NewGoal {
                area: LifeArea::Health,
                text: "Sleep better".to_owned(),
                review_on: None,
            },
        )
        .unwrap();
    let step = doc
        .add_step(&mut ctx(&phone, &mut rng), &goal, "Walk daily")
        .unwrap();
    let before = doc.heads();
    let long_note = "x".repeat(validate::NOTE_MAX_CHARS + 1);

    let mut c = sample_contact(NOW);
    c.minutes = -5;
    refused!(
        doc,
        before,
        doc.clone().log_contact(&mut ctx(&phone, &mut rng), &c),
        "minutes"
    );
    c.minutes = 10_000;
    refused!(
        doc,
        before,
        doc.clone().log_contact(&mut ctx(&phone, &mut rng), &c),
        "minutes"
    );
    let mut c = sample_contact(NOW + 3 * 24 * 3_600_000);
    refused!(
        doc,
        before,
        doc.clone().log_contact(&mut ctx(&phone, &mut rng), &c),
        "at"
    );
    c.at = 0;
    refused!(
        doc,
        before,
        doc.clone().log_contact(&mut ctx(&phone, &mut rng), &c),
        "at"
    );
    let mut c = sample_contact(NOW);
    c.tz_offset_min = 24 * 60;
    refused!(
        doc,
        before,
        doc.clone().log_contact(&mut ctx(&phone, &mut rng), &c),
        "tzOffsetMin"
    );
    let mut c = sample_contact(NOW);
    c.note = long_note.clone();
    refused!(
        doc,
        before,
        doc.log_contact(&mut ctx(&phone, &mut rng), &c),
        "note"
    );
    c.note = "bell\u{7}".to_owned();
    refused!(
        doc,
        before,
        doc.log_contact(&mut ctx(&phone, &mut rng), &c),
        "note"
    );

    let bad_patches = [
        (
            ContactPatch {
                minutes: Some(-1),
                ..Default::default()
            },
            "minutes",
        ),
        (
            ContactPatch {
                at: Some(NOW * 2),
                ..Default::default()
            },
            "at",
        ),
        (
            ContactPatch {
                tz_offset_min: Some(-13 * 60),
                ..Default::default()
            },
            "tzOffsetMin",
        ),
        (
            ContactPatch {
                note: Some(long_note.clone()),
                ..Default::default()
            },
            "note",
        ),
    ];
    for (patch, field) in bad_patches {
        refused!(
            doc,
            before,
            doc.edit_contact(&mut ctx(&phone, &mut rng), &contact, &patch),
            field
        );
    }

    let empty_goal = NewGoal {
        area: LifeArea::Work,
        text: "  ".to_owned(),
        review_on: None,
    };
    refused!(
        doc,
        before,
        doc.add_goal(&mut ctx(&phone, &mut rng), &empty_goal),
        "text"
    );
    refused!(
        doc,
        before,
        doc.edit_goal_text(&mut ctx(&phone, &mut rng), &goal, ""),
        "text"
    );
    refused!(
        doc,
        before,
        doc.add_step(&mut ctx(&phone, &mut rng), &goal, "\n"),
        "text"
    );
    refused!(
        doc,
        before,
        doc.edit_step(&mut ctx(&phone, &mut rng), &goal, &step, &"y".repeat(501)),
        "text"
    );
    refused!(
        doc,
        before,
        doc.add_agreement(&mut ctx(&phone, &mut rng), "", date(2026, 1, 1)),
        "text"
    );
    refused!(
        doc,
        before,
        doc.set_use_plan(&mut ctx(&phone, &mut rng), &"z".repeat(4_001)),
        "usePlan"
    );
    let bad_windows = [
        (
            vec![ContactWindow {
                days: vec![],
                from: time(9, 0, 0, 0),
                to: time(10, 0, 0, 0),
            }],
            "windows.days",
        ),
        (
            vec![ContactWindow {
                days: vec![8],
                from: time(9, 0, 0, 0),
                to: time(10, 0, 0, 0),
            }],
            "windows.days",
        ),
        (
            vec![ContactWindow {
                days: vec![1],
                from: time(11, 0, 0, 0),
                to: time(10, 0, 0, 0),
            }],
            "windows.to",
        ),
    ];
    for (windows, field) in bad_windows {
        refused!(
            doc,
            before,
            doc.set_contact_windows(&mut ctx(&phone, &mut rng), &windows),
            field
        );
    }
    let mut b = doc.read().unwrap().boundaries;
    b.max_contacts_per_week = Some(0);
    refused!(
        doc,
        before,
        doc.set_boundaries(&mut ctx(&phone, &mut rng), &b),
        "maxContactsPerWeek"
    );
    refused!(
        doc,
        before,
        doc.set_status(&mut ctx(&phone, &mut rng), CaseStatus::Closed, None),
        "closedReason"
    );

    // Unknown ids are "not found", and still write nothing.
    let unknown: crate::ids::EntryId = "00000000000000ff".parse().unwrap();
    let not_found = [
        doc.flag_contact(&mut ctx(&phone, &mut rng), &unknown, true),
        doc.delete_contact(&mut ctx(&phone, &mut rng), &unknown),
        doc.set_goal_status(&mut ctx(&phone, &mut rng), &unknown, GoalStatus::Reached),
        doc.set_step_done(&mut ctx(&phone, &mut rng), &goal, &unknown, true),
        doc.remove_step(&mut ctx(&phone, &mut rng), &goal, &unknown),
        doc.remove_agreement(&mut ctx(&phone, &mut rng), &unknown),
    ];
    for result in not_found {
        assert!(
            matches!(result, Err(EditError::NotFound { .. })),
            "{result:?}"
        );
    }
    assert_eq!(doc.heads(), before);
}

#[test]
fn a_closed_case_refuses_edits_until_reopened() {
    let mut rng = rng();
    let mut doc = sample_case(&mut rng);
    let phone = device("phone-1");
    doc.set_status(
        &mut ctx(&phone, &mut rng),
        CaseStatus::Closed,
        Some("moved away"),
    )
    .unwrap();
    let before = doc.heads();
    assert!(matches!(
        doc.log_contact(&mut ctx(&phone, &mut rng), &sample_contact(NOW)),
        Err(EditError::CaseClosed)
    ));
    assert!(matches!(
        doc.set_use_plan(&mut ctx(&phone, &mut rng), "x"),
        Err(EditError::CaseClosed)
    ));
    assert_eq!(doc.heads(), before);
    doc.set_status(&mut ctx(&phone, &mut rng), CaseStatus::Active, None)
        .unwrap();
    doc.log_contact(&mut ctx(&phone, &mut rng), &sample_contact(NOW))
        .unwrap();
}

#[test]
fn case_creation_validates_the_profile() {
    let mut rng = rng();
    let relay = device("relay");
    let mut new = sample_new_case(crate::ids::CaseId::random(&mut rng));
    new.service_user.alias = String::new();
    let a = actor(&mut rng);
    let err = CaseDoc::create(new.clone(), a.clone(), &mut ctx(&relay, &mut rng)).unwrap_err();
    assert!(matches!(
        err,
        EditError::Invalid(Invalid { field: "alias", .. })
    ));
    new.service_user.alias = "Ok".to_owned();
    new.service_user.birth_year = Some(3000);
    let err = CaseDoc::create(new.clone(), a.clone(), &mut ctx(&relay, &mut rng)).unwrap_err();
    assert!(matches!(
        err,
        EditError::Invalid(Invalid {
            field: "birthYear",
            ..
        })
    ));
    new.service_user.birth_year = None;
    new.planned_end = date(2020, 1, 1);
    let err = CaseDoc::create(new, a, &mut ctx(&relay, &mut rng)).unwrap_err();
    assert!(matches!(
        err,
        EditError::Invalid(Invalid {
            field: "plannedEnd",
            ..
        })
    ));
}

#[test]
fn edit_and_delete_of_one_contact_on_two_devices_merge_to_deleted() {
    let mut rng = rng();
    let mut phone_doc = sample_case(&mut rng);
    let (phone, tablet) = (device("phone"), device("tablet"));
    let id = phone_doc
        .log_contact(&mut ctx(&phone, &mut rng), &sample_contact(NOW))
        .unwrap();
    let mut tablet_doc = replica(&phone_doc, &mut rng);
    phone_doc
        .edit_contact(
            &mut ctx(&phone, &mut rng),
            &id,
            &ContactPatch {
                note: Some("edited".to_owned()),
                minutes: Some(5),
                ..Default::default()
            },
        )
        .unwrap();
    tablet_doc
        .delete_contact(&mut ctx(&tablet, &mut rng), &id)
        .unwrap();
    phone_doc.merge(&mut tablet_doc).unwrap();
    tablet_doc.merge(&mut phone_doc).unwrap();
    let (a, b) = (phone_doc.read().unwrap(), tablet_doc.read().unwrap());
    assert_eq!(a, b);
    assert!(
        a.contacts[&id].deleted,
        "the tombstone wins over a concurrent edit"
    );
}

#[test]
fn concurrent_goal_text_edits_keep_both_words() {
    let mut rng = rng();
    let mut a = sample_case(&mut rng);
    let (pa, pb) = (device("phone"), device("tablet"));
    let goal = a
        .add_goal(
            &mut ctx(&pa, &mut rng),
            &NewGoal {
                area: LifeArea::Work,
                text: "Find a job".to_owned(),
                review_on: None,
            },
        )
        .unwrap();
    let mut b = replica(&a, &mut rng);
    a.edit_goal_text(&mut ctx(&pa, &mut rng), &goal, "Find a part-time job")
        .unwrap();
    b.edit_goal_text(&mut ctx(&pb, &mut rng), &goal, "Find a job I like")
        .unwrap();
    a.merge(&mut b).unwrap();
    let text = a.read().unwrap().plan.goals[&goal].text.clone();
    assert!(
        text.contains("part-time") && text.contains("I like"),
        "{text}"
    );
}

#[test]
fn a_document_from_a_newer_app_is_refused_clearly() {
    let mut rng = rng();
    let mut doc = sample_case(&mut rng);
    doc.automerge_mut()
        .transact(|tx| tx.put(automerge::ROOT, schema::keys::SCHEMA, 99_u64))
        .map_err(|f| f.error)
        .unwrap();
    let err = CaseDoc::load(doc.id(), &doc.save(), actor(&mut rng)).unwrap_err();
    assert!(matches!(
        err,
        DocumentError::NewerSchema {
            found: 99,
            supported: 1
        }
    ));
}

#[test]
fn a_document_stored_under_another_id_is_refused() {
    let mut rng = rng();
    let doc = sample_case(&mut rng);
    let other = crate::ids::CaseId::random(&mut rng);
    assert!(matches!(
        CaseDoc::load(other, &doc.save(), actor(&mut rng)),
        Err(DocumentError::IdMismatch)
    ));
}

#[test]
fn garbage_bytes_fail_to_load_cleanly() {
    let mut rng = rng();
    let id = crate::ids::CaseId::random(&mut rng);
    for bytes in [&b""[..], b"\x85\x6f\x4a\x83garbage", &[0xff; 64]] {
        let result = CaseDoc::load(id, bytes, actor(&mut rng));
        if bytes.is_empty() {
            // An empty input loads as an empty document: nothing received yet.
            assert!(result.unwrap().read().is_err());
        } else {
            assert!(matches!(result, Err(DocumentError::Load(_))));
        }
    }
}

#[test]
fn entries_a_newer_version_wrote_are_counted_not_fatal() {
    let mut rng = rng();
    let mut doc = sample_case(&mut rng);
    let phone = device("phone");
    doc.log_contact(&mut ctx(&phone, &mut rng), &sample_contact(NOW))
        .unwrap();
    doc.automerge_mut()
        .transact(|tx| {
            let (_, contacts) = tx.get(automerge::ROOT, schema::keys::CONTACTS)?.unwrap();
            let c = tx.put_object(&contacts, "00000000000000aa", automerge::ObjType::Map)?;
            tx.put(&c, schema::keys::AT, automerge::ScalarValue::Timestamp(NOW))?;
            tx.put(&c, schema::keys::MINUTES, 10)?;
            tx.put(&c, schema::keys::MODE, "hologram")?;
            tx.put(&c, schema::keys::INITIATED_BY, Initiator::Prw.code())?;
            tx.put(&c, schema::keys::LOGGED_BY, "phone")?;
            Ok::<_, automerge::AutomergeError>(())
        })
        .map_err(|f| f.error)
        .unwrap();
    let case = doc.read().unwrap();
    assert_eq!(case.contacts.len(), 1);
    assert_eq!(case.unreadable_entries, 1);
}

#[test]
fn a_document_nested_ten_thousand_deep_is_refused_without_recursing() {
    let mut rng = rng();
    let mut doc = sample_case(&mut rng);
    let mut tx = doc.automerge_mut().transaction();
    let mut at = tx
        .put_object(automerge::ROOT, "notes", automerge::ObjType::Map)
        .unwrap();
    for _ in 0..10_000 {
        at = tx.put_object(&at, "x", automerge::ObjType::Map).unwrap();
    }
    tx.commit();
    // A small stack: the read must not recurse with the document's depth.
    let read = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || doc.read().map(|_| ()))
        .unwrap()
        .join()
        .expect("the reader must not overflow its stack");
    assert!(matches!(read, Err(DocumentError::TooDeep)), "{read:?}");
}

#[test]
fn a_contact_written_with_text_strings_by_the_stock_javascript_client_reads() {
    let mut rng = rng();
    let mut doc = sample_case(&mut rng);
    let mut tx = doc.automerge_mut().transaction();
    let contacts = tx.get(automerge::ROOT, "contacts").unwrap().unwrap().1;
    let c = tx
        .put_object(&contacts, "c0ffee00c0ffee00", automerge::ObjType::Map)
        .unwrap();
    let text = |tx: &mut automerge::transaction::Transaction<'_>, obj, key: &str, value: &str| {
        let t = tx.put_object(obj, key, automerge::ObjType::Text).unwrap();
        tx.splice_text(&t, 0, 0, value).unwrap();
    };
    tx.put(&c, "at", NOW - 3_600_000).unwrap();
    tx.put(&c, "tzOffsetMin", 60).unwrap();
    tx.put(&c, "minutes", 30).unwrap();
    text(&mut tx, &c, "mode", "meeting");
    text(&mut tx, &c, "initiatedBy", "prw");
    text(&mut tx, &c, "note", "Coffee");
    text(&mut tx, &c, "loggedBy", "js-phone");
    let topics = tx
        .put_object(&c, "topics", automerge::ObjType::List)
        .unwrap();
    let item = tx
        .insert_object(&topics, 0, automerge::ObjType::Text)
        .unwrap();
    tx.splice_text(&item, 0, 0, "housing").unwrap();
    tx.commit();
    let case = doc.read().unwrap();
    assert_eq!(case.unreadable_entries, 0);
    let contact = case.contacts.values().next().expect("the contact reads");
    assert_eq!(contact.mode, ContactMode::Meeting);
    assert_eq!(contact.topics, vec![LifeArea::Housing]);
    assert_eq!(contact.note, "Coffee");
}
