//! What a device sends is checked before the relay keeps it: a real relay, a real enrolled PRW
//! phone with a real device token, and hostile changes to the PRW's own case sent over the stock
//! automerge-repo wire protocol. Every one is refused with a protocol `error` naming the reason;
//! nothing of it is stored or reaches anyone, other cases and devices go on, and the relay's
//! readers still read every case.

use automerge::sync::{self, SyncDoc};
use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, ObjType, ROOT, ReadDoc, ScalarValue};
use peerlog_core::CaseDoc;
use peerlog_core::ids::CaseId;
use peerlog_tests::device::{LiveRelay, TestDevice, wall_ms};
use peerlog_tests::relay_harness::RawClient;

async fn open_case(relay: &LiveRelay, prw: &str, alias: &str) -> CaseId {
    relay
        .admin(&[
            "case", "open", "--prw", prw, "--alias", alias, "--team", "North",
        ])
        .await["caseId"]
        .as_str()
        .expect("case id")
        .parse()
        .expect("case id parses")
}

/// The phone's own sync URL with a fresh real token.
async fn sync_url(relay: &LiveRelay, phone: &mut TestDevice) -> (String, String) {
    let token = phone
        .syncer
        .token(phone.cases.store(), wall_ms())
        .await
        .expect("token");
    let url = format!("ws://{}/sync?token={token}", relay.addr);
    let peer = format!("device-{}", phone.enrolment().device_id);
    (url, peer)
}

/// Syncs until the device holds `case` (the directory arrives first, then the case), bounded.
async fn sync_until_has(device: &mut TestDevice, case: &CaseId) {
    for _ in 0..5 {
        device.sync().await.expect("sync");
        if device.cases.doc(case).is_some() {
            return;
        }
    }
    panic!("{} never received its case", device.name);
}

