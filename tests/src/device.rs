//! A real relay (`peerlog_server`) on 127.0.0.1:0 with a temp data directory, administered
//! through the real CLI code in-process, and phones that enrol with real codes and Ed25519 keys,
//! keep their cases in encrypted SQLite stores and sync through `peerlog_core::net`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use automerge::{Automerge, ChangeHash};
use peerlog_core::crypto::StoreKey;
use peerlog_core::document::NewContact;
use peerlog_core::ids::{CaseId, ContactId};
use peerlog_core::local::LocalCases;
use peerlog_core::model::{ContactMode, Initiator, LifeArea, SupportType, UnixMillis};
use peerlog_core::net::{self, Enrolment, NetError, SyncReport, Syncer};
use peerlog_core::store::SqliteStore;
use peerlog_server::config::Config;
use peerlog_server::serve::Relay;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

/// The relay process's wall clock in Unix milliseconds (token expiry, sync times).
pub fn wall_ms() -> i64 {
    peerlog_server::clock::now_ms()
}

/// A relay serving on loopback until dropped.
#[derive(Debug)]
pub struct LiveRelay {
    pub addr: SocketAddr,
    pub data: PathBuf,
    pub state: peerlog_server::state::AppState,
    tls: bool,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<Result<(), peerlog_server::serve::ServeError>>>,
    _dir: tempfile::TempDir,
}

impl LiveRelay {
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// A relay serving HTTPS/WSS itself with this PEM certificate chain and key.
    pub async fn start_tls(cert: PathBuf, key: PathBuf) -> Self {
        Self::start_with(Some((cert, key))).await
    }

    async fn start_with(tls: Option<(PathBuf, PathBuf)>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let tls_on = tls.is_some();
        let (tls_cert, tls_key) = tls.unzip();
        let config = Config {
            data: data.clone(),
            listen: "127.0.0.1:0".parse().expect("addr"),
            tls_cert,
            tls_key,
            ..Config::default()
        };
        let relay = Relay::start(config, false).await.expect("relay starts");
        let state = relay.state.clone();
        let listener = relay.bind().await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(relay.serve(listener, async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            data,
            state,
            tls: tls_on,
            stop: Some(stop),
            server: Some(server),
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Runs `peerlog admin …` (the CLI's own code, in-process) against the live data directory
    /// and returns its `--json` output.
    pub async fn admin(&self, args: &[&str]) -> Value {
        crate::relay_process::admin(&self.data, args).await
    }

    /// The relay's stored copy of a document.
    pub fn doc(&self, id: &CaseId) -> Option<Automerge> {
        let bytes = self
            .state
            .db
            .read(|tx| peerlog_server::db::docs::load(tx, id))
            .expect("db read")?;
        Some(Automerge::load(&bytes).expect("stored doc loads"))
    }

    pub fn heads(&self, id: &CaseId) -> Vec<ChangeHash> {
        let mut heads = self.doc(id).map(|d| d.get_heads()).unwrap_or_default();
        heads.sort();
        heads
    }

    /// Stops the server gracefully.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        }
    }
}

impl Drop for LiveRelay {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// One device: an encrypted SQLite store in a temp dir, its cases and its connection.
#[derive(Debug)]
pub struct TestDevice {
    pub name: String,
    pub path: PathBuf,
    pub cases: LocalCases<SqliteStore>,
    pub syncer: Syncer,
    pub rng: ChaCha8Rng,
}

impl TestDevice {
    /// Enrols a new device of `user` with a fresh one-time code.
    pub async fn enrol(relay: &LiveRelay, dir: &Path, user: &str, name: &str, seed: u64) -> Self {
        let code = relay.admin(&["enrol-code", "--user", user]).await["code"]
            .as_str()
            .expect("code")
            .to_owned();
        let path = dir.join(format!("{name}.sqlite3"));
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8] = 0x5a;
        let mut store =
            SqliteStore::open(&path, StoreKey::from_bytes(&key).expect("key")).expect("open store");
        let enrolment = net::enrol(&mut store, &relay.url(), &code, name)
            .await
            .expect("enrol");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (cases, loaded) = net::open_cases(store, &mut rng).expect("open cases");
        assert_eq!(loaded, enrolment);
        let syncer = Syncer::new(&relay.url(), enrolment).expect("syncer");
        Self {
            name: name.to_owned(),
            path,
            cases,
            syncer,
            rng,
        }
    }

    pub fn enrolment(&self) -> &Enrolment {
        self.syncer.enrolment()
    }

    pub async fn sync(&mut self) -> Result<SyncReport, NetError> {
        self.syncer.sync_once(&mut self.cases, wall_ms()).await
    }

    pub fn heads(&self, case: &CaseId) -> Vec<ChangeHash> {
        let mut heads = self.cases.doc(case).map(|d| d.heads()).unwrap_or_default();
        heads.sort();
        heads
    }

    /// Logs a contact at `at`; returns its id.
    pub fn log_contact(&mut self, case: &CaseId, at: UnixMillis, note: &str) -> ContactId {
        self.cases
            .edit(case, at, &mut self.rng, |doc, ctx| {
                doc.log_contact(
                    ctx,
                    &NewContact {
                        at: at - 60 * 60_000,
                        tz_offset_min: 60,
                        minutes: 45,
                        mode: ContactMode::Meeting,
                        initiated_by: Initiator::ServiceUser,
                        topics: vec![LifeArea::Housing],
                        support_types: vec![SupportType::Emotional],
                        note: note.to_owned(),
                        flag_for_guidance: false,
                    },
                )
            })
            .expect("log contact")
    }
}
