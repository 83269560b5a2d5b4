//! Benchmarks of what a phone does: log a contact durably, open a store with two years of
//! history, compute the PRW's week and a team's signals. Results: BENCHMARKS.md.
//!
//! Run: `cargo bench -p peerlog-core --bench core`

use std::hint::black_box;
use std::path::Path;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jiff::civil::date;
use peerlog_core::crypto::StoreKey;
use peerlog_core::document::NewContact;
use peerlog_core::ids::{CaseId, DeviceId};
use peerlog_core::insights::{prw_week, team_signals, week_of};
use peerlog_core::local::LocalCases;
use peerlog_core::model::*;
use peerlog_core::settings::OrgSettings;
use peerlog_core::store::SqliteStore;
use peerlog_core::{CaseDoc, EditCtx, NewCase};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 2026-11-28T12:00:00Z.
const NOW: i64 = 1_795_867_200_000;
const DAY_MS: i64 = 86_400_000;
const KEY: [u8; 32] = [0x42; 32];
const NOTE: &str = "Met at the café after his appointment at NAV. Talked about the flat viewing on \
                    Thursday and about how the weekend went; agreed to call on Wednesday evening.";

fn key() -> StoreKey {
    StoreKey::from_bytes(&KEY).expect("32-byte key")
}

fn contact(rng: &mut ChaCha8Rng, at: i64) -> NewContact {
    NewContact {
        at,
        tz_offset_min: 60,
        minutes: rng.random_range(5..120),
        mode: ContactMode::ALL[rng.random_range(0..ContactMode::ALL.len())],
        initiated_by: Initiator::ALL[rng.random_range(0..Initiator::ALL.len())],
        topics: vec![LifeArea::ALL[rng.random_range(0..LifeArea::ALL.len())]],
        support_types: vec![SupportType::Emotional],
        note: NOTE.to_owned(),
        flag_for_guidance: rng.random_bool(0.05),
    }
}

/// A case of `prw` with `contacts` contacts spread over the last two years, one change each.
fn case_with_history(rng: &mut ChaCha8Rng, prw: &str, contacts: usize) -> CaseDoc {
    let device: DeviceId = "phone".parse().unwrap();
    let id = CaseId::random(rng);
    let mut doc = CaseDoc::create(
        NewCase {
            id,
            team: "team-north".parse().unwrap(),
            prw: prw.parse().unwrap(),
            service_user: ServiceUser {
                alias: "Fjellrev".into(),
                birth_year: Some(1990),
                interests: vec!["fishing".into()],
                background: vec![],
            },
            started_on: date(2024, 11, 1),
            planned_end: date(2026, 12, 31),
            boundaries: Boundaries {
                max_contacts_per_week: Some(4),
                ..Boundaries::default()
            },
        },
        automerge::ActorId::random(),
        &mut EditCtx {
            now: NOW,
            device: &device,
            rng,
        },
    )
    .unwrap();
    let start = NOW - 730 * DAY_MS;
    let step = 730 * DAY_MS / contacts as i64;
    for i in 0..contacts {
        let at = start + i as i64 * step + rng.random_range(0..step / 2);
        let c = contact(rng, at);
        doc.log_contact(
            &mut EditCtx {
                now: at,
                device: &device,
                rng,
            },
            &c,
        )
        .unwrap();
    }
    doc
}

fn store_with(path: &Path, docs: &[CaseDoc], rng: &mut ChaCha8Rng) {
    let store = SqliteStore::open(path, key()).unwrap();
    let mut cases = LocalCases::open(store, "phone".parse().unwrap(), rng).unwrap();
    for doc in docs {
        cases.receive(&doc.id(), &doc.save()).unwrap();
    }
}

fn log_contact_durably(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.sqlite");
    let doc = case_with_history(&mut rng, "prw-1", 100);
    store_with(&path, std::slice::from_ref(&doc), &mut rng);
    let store = SqliteStore::open(&path, key()).unwrap();
    let mut cases = LocalCases::open(store, "phone".parse().unwrap(), &mut rng).unwrap();
    let case = doc.id();
    c.bench_function("log one contact durably (SQLite, fsync)", |b| {
        b.iter(|| {
            let new = contact(&mut rng, NOW - 60_000);
            let mut ctx_rng = ChaCha8Rng::seed_from_u64(rng.random());
            cases
                .edit(&case, NOW, &mut ctx_rng, |doc, ctx| {
                    doc.log_contact(ctx, &new)
                })
                .unwrap()
        })
    });
}

