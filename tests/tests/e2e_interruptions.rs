//! Interrupted syncs against the real relay binary, as a separate process on 127.0.0.1.
//!
//! One PRW has a phone and a tablet (encrypted SQLite stores on disk, `peerlog_core::net`) and
//! two cases. Each cycle one device logs a few contacts (sometimes a large batch) and syncs
//! through a real TCP proxy, while one of these happens:
//!
//! - **cut**: the proxy closes both sides after a random number of bytes (anywhere: in the HTTP
//!   upgrade, mid-frame, between the frames of a batch, in either direction);
//! - **relay SIGKILL**: the proxy stalls the connection after a random number of bytes and the
//!   relay is killed with SIGKILL at that moment (sometimes with the other device syncing too),
//!   then restarted on the same data directory (on a new port; the proxy follows);
//! - **device restart**: the app is killed and relaunched (its `LocalCases` and `Syncer`
//!   dropped, the store reopened from disk, the per-case sync states reused), then syncs, itself
//!   sometimes cut;
//! - a sync with the reconnect loop (`Syncer::sync_retrying`).
//!
//! After every cycle: every change a device counts as synced (no longer pending: the relay's
//! heads contained it) is in the relay's database on disk, and never becomes pending again. At
//! the end, with the proxy passing everything: both devices reach 0 pending, a new coordinator
//! device gets both cases, and the devices, the coordinator and the relay's stored documents have
//! identical heads and every contact ever logged. A relaunch after that reuses the stored sync
//! states: the same reconnect costs the same bytes.
//!
//! Cycles: `PEERLOG_INTERRUPT_CYCLES` (default 100; `scripts/soak-sync.sh` runs 2,000). The seed
//! is printed; `PEERLOG_SEED=<n>` replays the same choices (timing on a real network can still
//! differ).
//!
//! `cargo test -p peerlog-tests --test e2e_interruptions -- --nocapture`

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use automerge::{ChangeHash, ReadDoc as _};
use peerlog_core::client::ClientEvent;
use peerlog_core::crypto::StoreKey;
use peerlog_core::document::NewContact;
use peerlog_core::ids::{CaseId, ContactId};
use peerlog_core::local::LocalCases;
use peerlog_core::model::{ContactMode, Initiator, LifeArea, SupportType, UnixMillis};
use peerlog_core::net::{self, NetError, RetryPolicy, SyncOptions, SyncReport, Syncer};
use peerlog_core::store::{SqliteStore, Store as _};
use peerlog_tests::device::wall_ms;
use peerlog_tests::proxy::{CutProxy, Interruption};
use peerlog_tests::relay_process::{RelayProcess, StoredDocs, admin, stored_heads};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const RELAY_EXE: &str = env!("CARGO_BIN_EXE_peerlog-relay-under-test");
/// Cycles in CI.
const DEFAULT_CYCLES: usize = 100;
/// The cycle loop stops (and the final checks still run) once this much time per cycle, at
/// least [`MIN_LOOP_TIME`], has passed: a bound so the test always ends, not a speed target.
const TIME_PER_CYCLE: Duration = Duration::from_secs(3);
const MIN_LOOP_TIME: Duration = Duration::from_secs(300);

fn session_options() -> SyncOptions {
    SyncOptions {
        quiet: Duration::from_millis(100),
        answer_wait: Duration::from_secs(2),
        timeout: Duration::from_secs(10),
    }
}

/// The reconnect loop as the test uses it: short waits, bounded attempts.
fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 8,
        base: Duration::from_millis(20),
        cap: Duration::from_millis(400),
    }
}

/// A device that can be killed and relaunched: its store file and key stay, everything in
/// memory goes.
struct Device {
    name: String,
    path: PathBuf,
    key: [u8; 32],
    url: String,
    open: Option<(LocalCases<SqliteStore>, Syncer)>,
    /// Every contact this device logged: its case and the change that logged it.
    written: BTreeMap<ContactId, (CaseId, ChangeHash)>,
    /// Contacts whose change the relay confirmed (no longer pending on the device).
    acked: BTreeSet<ContactId>,
    restarts: usize,
}