type Hostile = Box<dyn Fn(&mut Transaction<'_>, &CaseId, &CaseId)>;

fn obj(tx: &Transaction<'_>, path: &[&str]) -> automerge::ObjId {
    let mut at = ROOT;
    for key in path {
        at = tx.get(&at, *key).expect("read").expect("present").1;
    }
    at
}

fn new_contact(tx: &mut Transaction<'_>) -> automerge::ObjId {
    let contacts = obj(tx, &["contacts"]);
    tx.put_object(&contacts, "00000000deadbeef", ObjType::Map)
        .expect("entry")
}

/// Each hostile write, with the reason code the relay must name.
fn hostile_writes() -> Vec<(&'static str, &'static str, Hostile)> {
    vec![
        (
            "1,000 nested maps under a new root key",
            "not know",
            Box::new(|tx, _, _| {
                let mut at = tx.put_object(ROOT, "notes", ObjType::Map).unwrap();
                for _ in 0..1_000 {
                    at = tx.put_object(&at, "x", ObjType::Map).unwrap();
                }
            }),
        ),
        (
            "10,000 nested maps inside a contact",
            "not know",
            Box::new(|tx, _, _| {
                let entry = new_contact(tx);
                let mut at = tx.put_object(&entry, "extra", ObjType::Map).unwrap();
                for _ in 0..10_000 {
                    at = tx.put_object(&at, "x", ObjType::Map).unwrap();
                }
            }),
        ),
        (
            "a 100,000-key map",
            "not know",
            Box::new(|tx, _, _| {
                let map = tx.put_object(ROOT, "wide", ObjType::Map).unwrap();
                for i in 0..100_000 {
                    tx.put(&map, format!("k{i}"), i).unwrap();
                }
            }),
        ),
        (
            "another PRW's id in prw",
            "relay only",
            Box::new(|tx, _, _| tx.put(ROOT, "prw", "kari").unwrap()),
        ),
        (
            "team rewritten",
            "relay only",
            Box::new(|tx, _, _| tx.put(ROOT, "team", "South").unwrap()),
        ),
        (
            "status closed",
            "relay only",
            Box::new(|tx, _, _| tx.put(ROOT, "status", "closed").unwrap()),
        ),
        (
            "startedOn moved",
            "relay only",
            Box::new(|tx, _, _| tx.put(ROOT, "startedOn", "2001-01-01").unwrap()),
        ),
        (
            "another case's id in caseId",
            "relay only",
            Box::new(|tx, _, other| tx.put(ROOT, "caseId", other.to_string()).unwrap()),
        ),
        (
            "caseId as Text",
            "relay only",
            Box::new(|tx, own, _| {
                let text = tx.put_object(ROOT, "caseId", ObjType::Text).unwrap();
                tx.splice_text(&text, 0, 0, &own.to_string()).unwrap();
            }),
        ),
        (
            "a map where the note belongs",
            "wrong type",
            Box::new(|tx, _, _| {
                let entry = new_contact(tx);
                tx.put_object(&entry, "note", ObjType::Map).unwrap();
            }),
        ),
        (
            "a list where minutes belong",
            "wrong type",
            Box::new(|tx, _, _| {
                let entry = new_contact(tx);
                tx.put_object(&entry, "minutes", ObjType::List).unwrap();
            }),
        ),
        (
            "text where a flag belongs",
            "wrong type",
            Box::new(|tx, _, _| {
                let entry = new_contact(tx);
                tx.put(&entry, "flagForGuidance", "yes").unwrap();
            }),
        ),
        (
            "a far-future contact",
            "out of range",
            Box::new(|tx, _, _| {
                let entry = new_contact(tx);
                tx.put(&entry, "at", ScalarValue::Timestamp(99_999_999_999_999))
                    .unwrap();
            }),
        ),
        (
            "a negative time",
            "out of range",
            Box::new(|tx, _, _| {
                let entry = new_contact(tx);
                tx.put(&entry, "at", -1_i64).unwrap();
            }),
        ),
        (
            "the contacts map replaced",
            "may not be replaced",
            Box::new(|tx, _, _| {
                tx.put_object(ROOT, "contacts", ObjType::Map).unwrap();
            }),
        ),
        (
            "a counter",
            "counters",
            Box::new(|tx, _, _| {
                let entry = new_contact(tx);
                tx.put(&entry, "minutes", ScalarValue::counter(5)).unwrap();
            }),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_change_is_refused_and_the_relay_goes_on() {
    let relay = LiveRelay::start().await;
    let dir = tempfile::tempdir().unwrap();
    relay.admin(&["team", "add", "North"]).await;
    for user in ["ola", "kari"] {
        relay
            .admin(&["user", "add", user, "--role", "prw", "--team", "North"])
            .await;
    }
    let own = open_case(&relay, "ola", "Fjellrev").await;
    let other = open_case(&relay, "kari", "Havørn").await;
    let mut phone = TestDevice::enrol(&relay, dir.path(), "ola", "ola-phone", 1).await;
    let mut honest = TestDevice::enrol(&relay, dir.path(), "kari", "kari-phone", 2).await;
    sync_until_has(&mut honest, &other).await;
    let refused_before = relay.state.engine.metrics().changes_refused;

    let (url, peer) = sync_url(&relay, &mut phone).await;
    let mut client = RawClient::joined(&url, &peer).await;
    let mut copy = Automerge::new();
    let mut state = sync::State::new();
    assert!(client.sync_doc(own, &mut copy, &mut state).await);
    let stored_heads = relay.heads(&own);
    assert!(!stored_heads.is_empty());
    let as_opened = CaseDoc::from_automerge(own, relay.doc(&own).unwrap())
        .unwrap()
        .read()
        .unwrap();
    drop(client);

    let writes = hostile_writes();
    for (what, expected, write) in &writes {
        let mut hostile = copy.fork();
        let mut tx = hostile.transaction();
        write(&mut tx, &own, &other);
        tx.commit();
        let (url, peer) = sync_url(&relay, &mut phone).await;
        let mut client = RawClient::joined(&url, &peer).await;
        let mut state = sync::State::new();
        let hello = hostile
            .generate_sync_message(&mut state)
            .expect("a first message");
        client
            .send(&client.sync_message(own, hello.encode(), false))
            .await;
        // The relay answers with what it has; the changes follow once it asks for them.
        let error = loop {
            match client.recv().await {
                peerlog_tests::relay_harness::Received::Message(
                    peerlog_core::protocol::Message::Sync(m),
                ) => {
                    let decoded = sync::Message::decode(&m.data).expect("sync payload");
                    hostile
                        .receive_sync_message(&mut state, decoded)
                        .expect("apply");
                    if let Some(reply) = hostile.generate_sync_message(&mut state) {
                        client
                            .send(&client.sync_message(own, reply.encode(), false))
                            .await;
                    }
                }
                peerlog_tests::relay_harness::Received::Message(
                    peerlog_core::protocol::Message::Error(e),
                ) => break e.message,
                other => panic!("{what}: expected a refusal, got {other:?}"),
            }
        };
        assert!(
            error.starts_with("changes refused: ") && error.contains(expected),
            "{what}: {error}"
        );
        assert_eq!(relay.heads(&own), stored_heads, "{what}: nothing stored");
    }
    let refused = relay.state.engine.metrics().changes_refused - refused_before;
    assert_eq!(refused, writes.len() as u64, "every refusal is counted");

    // Nothing of it is in the relay's copy, which still reads as the case it was.
    let stored = relay.doc(&own).expect("stored");
    assert!(stored.get(ROOT, "notes").unwrap().is_none());
    let case = CaseDoc::from_automerge(own, stored)
        .expect("still a case")
        .read()
        .expect("still readable");
    assert_eq!(case, as_opened);

    // The refusals are in the access log, and honest devices go on.
    let log = relay
        .admin(&["access-log", "--case", &own.to_string()])
        .await;
    let refused_rows = log
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter(|r| r["action"] == "sync-write-refused")
                .count()
        })
        .unwrap_or(0);
    assert!(refused_rows >= 1, "{log}");
    sync_until_has(&mut phone, &own).await;
    let contact = phone.log_contact(&own, wall_ms(), "Coffee after the meeting");
    phone
        .sync()
        .await
        .expect("the same phone syncs honest changes");
    honest.log_contact(&other, wall_ms(), "Walk by the river");
    honest.sync().await.expect("another phone is unaffected");
    let case = CaseDoc::from_automerge(own, relay.doc(&own).unwrap())
        .unwrap()
        .read()
        .unwrap();
    assert!(case.contacts.contains_key(&contact));
    relay.stop().await;
}
