//! Durability across `kill -9`: a device (`peerlog_core::net::Syncer`, an encrypted SQLite store)
//! syncs a batch of contacts until the relay's heads contain them (the relay fsyncs before it
//! sends heads; the device then counts them as synced), the relay process is killed with SIGKILL
//! at once, the device's local data is thrown away, the relay restarts on the same data
//! directory, and a fresh copy of the device must find every acknowledged contact.
//!
//! Cycles: `PEERLOG_DURABILITY_CYCLES` (default 20; `scripts/soak-durability.sh` runs 500).
//! Seed: printed; replay with `PEERLOG_SEED=<seed>`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{RelayProcess, cli, start_relay};
use peerlog_core::crypto::StoreKey;
use peerlog_core::document::NewContact;
use peerlog_core::ids::{CaseId, EntryId};
use peerlog_core::local::LocalCases;
use peerlog_core::model::{ContactMode, Initiator, LifeArea};
use peerlog_core::net::{self, SyncOptions, Syncer};
use peerlog_core::store::SqliteStore;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const STORE_KEY: [u8; 32] = [7; 32];

fn store_key() -> StoreKey {
    StoreKey::from_bytes(&STORE_KEY).unwrap()
}

/// A device with no case data: a copy of the store that holds only its key and enrolment.
fn fresh_device(
    identity: &Path,
    copy: PathBuf,
    relay: &RelayProcess,
    rng: &mut ChaCha8Rng,
) -> (LocalCases<SqliteStore>, Syncer) {
    std::fs::copy(identity, &copy).unwrap();
    let store = SqliteStore::open(&copy, store_key()).unwrap();
    let (cases, enrolment) = net::open_cases(store, rng).unwrap();
    let syncer = Syncer::new(&format!("http://{}", relay.addr), enrolment)
        .unwrap()
        .with_options(SyncOptions {
            quiet: Duration::from_millis(100),
            answer_wait: Duration::from_secs(2),
            timeout: Duration::from_secs(15),
        });
    (cases, syncer)
}

/// Sync sessions until `done` holds (at most 40, about 20 s); `false` if it never did. Every
/// failure must be one that retrying can mend.
async fn sync_until(
    syncer: &mut Syncer,
    cases: &mut LocalCases<SqliteStore>,
    done: impl Fn(&LocalCases<SqliteStore>) -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    for _ in 0..40 {
        if let Err(e) = syncer
            .sync_once(cases, peerlog_server::clock::now_ms())
            .await
        {
            assert!(e.is_retryable(), "a sync failed for good: {e}");
        }
        if done(cases) {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_sigkill_of_the_relay() {
    let cycles: usize = std::env::var("PEERLOG_DURABILITY_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("PEERLOG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("durability seed: {seed} (replay with PEERLOG_SEED={seed}), {cycles} cycles");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);

    // An organisation with one PRW and one case, set up by the CLI before the relay starts.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_c = data.clone();
    let (case, code) = tokio::task::spawn_blocking(move || {
        cli(&data_c, &["admin", "init"]);
        cli(&data_c, &["admin", "team", "add", "North"]);
        cli(
            &data_c,
            &[
                "admin", "user", "add", "ola", "--role", "prw", "--team", "North",
            ],
        );
        let opened = cli(
            &data_c,
            &[
                "admin",
                "case",
                "open",
                "--prw",
                "ola",
                "--alias",
                "Lundefugl",
            ],
        );
        let code = cli(&data_c, &["admin", "enrol-code", "--user", "ola"]);
        (
            opened["caseId"]
                .as_str()
                .unwrap()
                .parse::<CaseId>()
                .unwrap(),
            code["code"].as_str().unwrap().to_owned(),
        )
    })
    .await
    .unwrap();

    let mut relay = start_relay(&data).await;
    // The phone enrols once; this store then holds only its key and enrolment, and every
    // "fresh copy" of the device starts from it.
    let identity = dir.path().join("identity.sqlite3");
    {
        let mut store = SqliteStore::open(&identity, store_key()).unwrap();
        net::enrol(
            &mut store,
            &format!("http://{}", relay.addr),
            &code,
            "ola-phone",
        )
        .await
        .unwrap();
    }
    let mut copies = 0;
    let mut next_copy = || {
        copies += 1;
        dir.path().join(format!("device-{copies}.sqlite3"))
    };
    let has_all = |expected: BTreeSet<EntryId>| {
        move |cases: &LocalCases<SqliteStore>| {
            cases
                .read(&case)
                .is_ok_and(|c| expected.iter().all(|id| c.contacts.contains_key(id)))
        }
    };

    let (mut cases, mut syncer) = fresh_device(&identity, next_copy(), &relay, &mut rng);
    assert!(
        sync_until(&mut syncer, &mut cases, has_all(BTreeSet::new())).await,
        "the device fetches its case"
    );

    let mut acknowledged: BTreeSet<EntryId> = BTreeSet::new();
    for cycle in 0..cycles {
        let now = peerlog_server::clock::now_ms();
        let mut batch = Vec::new();
        for n in 0..rng.random_range(1..8) {
            let contact = NewContact {
                at: now - 60_000,
                tz_offset_min: 60,
                minutes: rng.random_range(5..90),
                mode: ContactMode::Phone,
                initiated_by: Initiator::ServiceUser,
                topics: vec![LifeArea::Network],
                support_types: vec![],
                note: format!("cycle {cycle} contact {n}"),
                flag_for_guidance: false,
            };
            let id = cases
                .edit(&case, now, &mut rng, |doc, ctx| {
                    doc.log_contact(ctx, &contact)
                })
                .unwrap();
            batch.push(id);
        }
        // Sync until the relay's heads contain every local change (nothing pending)...
        let synced = sync_until(&mut syncer, &mut cases, |c| c.pending_count().unwrap() == 0).await;
        assert!(
            synced,
            "cycle {cycle} (seed {seed}): the relay never confirmed the batch"
        );
        acknowledged.extend(batch);

        // ...then kill the relay at once, lose the phone's data, and restart the relay.
        drop(relay);
        relay = start_relay(&data).await;
        (cases, syncer) = fresh_device(&identity, next_copy(), &relay, &mut rng);
        let recovered = sync_until(&mut syncer, &mut cases, has_all(acknowledged.clone())).await;
        let held = cases.read(&case).map(|c| c.contacts.len()).unwrap_or(0);
        assert!(
            recovered,
            "cycle {cycle} (seed {seed}): {} acknowledged contacts, the restarted relay had {held}",
            acknowledged.len()
        );
    }
    println!(
        "{cycles} SIGKILL cycles: all {} acknowledged contacts survived",
        acknowledged.len()
    );
}