impl Device {
    async fn enrol(dir: &Path, url: &str, code: &str, name: &str, seed: u64) -> Self {
        let path = dir.join(format!("{name}.sqlite3"));
        let mut key = [0x33u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        let mut store =
            SqliteStore::open(&path, StoreKey::from_bytes(&key).expect("key")).expect("open store");
        net::enrol(&mut store, url, code, name)
            .await
            .expect("enrolment through the proxy");
        drop(store);
        let mut device = Self {
            name: name.to_owned(),
            path,
            key,
            url: url.to_owned(),
            open: None,
            written: BTreeMap::new(),
            acked: BTreeSet::new(),
            restarts: 0,
        };
        device.launch(&mut ChaCha8Rng::seed_from_u64(seed));
        device
    }

    /// Opens the device from its store, as the app does on launch.
    fn launch(&mut self, rng: &mut ChaCha8Rng) {
        let store = SqliteStore::open(&self.path, StoreKey::from_bytes(&self.key).expect("key"))
            .expect("the store opens after any interruption");
        let (cases, enrolment) = net::open_cases(store, rng).expect("open cases");
        let syncer = Syncer::new(&self.url, enrolment)
            .expect("syncer")
            .with_options(session_options());
        self.open = Some((cases, syncer));
    }

    /// The app is killed and relaunched. The per-case sync states it stored are what the new
    /// process starts from.
    fn restart(&mut self, rng: &mut ChaCha8Rng) {
        let before = self.sync_states();
        self.open = None;
        self.launch(rng);
        assert_eq!(
            self.sync_states(),
            before,
            "{}: sync states survive a restart",
            self.name
        );
        self.restarts += 1;
    }

    fn cases(&self) -> &LocalCases<SqliteStore> {
        &self.open.as_ref().expect("device running").0
    }

    /// The stored sync state of each case (what both sides certainly had).
    fn sync_states(&self) -> BTreeMap<CaseId, Vec<ChangeHash>> {
        let cases = self.cases();
        cases
            .case_ids()
            .into_iter()
            .map(|c| (c, cases.sync_state(&c).expect("sync state").shared_heads))
            .collect()
    }

    fn heads(&self, case: &CaseId) -> Vec<ChangeHash> {
        let mut heads = self
            .cases()
            .doc(case)
            .map(|d| d.heads())
            .unwrap_or_default();
        heads.sort();
        heads
    }

    fn log(&mut self, case: &CaseId, now: UnixMillis, rng: &mut ChaCha8Rng) {
        let note = format!("Contact {}: walk, coffee, next steps.", self.written.len());
        let (cases, _) = self.open.as_mut().expect("device running");
        let id = cases
            .edit(case, now, rng, |doc, ctx| {
                doc.log_contact(
                    ctx,
                    &NewContact {
                        at: now - 2 * 60 * 60_000,
                        tz_offset_min: 60,
                        minutes: 45,
                        mode: ContactMode::Meeting,
                        initiated_by: Initiator::Prw,
                        topics: vec![LifeArea::Housing, LifeArea::Health],
                        support_types: vec![SupportType::Emotional],
                        note,
                        flag_for_guidance: false,
                    },
                )
            })
            .expect("log contact");
        let heads = cases.doc(case).expect("case").heads();
        assert_eq!(heads.len(), 1, "a local edit leaves one head");
        self.written.insert(id, (*case, heads[0]));
    }

    /// One sync session (it may be interrupted). Only passing failures are acceptable.
    async fn sync_once(&mut self, seed: u64) -> Option<SyncReport> {
        let (cases, syncer) = self.open.as_mut().expect("device running");
        let result = syncer.sync_once(cases, wall_ms()).await;
        self.after_sync(result, seed)
    }

    /// The reconnect loop: retried with backoff while failures are passing.
    async fn sync_retrying(&mut self, rng: &mut ChaCha8Rng, seed: u64) -> Option<SyncReport> {
        let (cases, syncer) = self.open.as_mut().expect("device running");
        let result = syncer
            .sync_retrying(cases, wall_ms, retry_policy(), rng)
            .await;
        self.after_sync(result, seed)
    }

    fn after_sync(
        &mut self,
        result: Result<SyncReport, NetError>,
        seed: u64,
    ) -> Option<SyncReport> {
        self.update_acks(seed);
        match result {
            Ok(report) => Some(report),
            Err(e) if e.is_retryable() => None,
            Err(e) => panic!("seed {seed}: {} failed for good: {e}", self.name),
        }
    }

    /// Contacts whose change is no longer pending are acknowledged; an acknowledged change never
    /// becomes pending again.
    fn update_acks(&mut self, seed: u64) {
        let store = self.cases().store();
        let mut pending: BTreeMap<CaseId, BTreeSet<ChangeHash>> = BTreeMap::new();
        for (case, _) in self.written.values() {
            if !pending.contains_key(case) {
                let hashes = store.pending_changes(case).expect("pending changes");
                pending.insert(*case, hashes.into_iter().collect());
            }
        }
        for (id, (case, hash)) in &self.written {
            let is_pending = pending[case].contains(hash);
            if self.acked.contains(id) {
                assert!(
                    !is_pending,
                    "seed {seed}: {}: an acknowledged change is pending again",
                    self.name
                );
            } else if !is_pending {
                self.acked.insert(id.clone());
            }
        }
    }
}

/// Every change any device counts as synced is in the relay's database on disk (read now).
fn assert_relay_holds_acked(stored: &mut StoredDocs, devices: &[Device], seed: u64, when: &str) {
    let mut by_case: BTreeMap<CaseId, Vec<(&str, ChangeHash)>> = BTreeMap::new();
    for device in devices {
        for id in &device.acked {
            let (case, hash) = device.written[id];
            by_case.entry(case).or_default().push((&device.name, hash));
        }
    }
    for (case, acked) in by_case {
        let doc = stored.doc(&case).expect("the relay stores the case");
        // A hash lookup in the change graph (`get_change_by_hash` would rebuild each change).
        // With nothing queued, what `get_missing_deps` returns is what the document lacks.
        assert!(doc.get_missing_deps(&[]).is_empty(), "seed {seed}: {when}");
        let hashes: Vec<ChangeHash> = acked.iter().map(|(_, h)| *h).collect();
        let missing = doc.get_missing_deps(&hashes);
        for (name, hash) in acked {
            assert!(
                !missing.contains(&hash),
                "seed {seed}: {when}: a change {name} counts as synced is not in the relay's database"
            );
        }
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_syncs_lose_nothing_and_converge() {
    let seed = env_number("PEERLOG_SEED").unwrap_or_else(rand::random);
    let cycles = env_number("PEERLOG_INTERRUPT_CYCLES").map_or(DEFAULT_CYCLES, |c| c as usize);
    println!("PEERLOG_SEED={seed} PEERLOG_INTERRUPT_CYCLES={cycles}");
    let loop_time = (TIME_PER_CYCLE * cycles as u32).max(MIN_LOOP_TIME);
    // A hang detector for the whole test (the final phase is bounded on its own, well inside).
    let bound = loop_time + Duration::from_secs(300);
    tokio::time::timeout(bound, run(seed, cycles, loop_time))
        .await
        .unwrap_or_else(|_| panic!("seed {seed}: the test did not finish within {bound:?}"));
}

async fn run(seed: u64, cycles: usize, loop_time: Duration) {
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let log = dir.path().join("relay.log");
    let mut stored = StoredDocs::new(&data);

    // The organisation, set up with the CLI before the relay first starts.
    admin(&data, &["init"]).await;
    admin(&data, &["team", "add", "North"]).await;
    for (user, role) in [("ola", "prw"), ("nina", "coordinator")] {
        admin(
            &data,
            &["user", "add", user, "--role", role, "--team", "North"],
        )
        .await;
    }
    let mut cases = Vec::new();
    for alias in ["Fjellrev", "Lirype"] {
        let opened = admin(
            &data,
            &[
                "case", "open", "--prw", "ola", "--alias", alias, "--team", "North",
            ],
        )
        .await;
        cases.push(
            opened["caseId"]
                .as_str()
                .expect("case id")
                .parse::<CaseId>()
                .expect("case id parses"),
        );
    }
    let mut codes = Vec::new();
    for _ in 0..2 {
        let code = admin(&data, &["enrol-code", "--user", "ola"]).await;
        codes.push(code["code"].as_str().expect("code").to_owned());
    }

    let mut relay = Some(RelayProcess::start(RELAY_EXE.as_ref(), &data, &log).await);
    let proxy = CutProxy::start(relay.as_ref().expect("relay").addr).await;
    let mut devices = Vec::new();
    for (i, name) in ["ola-phone", "ola-tablet"].into_iter().enumerate() {
        devices.push(
            Device::enrol(
                dir.path(),
                &proxy.url(),
                &codes[i],
                name,
                seed ^ (i as u64 + 1),
            )
            .await,
        );
    }
    for device in &mut devices {
        for _ in 0..40 {
            device.sync_retrying(&mut rng, seed).await;
            if device.cases().case_ids().len() == cases.len() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert_eq!(device.cases().case_ids().len(), cases.len(), "seed {seed}");
    }
    // What a clean session costs on the wire (proxy bytes include HTTP and WebSocket framing),
    // to aim the cuts inside sessions.
    let clean = devices[0]
        .sync_retrying(&mut rng, seed)
        .await
        .expect("a clean sync");
    let session_bytes = clean.bytes_sent + clean.bytes_received + 600;

    let (mut cuts, mut kills, mut restarts, mut plain) = (0usize, 0usize, 0usize, 0usize);
    let mut kills_mid_sync = 0usize;
    let mut concurrent = 0usize;
    let mut done = 0;
    while done < cycles {
        if started.elapsed() > loop_time {
            println!(
                "seed {seed}: stopping after {done} of {cycles} cycles: the loop's time bound ({loop_time:?}) passed"
            );
            break;
        }
        done += 1;
        let d = rng.random_range(0..devices.len());
        let batch = if rng.random_bool(0.15) {
            rng.random_range(8..=30)
        } else {
            rng.random_range(0..=3)
        };
        let now = wall_ms();
        for _ in 0..batch {
            let case = cases[rng.random_range(0..cases.len())];
            devices[d].log(&case, now, &mut rng);
        }
        let pending = devices[d].cases().pending_count().expect("pending") as usize;
        // Aim inside the session: its clean size plus what this device has to send and a
        // margin for what it has to receive.
        let reach = session_bytes + (pending + 4) * 450;
        match rng.random_range(0..100) {
            0..40 => {
                proxy.plan(Interruption::Cut {
                    after: rng.random_range(0..reach),
                });
                cuts += 1;
                devices[d].sync_once(seed).await;
            }
            40..60 => {
                let (reached, stalled) = tokio::sync::oneshot::channel();
                proxy.plan(Interruption::Stall {
                    after: rng.random_range(0..reach),
                    reached,
                });
                let dying = relay.take().expect("relay running");
                // Sometimes the other device is syncing at the same moment.
                let both = rng.random_bool(0.5);
                concurrent += usize::from(both);
                {
                    let (first, second) = devices.split_at_mut(1);
                    let (me, other) = if d == 0 {
                        (&mut first[0], &mut second[0])
                    } else {
                        (&mut second[0], &mut first[0])
                    };
                    let syncing = async {
                        if both {
                            tokio::join!(me.sync_once(seed), other.sync_once(seed));
                        } else {
                            me.sync_once(seed).await;
                        }
                    };
                    tokio::pin!(syncing);
                    tokio::select! {
                        // The mark was reached (or the connection ended before it): SIGKILL now,
                        // then the session ends with the connection.
                        reached = stalled => {
                            kills_mid_sync += usize::from(reached.is_ok());
                            dying.kill().await;
                            syncing.await;
                        }
                        // The session ended before the mark: the relay dies between sessions.
                        _ = &mut syncing => dying.kill().await,
                    }
                }
                kills += 1;
                proxy.clear_plans();
                assert_relay_holds_acked(&mut stored, &devices, seed, "after SIGKILL");
                let restarted = RelayProcess::start(RELAY_EXE.as_ref(), &data, &log).await;
                proxy.retarget(restarted.addr);
                relay = Some(restarted);
            }
            60..75 => {
                devices[d].restart(&mut rng);
                restarts += 1;
                if rng.random_bool(0.5) {
                    proxy.plan(Interruption::Cut {
                        after: rng.random_range(0..reach),
                    });
                    cuts += 1;
                }
                devices[d].sync_once(seed).await;
            }
            _ => {
                plain += 1;
                devices[d].sync_retrying(&mut rng, seed).await;
            }
        }
        proxy.clear_plans();
        assert_relay_holds_acked(&mut stored, &devices, seed, &format!("cycle {done}"));
        if done % 250 == 0 {
            println!(
                "seed {seed}: {done} cycles, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    let loop_secs = started.elapsed().as_secs_f64();

    // Signal is back for good: every device syncs until nothing is pending, twice round so
    // each has the other's changes.
    for _ in 0..2 {
        for device in &mut devices {
            let mut pending = None;
            for _ in 0..10 {
                let report = device
                    .sync_retrying(&mut rng, seed)
                    .await
                    .unwrap_or_else(|| panic!("seed {seed}: {} cannot sync cleanly", device.name));
                pending = Some(report.pending_after);
                if report.pending_after == 0 {
                    break;
                }
            }
            assert_eq!(pending, Some(0), "seed {seed}: {}", device.name);
        }
    }
    for device in &devices {
        assert_eq!(
            device.acked.len(),
            device.written.len(),
            "seed {seed}: {}: everything is acknowledged after a clean sync",
            device.name
        );
    }
    assert_relay_holds_acked(&mut stored, &devices, seed, "at the end");

    // A relaunch reuses the stored sync states: the same nothing-new reconnect costs the same.
    for device in &mut devices {
        let before = device
            .sync_retrying(&mut rng, seed)
            .await
            .expect("reconnect");
        device.restart(&mut rng);
        let after = device
            .sync_retrying(&mut rng, seed)
            .await
            .expect("reconnect after relaunch");
        let news = |r: &SyncReport| {
            r.events
                .iter()
                .filter(|e| {
                    matches!(
                        e,
                        ClientEvent::CaseChanged { .. } | ClientEvent::Confirmed { .. }
                    )
                })
                .count()
        };
        assert_eq!(news(&before) + news(&after), 0, "seed {seed}: nothing new");
        assert_eq!(
            (after.sent_frames, after.bytes_sent),
            (before.sent_frames, before.bytes_sent),
            "seed {seed}: {}: a relaunched device sends what a running one does",
            device.name
        );
    }

    // A coordinator's new device gets both cases, and everyone agrees.
    let code = admin(&data, &["enrol-code", "--user", "nina"]).await;
    let mut coordinator = Device::enrol(
        dir.path(),
        &proxy.url(),
        code["code"].as_str().expect("code"),
        "nina-laptop",
        seed ^ 0xc0,
    )
    .await;
    for _ in 0..40 {
        coordinator.sync_retrying(&mut rng, seed).await;
        if coordinator.cases().case_ids().len() == cases.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let everything: BTreeSet<ContactId> = devices
        .iter()
        .flat_map(|d| d.written.keys().cloned())
        .collect();
    for case in &cases {
        let relay_heads = stored_heads(&data, case);
        assert!(!relay_heads.is_empty());
        for device in devices.iter().chain([&coordinator]) {
            assert_eq!(
                device.heads(case),
                relay_heads,
                "seed {seed}: {} and the relay converge",
                device.name
            );
        }
    }
    let seen: BTreeSet<ContactId> = cases
        .iter()
        .flat_map(|c| {
            coordinator
                .cases()
                .read(c)
                .expect("the coordinator reads the case")
                .contacts
                .into_keys()
        })
        .collect();
    assert_eq!(
        seen, everything,
        "seed {seed}: the coordinator sees every contact"
    );
    for device in &devices {
        assert_eq!(device.cases().pending_count().expect("pending"), 0);
    }
    if let Some(relay) = relay {
        relay.kill().await;
    }

    let device_restarts: usize = devices.iter().map(|d| d.restarts).sum();
    println!(
        "seed {seed}: {done} cycles in {loop_secs:.1} s ({:.1} s in all): {cuts} planned cuts, {kills} relay SIGKILLs ({kills_mid_sync} mid-session, {concurrent} with both devices syncing), {restarts} device restarts ({device_restarts} with the final ones), {plain} retrying syncs; {} of {} sync connections interrupted by the proxy; {} contacts, all on the relay and the coordinator",
        started.elapsed().as_secs_f64(),
        proxy.interrupted(),
        proxy.sync_connections(),
        everything.len(),
    );
}
