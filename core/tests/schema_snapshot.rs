//! Snapshot of the persisted case-document shape (schema 1): key names, value types and
//! structure that stock automerge-repo clients and older app versions read.
//!
//! A change to this snapshot is a change to the storage and wire format: bump the schema or make
//! sure it is additive (see `core/src/document/schema.rs`), then regenerate with
//! `PEERLOG_UPDATE_SNAPSHOTS=1 cargo test -p peerlog-core --test schema_snapshot`.

use std::fmt::Write;

use automerge::ScalarValue;
use automerge::hydrate::Value;
use jiff::civil::{date, time};
use peerlog_core::document::{NewContact, NewGoal};
use peerlog_core::ids::{CaseId, DeviceId};
use peerlog_core::model::*;
use peerlog_core::{CaseDoc, EditCtx, NewCase};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

const NOW: i64 = 1_795_867_200_000;

fn render(value: &Value, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent + 1);
    match value {
        Value::Scalar(s) => out.push_str(&scalar(s)),
        Value::Text(t) => write!(out, "text {:?}", t.to_string()).unwrap(),
        Value::Map(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push_str("{\n");
            for (key, v) in entries {
                write!(out, "{pad}{key:?}: ").unwrap();
                render(&v.value, indent + 1, out);
                out.push('\n');
            }
            write!(out, "{}}}", "  ".repeat(indent)).unwrap();
        }
        Value::List(list) => {
            out.push_str("[\n");
            for item in list.iter() {
                out.push_str(&pad);
                render(&item.value, indent + 1, out);
                out.push('\n');
            }
            write!(out, "{}]", "  ".repeat(indent)).unwrap();
        }
    }
}

fn scalar(s: &ScalarValue) -> String {
    match s {
        ScalarValue::Str(v) => format!("str {v:?}"),
        ScalarValue::Int(v) => format!("int {v}"),
        ScalarValue::Uint(v) => format!("uint {v}"),
        ScalarValue::Timestamp(v) => format!("timestamp {v}"),
        ScalarValue::Boolean(v) => format!("bool {v}"),
        other => format!("{other:?}"),
    }
}

#[test]
fn case_document_shape_is_stable() {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let relay: DeviceId = "relay".parse().unwrap();
    let phone: DeviceId = "phone-1".parse().unwrap();
    let id = CaseId::random(&mut rng);
    let mut doc = CaseDoc::create(
        NewCase {
            id,
            team: "team-north".parse().unwrap(),
            prw: "prw-ola".parse().unwrap(),
            service_user: ServiceUser {
                alias: "Fjellrev".into(),
                birth_year: Some(1991),
                interests: vec!["fishing".into()],
                background: vec!["prison".into()],
            },
            started_on: date(2026, 9, 1),
            planned_end: date(2028, 9, 1),
            boundaries: Boundaries {
                windows: vec![ContactWindow {
                    days: vec![1, 3],
                    from: time(9, 0, 0, 0),
                    to: time(15, 30, 0, 0),
                }],
                channels: vec![ContactMode::Phone],
                max_contacts_per_week: Some(4),
                outside_hours_plan: Some("crisis line".into()),
                review_on: Some(date(2027, 1, 1)),
            },
        },
        automerge::ActorId::from([1u8; 16]),
        &mut EditCtx {
            now: NOW,
            device: &relay,
            rng: &mut rng,
        },
    )
    .unwrap();
    let mut ctx = EditCtx {
        now: NOW,
        device: &phone,
        rng: &mut rng,
    };
    doc.log_contact(
        &mut ctx,
        &NewContact {
            at: NOW - 3_600_000,
            tz_offset_min: 60,
            minutes: 45,
            mode: ContactMode::Accompany,
            initiated_by: Initiator::Prw,
            topics: vec![LifeArea::Housing],
            support_types: vec![SupportType::Instrumental],
            note: "NAV".into(),
            flag_for_guidance: true,
        },
    )
    .unwrap();
    let goal = doc
        .add_goal(
            &mut ctx,
            &NewGoal {
                area: LifeArea::Work,
                text: "A job".into(),
                review_on: Some(date(2027, 3, 1)),
            },
        )
        .unwrap();
    doc.add_step(&mut ctx, &goal, "CV").unwrap();
    doc.add_agreement(&mut ctx, "Tell me if you cancel", date(2026, 9, 1))
        .unwrap();
    doc.set_use_plan(&mut ctx, "Call me").unwrap();

    let mut rendered = String::new();
    render(&doc.automerge().hydrate(None), 0, &mut rendered);
    rendered.push('\n');

    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/case-schema-v1.txt");
    if std::env::var_os("PEERLOG_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .expect("snapshot fixture (generate with PEERLOG_UPDATE_SNAPSHOTS=1)");
    assert_eq!(
        rendered, expected,
        "the case document shape changed; see this file's header"
    );
}