fn open_store(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.sqlite");
    let docs: Vec<CaseDoc> = (0..3)
        .map(|_| case_with_history(&mut rng, "prw-1", 700))
        .collect();
    store_with(&path, &docs, &mut rng);
    let mut group = c.benchmark_group("open store");
    group.sample_size(20);
    group.bench_function("3 cases x 700 contacts (2 years)", |b| {
        b.iter(|| {
            let store = SqliteStore::open(&path, key()).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            black_box(LocalCases::open(store, "phone".parse().unwrap(), &mut rng).unwrap())
        })
    });
    group.finish();
}

fn insights(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let settings = OrgSettings::norway_default();
    let mine: Vec<Case> = (0..3)
        .map(|_| case_with_history(&mut rng, "prw-1", 700).read().unwrap())
        .collect();
    let team: Vec<Case> = (0..10)
        .flat_map(|p| (0..3).map(move |_| p))
        .map(|p| {
            case_with_history(&mut rng, &format!("prw-{p}"), 700)
                .read()
                .unwrap()
        })
        .collect();
    let prw = "prw-1".parse().unwrap();
    let week = week_of(NOW, &settings);
    c.bench_function("PRW's week (3 cases x 700 contacts)", |b| {
        b.iter(|| black_box(prw_week(&mine, &prw, week, &settings, NOW)))
    });
    c.bench_function("team signals (10 PRWs, 30 cases x 700 contacts)", |b| {
        b.iter(|| black_box(team_signals(&team, &settings, NOW)))
    });
    let docs: Vec<CaseDoc> = (0..3)
        .map(|_| case_with_history(&mut rng, "prw-1", 700))
        .collect();
    c.bench_function("read 3 case documents into the typed model", |b| {
        b.iter_batched(
            || (),
            |()| {
                for doc in &docs {
                    black_box(doc.read().unwrap());
                }
            },
            BatchSize::SmallInput,
        )
    });
}

/// What the relay's door check adds to merging one new contact into a two-year case.
fn door_check(c: &mut Criterion) {
    use automerge::ReadDoc;
    use peerlog_core::document::schema::check::check_device_changes;

    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let relay = case_with_history(&mut rng, "prw-ola", 700);
    let relay_doc = relay.automerge().clone();
    println!(
        "a two-year case (700 contacts): {} operations, {} changes",
        relay_doc.stats().num_ops,
        relay_doc.stats().num_changes
    );
    let mut phone = CaseDoc::from_automerge(
        relay.id(),
        relay_doc.fork().with_actor(automerge::ActorId::random()),
    )
    .unwrap();
    let before = phone.heads();
    let device: DeviceId = "phone".parse().unwrap();
    let c2 = contact(&mut rng, NOW - DAY_MS);
    phone
        .log_contact(
            &mut EditCtx {
                now: NOW,
                device: &device,
                rng: &mut rng,
            },
            &c2,
        )
        .unwrap();
    let changes = phone.automerge().get_changes(&before);
    let mut group = c.benchmark_group("relay merges one new contact into a two-year case");
    group.bench_function("merge only", |b| {
        b.iter_batched(
            || relay_doc.clone(),
            |mut doc| {
                doc.apply_changes(changes.iter().cloned()).unwrap();
                black_box(doc)
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("merge + door check", |b| {
        b.iter_batched(
            || relay_doc.clone(),
            |mut doc| {
                doc.apply_changes(changes.iter().cloned()).unwrap();
                let refs: Vec<&automerge::Change> = changes.iter().collect();
                check_device_changes(&doc, &refs).unwrap();
                black_box(doc)
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(
    benches,
    log_contact_durably,
    open_store,
    insights,
    door_check
);
criterion_main!(benches);
