//! End to end with a real relay on 127.0.0.1:0, real enrolment codes, Ed25519 device keys and
//! encrypted SQLite stores: a weekend without signal, reassignment, revocation, and the bytes a
//! sync costs on the wire (`cargo test -p peerlog-tests --test e2e_weekend -- --nocapture`).
//!
//! The Monday sync order is shuffled with a seed that is printed; `PEERLOG_SEED=<n>` replays it.

use std::collections::BTreeMap;
use std::time::Duration;

use peerlog_core::document::{ContactPatch, NewGoal};
use peerlog_core::ids::CaseId;
use peerlog_core::model::LifeArea;
use peerlog_core::net::{self, NetError, SyncReport};
use peerlog_core::store::Store as _;
use peerlog_tests::device::{LiveRelay, TestDevice};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

const FRIDAY: i64 = 1_795_536_000_000; // a fixed edit time: 2026-11-24T14:00Z
const HOUR: i64 = 60 * 60_000;

fn seed() -> u64 {
    let seed = std::env::var("PEERLOG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    println!("PEERLOG_SEED={seed}");
    seed
}

async fn open_case(relay: &LiveRelay, prw: &str, team: &str, alias: &str) -> CaseId {
    relay
        .admin(&[
            "case", "open", "--prw", prw, "--alias", alias, "--team", team,
        ])
        .await["caseId"]
        .as_str()
        .expect("case id")
        .parse()
        .expect("case id parses")
}

async fn sync_ok(device: &mut TestDevice) -> SyncReport {
    match device.sync().await {
        Ok(report) => report,
        Err(e) => panic!("{} failed to sync: {e}", device.name),
    }
}

/// Syncs until the device holds exactly `expected` cases (the relay applies CLI changes
/// within about a second).
async fn sync_until_holds(device: &mut TestDevice, expected: &[CaseId]) {
    let mut want = expected.to_vec();
    want.sort();
    for _ in 0..40 {
        sync_ok(device).await;
        if device.cases.case_ids() == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!(
        "{} holds {:?}, expected {:?}",
        device.name,
        device.cases.case_ids(),
        want
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weekend_without_signal_converges_on_monday() {
    tokio::time::timeout(Duration::from_secs(240), weekend(seed()))
        .await
        .expect("the scenario finishes in time");
}

async fn weekend(seed: u64) {
    let relay = LiveRelay::start().await;
    let dir = tempfile::tempdir().unwrap();
    for team in ["North", "South"] {
        relay.admin(&["team", "add", team]).await;
    }
    for (user, role, team) in [
        ("ola", "prw", "North"),
        ("kari", "prw", "North"),
        ("per", "prw", "South"),
        ("nina", "coordinator", "North"),
        ("sven", "coordinator", "South"),
    ] {
        relay
            .admin(&["user", "add", user, "--role", role, "--team", team])
            .await;
    }
    let ola_cases = [
        open_case(&relay, "ola", "North", "Fjellrev").await,
        open_case(&relay, "ola", "North", "Lirype").await,
    ];
    let kari_cases = [open_case(&relay, "kari", "North", "Havørn").await];
    let per_cases = [
        open_case(&relay, "per", "South", "Gaupe").await,
        open_case(&relay, "per", "South", "Jerv").await,
    ];
    let north: Vec<CaseId> = ola_cases.iter().chain(&kari_cases).copied().collect();
    let south: Vec<CaseId> = per_cases.to_vec();

    let mut devices = Vec::new();
    for (i, (user, name)) in [
        ("ola", "ola-phone"),
        ("ola", "ola-tablet"),
        ("kari", "kari-phone"),
        ("per", "per-phone"),
        ("nina", "nina-phone"),
        ("sven", "sven-phone"),
    ]
    .into_iter()
    .enumerate()
    {
        devices
            .push(TestDevice::enrol(&relay, dir.path(), user, name, seed ^ (i as u64 + 1)).await);
    }
    let [ola_phone, ola_tablet, kari, per, nina, sven] = &mut devices[..] else {
        unreachable!()
    };

    // Friday, in the office: everyone gets their cases; Ola sets a goal and logs a contact on
    // the phone, and the tablet picks them up.
    sync_until_holds(ola_phone, &ola_cases).await;
    sync_until_holds(ola_tablet, &ola_cases).await;
    sync_until_holds(kari, &kari_cases).await;
    sync_until_holds(per, &per_cases).await;
    sync_until_holds(nina, &north).await;
    sync_until_holds(sven, &south).await;
    let shared = ola_cases[0];
    let goal = ola_phone
        .cases
        .edit(&shared, FRIDAY, &mut ola_phone.rng, |doc, ctx| {
            doc.add_goal(
                ctx,
                &NewGoal {
                    area: LifeArea::Housing,
                    text: "Find a flat".into(),
                    review_on: None,
                },
            )
        })
        .unwrap();
    let disputed = ola_phone.log_contact(&shared, FRIDAY, "Friday coffee");
    sync_ok(ola_phone).await;
    sync_ok(ola_tablet).await;
    assert!(
        ola_tablet
            .cases
            .read(&shared)
            .unwrap()
            .contacts
            .contains_key(&disputed)
    );

    // Friday evening to Sunday: no signal anywhere.
    let mut logged: BTreeMap<CaseId, usize> = BTreeMap::new();
    let mut t = FRIDAY + 6 * HOUR;
    for (case, device) in [
        (ola_cases[0], 0),
        (ola_cases[1], 0),
        (ola_cases[0], 1),
        (ola_cases[1], 1),
        (kari_cases[0], 2),
        (per_cases[0], 3),
        (per_cases[1], 3),
    ] {
        for n in 0..3 {
            t += 5 * HOUR;
            devices[device].log_contact(&case, t, &format!("weekend contact {n}"));
            *logged.entry(case).or_default() += 1;
        }
    }
    let [ola_phone, ola_tablet, ..] = &mut devices[..] else {
        unreachable!()
    };
    // The same goal reworded on both of Ola's devices.
    ola_phone
        .cases
        .edit(&shared, t, &mut ola_phone.rng, |doc, ctx| {
            doc.edit_goal_text(ctx, &goal, "Find a flat near my sister")
        })
        .unwrap();
    ola_tablet
        .cases
        .edit(&shared, t + 1, &mut ola_tablet.rng, |doc, ctx| {
            doc.edit_goal_text(ctx, &goal, "Find a small flat")
        })
        .unwrap();
    // Friday's contact edited on the phone while deleted on the tablet.
    ola_phone
        .cases
        .edit(&shared, t + 2, &mut ola_phone.rng, |doc, ctx| {
            doc.edit_contact(
                ctx,
                &disputed,
                &ContactPatch {
                    minutes: Some(90),
                    note: Some("Friday coffee, long talk".into()),
                    ..ContactPatch::default()
                },
            )
        })
        .unwrap();
    ola_tablet
        .cases
        .edit(&shared, t + 3, &mut ola_tablet.rng, |doc, ctx| {
            doc.delete_contact(ctx, &disputed)
        })
        .unwrap();
    for d in devices.iter() {
        let pending = d.cases.pending_count().unwrap();
        println!("{}: {pending} changes waiting for signal", d.name);
    }

    // Monday: everyone syncs, in a random order, until nothing moves.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..devices.len()).collect();
    for round in 0..4 {
        order.shuffle(&mut rng);
        let names: Vec<&str> = order.iter().map(|i| devices[*i].name.as_str()).collect();
        println!("Monday round {round}: {names:?}");
        for &i in &order {
            sync_ok(&mut devices[i]).await;
        }
        let converged = devices.iter().all(|d| {
            d.cases
                .case_ids()
                .iter()
                .all(|c| d.heads(c) == relay.heads(c))
        });
        if converged && round >= 1 {
            break;
        }
    }

    let [ola_phone, ola_tablet, kari, per, nina, sven] = &devices[..] else {
        unreachable!()
    };
    for d in &devices {
        assert_eq!(
            d.cases.pending_count().unwrap(),
            0,
            "{} has pending",
            d.name
        );
        for case in d.cases.case_ids() {
            assert_eq!(d.heads(&case), relay.heads(&case), "{} {case}", d.name);
        }
    }
    assert_eq!(ola_phone.cases.case_ids(), sorted(&ola_cases));
    assert_eq!(ola_tablet.cases.case_ids(), sorted(&ola_cases));
    assert_eq!(kari.cases.case_ids(), sorted(&kari_cases));
    assert_eq!(per.cases.case_ids(), sorted(&per_cases));
    assert_eq!(nina.cases.case_ids(), sorted(&north));
    assert_eq!(sven.cases.case_ids(), sorted(&south));

    // Identical documents everywhere, every contact present.
    let mut holders: BTreeMap<CaseId, Vec<&TestDevice>> = BTreeMap::new();
    for d in &devices {
        for case in d.cases.case_ids() {
            holders.entry(case).or_default().push(d);
        }
    }
    for (case, held_by) in &holders {
        let first = held_by[0].cases.read(case).unwrap();
        for d in &held_by[1..] {
            assert_eq!(d.cases.read(case).unwrap(), first, "{} {case}", d.name);
        }
        let friday = usize::from(*case == shared);
        assert_eq!(
            first.contacts.len(),
            logged.get(case).copied().unwrap_or(0) + friday,
            "every contact of {case} arrived"
        );
    }
    let merged = ola_phone.cases.read(&shared).unwrap();
    let disputed_now = &merged.contacts[&disputed];
    assert!(
        disputed_now.deleted,
        "the delete wins over the concurrent edit"
    );
    let text = &merged.plan.goals[&goal].text;
    assert!(
        text.contains("sister") && text.contains("small"),
        "both rewordings survive: {text:?}"
    );
    relay.stop().await;
}

fn sorted(cases: &[CaseId]) -> Vec<CaseId> {
    let mut v = cases.to_vec();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reassignment_moves_a_case_and_a_revoked_phone_wipes() {
    tokio::time::timeout(Duration::from_secs(120), async {
        let relay = LiveRelay::start().await;
        let dir = tempfile::tempdir().unwrap();
        relay.admin(&["team", "add", "North"]).await;
        for user in ["anna", "bjorn"] {
            relay
                .admin(&["user", "add", user, "--role", "prw", "--team", "North"])
                .await;
        }
        let moving = open_case(&relay, "anna", "North", "Ekorn").await;
        let staying = open_case(&relay, "anna", "North", "Elg").await;
        let mut a = TestDevice::enrol(&relay, dir.path(), "anna", "anna-phone", 11).await;
        let mut b = TestDevice::enrol(&relay, dir.path(), "bjorn", "bjorn-phone", 12).await;
        sync_until_holds(&mut a, &[moving, staying]).await;
        sync_until_holds(&mut b, &[]).await;
        a.log_contact(&moving, FRIDAY, "before the handover");
        sync_ok(&mut a).await;
        assert_eq!(a.cases.pending_count().unwrap(), 0);

        relay
            .admin(&["case", "reassign", &moving.to_string(), "--prw", "bjorn"])
            .await;
        sync_until_holds(&mut a, &[staying]).await;
        assert!(a.cases.doc(&moving).is_none());
        assert!(!a.cases.store().case_ids().unwrap().contains(&moving));
        sync_until_holds(&mut b, &[moving]).await;
        let case = b.cases.read(&moving).unwrap();
        assert_eq!(case.contacts.len(), 1, "B gets the history A synced");

        // Revocation: the next token request carries the wipe order.
        let device = b.enrolment().device_id.to_string();
        relay.admin(&["device", "revoke", &device]).await;
        let store = b.cases.store();
        let err = b
            .syncer
            .token(store, peerlog_tests::device::wall_ms())
            .await;
        assert!(matches!(err, Err(NetError::Wiped)), "{err:?}");
        let err = b.sync().await;
        assert!(matches!(err, Err(NetError::Wiped)), "{err:?}");
        let path = b.path.clone();
        drop(b);
        net::wipe(&path).unwrap();
        assert!(!path.exists());
        relay.stop().await;
    })
    .await
    .expect("finishes in time");
}

/// The handover rule's edge: the case is reassigned while the former PRW's phone still holds
/// contacts it logged offline. Nothing is lost: the phone keeps the case sealed, hands the
/// contacts over on its next sync (the relay accepts them for the grace period and logs them as a
/// handover), then drops the case; the new PRW's phone gets every contact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_reassigned_while_its_phone_holds_unsynced_contacts_loses_none() {
    tokio::time::timeout(Duration::from_secs(120), async {
        let relay = LiveRelay::start().await;
        let dir = tempfile::tempdir().unwrap();
        relay.admin(&["team", "add", "North"]).await;
        for user in ["anna", "bjorn"] {
            relay
                .admin(&["user", "add", user, "--role", "prw", "--team", "North"])
                .await;
        }
        let moving = open_case(&relay, "anna", "North", "Ekorn").await;
        let staying = open_case(&relay, "anna", "North", "Elg").await;
        let mut a = TestDevice::enrol(&relay, dir.path(), "anna", "anna-phone", 21).await;
        let mut b = TestDevice::enrol(&relay, dir.path(), "bjorn", "bjorn-phone", 22).await;
        sync_until_holds(&mut a, &[moving, staying]).await;
        a.log_contact(&moving, FRIDAY, "synced on friday");
        sync_ok(&mut a).await;

        // The weekend without signal, then Monday's reassignment before the phone syncs.
        a.log_contact(&moving, FRIDAY + 24 * HOUR, "saturday, offline");
        a.log_contact(&moving, FRIDAY + 48 * HOUR, "sunday, offline");
        assert_eq!(a.cases.pending_for(&moving).unwrap(), 2);
        relay
            .admin(&["case", "reassign", &moving.to_string(), "--prw", "bjorn"])
            .await;
        // Bjorn's phone getting the case shows the relay has taken in the reassignment.
        sync_until_holds(&mut b, &[moving]).await;
        assert_eq!(b.cases.read(&moving).unwrap().contacts.len(), 1);

        sync_until_holds(&mut a, &[staying]).await;
        assert_eq!(a.cases.pending_count().unwrap(), 0);
        let at_relay = peerlog_core::document::CaseDoc::from_automerge(
            moving,
            relay.doc(&moving).expect("the relay holds the case"),
        )
        .and_then(|doc| doc.read())
        .unwrap();
        let notes: Vec<&str> = at_relay
            .contacts
            .values()
            .map(|c| c.note.as_str())
            .collect();
        for note in ["synced on friday", "saturday, offline", "sunday, offline"] {
            assert!(notes.contains(&note), "the relay has {note:?}");
        }

        let mut got = 0;
        for _ in 0..40 {
            sync_ok(&mut b).await;
            got = b.cases.read(&moving).unwrap().contacts.len();
            if got == 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert_eq!(got, 3, "bjorn's phone has the weekend's contacts");

        // The relay logged the weekend's contacts as a handover by anna's phone.
        let device = a.enrolment().device_id.to_string();
        let mut logged = false;
        for _ in 0..40 {
            let log = relay
                .admin(&["access-log", "--case", &moving.to_string()])
                .await;
            logged =
                log.as_array().expect("entries").iter().any(|e| {
                    e["action"] == "sync-write-handover" && e["deviceId"] == device.as_str()
                });
            if logged {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert!(logged, "a sync-write-handover row for anna's phone");

        assert!(
            a.cases.doc(&moving).is_none(),
            "once handed over, the case left anna's phone"
        );
        relay.stop().await;
    })
    .await
    .expect("finishes in time");
}

/// Sum of the raw sizes of the changes a device made since `before` (the physical floor).
fn raw_change_bytes(
    d: &TestDevice,
    before: &BTreeMap<CaseId, Vec<automerge::ChangeHash>>,
) -> usize {
    before
        .iter()
        .map(|(case, heads)| {
            d.cases
                .doc(case)
                .unwrap()
                .automerge()
                .get_changes(heads)
                .iter()
                .map(|c| c.raw_bytes().len())
                .sum::<usize>()
        })
        .sum()
}

fn print_report(label: &str, report: &SyncReport, raw: usize) {
    let total = report.bytes_sent + report.bytes_received;
    let ratio = if raw == 0 {
        "n/a".to_owned()
    } else {
        format!("{:.2}", total as f64 / raw as f64)
    };
    println!(
        "{label:<32} frames {:>3} up / {:>3} down, bytes {:>6} up / {:>6} down, round trips {:>2}, raw changes {:>6} B, wire/raw {ratio}",
        report.sent_frames,
        report.received_frames,
        report.bytes_sent,
        report.bytes_received,
        report.round_trips,
        raw,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_on_the_wire() {
    tokio::time::timeout(Duration::from_secs(120), async {
        let relay = LiveRelay::start().await;
        let dir = tempfile::tempdir().unwrap();
        relay.admin(&["team", "add", "North"]).await;
        relay
            .admin(&["user", "add", "ola", "--role", "prw", "--team", "North"])
            .await;
        let mut cases = Vec::new();
        for alias in ["Fjellrev", "Lirype", "Havørn"] {
            cases.push(open_case(&relay, "ola", "North", alias).await);
        }
        let mut phone = TestDevice::enrol(&relay, dir.path(), "ola", "ola-phone", 21).await;
        sync_until_holds(&mut phone, &cases).await;
        sync_ok(&mut phone).await;
        let heads = |d: &TestDevice| -> BTreeMap<CaseId, Vec<automerge::ChangeHash>> {
            cases
                .iter()
                .map(|c| (*c, d.cases.doc(c).unwrap().heads()))
                .collect()
        };

        // (a) Reconnect with nothing new.
        let report = sync_ok(&mut phone).await;
        print_report("(a) reconnect, nothing new", &report, 0);
        assert_eq!(report.confirmed, 0);

        // (b) One new contact.
        let before = heads(&phone);
        phone.log_contact(&cases[0], FRIDAY, "One short contact note.");
        let raw = raw_change_bytes(&phone, &before);
        let report = sync_ok(&mut phone).await;
        print_report("(b) one new contact", &report, raw);
        assert_eq!((report.confirmed, report.pending_after), (1, 0));

        // (c) A week of contacts on three cases: 15 contacts.
        let before = heads(&phone);
        for n in 0..15 {
            let case = cases[n % 3];
            phone.log_contact(
                &case,
                FRIDAY + n as i64 * 8 * HOUR,
                &format!("Contact {n}: talked about the week, next steps agreed."),
            );
        }
        let raw = raw_change_bytes(&phone, &before);
        let report = sync_ok(&mut phone).await;
        print_report("(c) week: 15 contacts, 3 cases", &report, raw);
        assert_eq!((report.confirmed, report.pending_after), (15, 0));

        let report = sync_ok(&mut phone).await;
        print_report("(a') reconnect after (c)", &report, 0);
        relay.stop().await;
    })
    .await
    .expect("finishes in time");
}
