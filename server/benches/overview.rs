//! The coordinator's team overview at the size the issue sets: 50 PRWs and 150 cases with two
//! years of contacts (`seed::SeedSpec::benchmark()`), seen by a coordinator of all five teams.
//! Measured through the real router (session lookup, scope, projection check, insights, HTML):
//! - `overview/page_warm`: the steady state of a running relay (projections cached);
//! - `overview/page_after_one_sync`: one case changed since the last view (one document read);
//! - `overview/page_cold`: the first view after a restart (every document read).
//!
//! Run: `cargo bench -p peerlog-server --bench overview`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use peerlog_core::{CaseDoc, EditCtx};
use peerlog_server::auth::crypto::sha256;
use peerlog_server::clock::now_ms;
use peerlog_server::config::Config;
use peerlog_server::dashboard::projection::Projections;
use peerlog_server::dashboard::session::IDLE_MS;
use peerlog_server::db::logins::{self, Stage};
use peerlog_server::db::{docs, identity};
use peerlog_server::demo::generator::{SeedSpec, seed_org};
use peerlog_server::serve::Relay;
use peerlog_server::state::AppState;
use peerlog_server::sync::ports::Role;
use tower::ServiceExt as _;

/// A session cookie value of the real length (43 characters of base64url).
const SESSION: &str = "benchmark-session-cookie-value-0123456789ab";

struct Setup {
    rt: tokio::runtime::Runtime,
    state: AppState,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config {
        data: dir.path().join("data"),
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    let relay = rt.block_on(Relay::start(config, false)).expect("relay");
    let state = relay.state.clone();
    let now = now_ms();
    let started = Instant::now();
    let truth = seed_org(&state.db, &SeedSpec::benchmark(), now).expect("seed");
    eprintln!(
        "seeded {} teams, {} PRWs, {} cases, {} contacts in {:.1} s",
        truth.teams.len(),
        truth.prws.len(),
        truth.cases.len(),
        truth.contacts.len(),
        started.elapsed().as_secs_f64()
    );
    let teams: Vec<_> = truth.teams.iter().map(|(id, _)| id.clone()).collect();
    state
        .db
        .write(|tx| {
            let user =
                identity::add_user(tx, "all-teams-coordinator", Role::Coordinator, &teams, now)?;
            logins::insert_session(
                tx,
                &sha256(SESSION.as_bytes()),
                &user.id,
                Stage::Full,
                "csrf",
                now,
                now + IDLE_MS * 1000,
            )
        })
        .expect("coordinator");
    state.access.reload(&state.db).expect("access");
    std::mem::forget(relay);
    Setup {
        rt,
        state,
        _dir: dir,
    }
}

async fn overview(state: &AppState) -> usize {
    let app = peerlog_server::web::router::app(state.clone());
    let response = app
        .oneshot(
            Request::get("/overview")
                .header("cookie", format!("peerlog_session={SESSION}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), 200);
    axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .expect("body")
        .len()
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let bytes = s.rt.block_on(overview(&s.state));
    eprintln!("overview page: {bytes} bytes of HTML");
    let mut group = c.benchmark_group("overview");
    group.sample_size(20);
    group.bench_function("page_warm", |b| {
        b.iter(|| s.rt.block_on(overview(&s.state)))
    });

    let snapshot = s.state.access.snapshot();
    let one_case: peerlog_core::ids::CaseId = s
        .state
        .db
        .read(|tx| docs::list(tx))
        .expect("documents")
        .into_iter()
        .filter_map(|(id, _)| id.parse().ok())
        .find(|id| snapshot.is_case(id))
        .expect("a stored case");
    let mut rng = rand::rng();
    group.bench_function("page_after_one_sync", |b| {
        b.iter_batched(
            || {
                // What a phone's sync leaves behind: one new change stored for one case.
                let bytes = s
                    .state
                    .db
                    .read(|tx| docs::load(tx, &one_case))
                    .expect("load")
                    .expect("doc");
                let mut doc =
                    CaseDoc::load(one_case, &bytes, automerge::ActorId::random()).expect("doc");
                let before = doc.heads();
                let device: peerlog_core::ids::DeviceId = "bench".parse().expect("id");
                let now = now_ms();
                doc.set_use_plan(
                    &mut EditCtx {
                        now,
                        device: &device,
                        rng: &mut rng,
                    },
                    &format!("plan {now}"),
                )
                .expect("edit");
                let (changes, _) = doc.changes_since(&before);
                s.state
                    .db
                    .write(|tx| docs::append_chunk(tx, &one_case, &changes))
                    .expect("append");
            },
            |()| s.rt.block_on(overview(&s.state)),
            BatchSize::PerIteration,
        )
    });

    let mut cold = s.state.clone();
    group.sample_size(10);
    group.bench_function("page_cold", |b| {
        b.iter(|| {
            cold.projections = Arc::new(Projections::default());
            s.rt.block_on(overview(&cold))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
