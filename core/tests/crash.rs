//! Crash test: a child process logs contacts into the encrypted SQLite store in a loop and is
//! killed with SIGKILL at random moments. After each kill the store must open cleanly and hold
//! every contact whose save call had returned.
//!
//! Cycles: `PEERLOG_CRASH_CYCLES` (default 50). Seed: printed; replay with `PEERLOG_SEED=<seed>`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use jiff::civil::date;
use peerlog_core::crypto::StoreKey;
use peerlog_core::document::NewContact;
use peerlog_core::ids::{CaseId, EntryId};
use peerlog_core::local::LocalCases;
use peerlog_core::model::{Boundaries, ContactMode, Initiator, LifeArea, ServiceUser};
use peerlog_core::store::SqliteStore;
use peerlog_core::{CaseDoc, EditCtx, NewCase};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CHILD_ENV: &str = "PEERLOG_CRASH_CHILD_DIR";
const NOW: i64 = 1_795_867_200_000;
const KEY: [u8; 32] = [0x5a; 32];

fn open(dir: &Path) -> LocalCases<SqliteStore> {
    let store = SqliteStore::open(
        &dir.join("device.sqlite"),
        StoreKey::from_bytes(&KEY).unwrap(),
    )
    .expect("the store opens cleanly after a crash");
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    LocalCases::open(store, "phone".parse().unwrap(), &mut rng).expect("cases load after a crash")
}

fn case_id(dir: &Path) -> CaseId {
    std::fs::read_to_string(dir.join("case-id"))
        .unwrap()
        .parse()
        .unwrap()
}

/// The child's body: log contacts until killed, announcing each one only after its save returned.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return; // run as a normal test: nothing to do
    };
    let case = case_id(&dir);
    let mut cases = open(&dir);
    let mut rng = ChaCha8Rng::seed_from_u64(rand::random());
    let mut out = std::io::stdout().lock();
    for n in 0.. {
        let contact = NewContact {
            at: NOW - 60_000,
            tz_offset_min: 60,
            minutes: 30,
            mode: ContactMode::Phone,
            initiated_by: Initiator::Prw,
            topics: vec![LifeArea::Network],
            support_types: vec![],
            note: format!("crash-test contact {n}"),
            flag_for_guidance: n % 7 == 0,
        };
        let id = cases
            .edit(&case, NOW, &mut rng, |doc, ctx| {
                doc.log_contact(ctx, &contact)
            })
            .expect("save");
        writeln!(out, "saved {id}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn saved_contacts_survive_sigkill() {
    let cycles: usize = std::env::var("PEERLOG_CRASH_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("PEERLOG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("crash test seed: {seed} (replay with PEERLOG_SEED={seed}), {cycles} cycles");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);

    let dir = tempfile::tempdir().unwrap();
    let case = CaseId::random(&mut rng);
    std::fs::write(dir.path().join("case-id"), case.to_string()).unwrap();
    {
        let relay = "relay".parse().unwrap();
        let doc = CaseDoc::create(
            NewCase {
                id: case,
                team: "team".parse().unwrap(),
                prw: "prw".parse().unwrap(),
                service_user: ServiceUser {
                    alias: "Crash".into(),
                    birth_year: None,
                    interests: vec![],
                    background: vec![],
                },
                started_on: date(2026, 1, 1),
                planned_end: date(2027, 1, 1),
                boundaries: Boundaries::default(),
            },
            automerge::ActorId::random(),
            &mut EditCtx {
                now: NOW,
                device: &relay,
                rng: &mut rng,
            },
        )
        .unwrap();
        open(dir.path()).receive(&case, &doc.save()).unwrap();
    }

    let exe = std::env::current_exe().unwrap();
    let mut acknowledged: BTreeSet<EntryId> = BTreeSet::new();
    let mut killed_mid_run = 0;
    for cycle in 0..cycles {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(id) = line.strip_prefix("saved ") {
                    let _ = tx.send(id.parse::<EntryId>().unwrap());
                }
            }
        });
        // Wait for the first save so every cycle kills a writer that is really writing, then
        // let it run a random while longer.
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("child saves");
        acknowledged.insert(first);
        std::thread::sleep(Duration::from_millis(rng.random_range(0..120)));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        let before = acknowledged.len();
        acknowledged.extend(rx.try_iter());
        if acknowledged.len() > before {
            killed_mid_run += 1;
        }

        let cases = open(dir.path());
        let held = cases.read(&case).expect("case readable after crash");
        let missing: Vec<_> = acknowledged
            .iter()
            .filter(|id| !held.contacts.contains_key(*id))
            .collect();
        assert!(
            missing.is_empty(),
            "cycle {cycle} (seed {seed}): {} acknowledged contacts lost",
            missing.len()
        );
        assert_eq!(
            cases.pending_count().unwrap(),
            held.contacts.len() as u64,
            "every contact stays pending until the relay confirms it"
        );
    }
    println!(
        "{cycles} kill cycles, {} acknowledged contacts all present, {killed_mid_run} kills while saving",
        acknowledged.len()
    );
}
