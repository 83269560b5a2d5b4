//! Starting and running the relay: open the data directory (and hold its lock), initialise the
//! organisation on first start (printing a one-time admin set-up code), seed the demo if asked,
//! wire storage, access control and the sync engine, then serve until shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth::secrets;
use crate::auth::service::{EnrolmentCodeError, issue_enrolment_code};
use crate::cases::access::CachedAccess;
use crate::cases::engine::CaseEngine;
use crate::cases::engine::live::LiveEngine;
use crate::cases::storage::SqliteDocStorage;
use crate::cases::{upkeep, watch};
use crate::clock::now_ms;
use crate::config::Config;
use crate::datadir::{self, DataDirError, DirLock};
use crate::db::{Db, DbError, identity, org};
use crate::demo::{self, DemoError, DemoSummary};
use crate::state::AppState;
use crate::sync::ports::{DocStorage, Role};
use crate::sync::{SyncConfig, SyncService, random_storage_id};
use crate::web::metrics::Metrics;
use crate::web::router;
use crate::web::tls;

/// How long the first admin set-up code stays valid.
const SETUP_CODE_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// The name of the admin user created on first start.
pub const FIRST_ADMIN: &str = "admin";

/// Why the relay could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("seeding the demo failed")]
    Demo(#[from] DemoError),
    #[error("making a secret failed")]
    Crypto(#[from] crate::auth::crypto::CryptoError),
    #[error("bringing documents up to date failed")]
    Upkeep(#[from] upkeep::UpkeepError),
    #[error("listening failed")]
    Listen(#[source] std::io::Error),
    #[error("serving failed")]
    Serve(#[source] std::io::Error),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    Enrolment(#[from] EnrolmentCodeError),
}

/// What start-up has to tell the operator.
#[derive(Debug, Clone, Default)]
pub struct Started {
    /// A one-time enrolment code for the first admin, on the very first start.
    pub admin_setup_code: Option<String>,
    /// What the demo seeded this time (`None` if it was seeded before or not asked for).
    pub demo_seeded: Option<DemoSummary>,
    /// With `--demo`: an enrolment code for the demo PRW's device.
    pub demo_enrolment_code: Option<String>,
    /// With `--demo`: the demo coordinators' dashboard password (fresh at every start).
    pub demo_password: Option<String>,
}

/// A started relay, ready to serve.
#[derive(Debug)]
pub struct Relay {
    pub state: AppState,
    pub started: Started,
    _lock: DirLock,
    watch: Option<JoinHandle<()>>,
}

/// Creates the organisation and its first admin on an empty database; returns the admin's
/// one-time set-up code.
pub fn initialise(db: &Db, config: &Config, now: i64) -> Result<Option<String>, ServeError> {
    let (code, hash) = secrets::new_enrolment_code()?;
    let created = db.write(|tx| {
        if !org::create(tx, &config.org_name, now)? {
            return Ok(false);
        }
        let admin = identity::add_user(tx, FIRST_ADMIN, Role::Admin, &[], now)?;
        identity::insert_enrolment_code(tx, &hash, &admin.id, now, now + SETUP_CODE_TTL_MS)?;
        Ok::<_, DbError>(true)
    })?;
    Ok(created.then_some(code))
}

/// Builds the sync engine over the relay's storage and access policy.
fn build_engine(
    config: &Config,
    storage_id: String,
    storage: Arc<dyn DocStorage>,
    access: Arc<CachedAccess>,
) -> Arc<dyn CaseEngine> {
    let sync_config = SyncConfig {
        storage_id,
        max_frame_bytes: config.max_frame_bytes,
        max_loaded_docs: config.max_loaded_docs,
        check_content: config.door_check,
        max_doc_ops: config.max_doc_ops,
        max_device_bytes_per_day: config.max_device_bytes_per_day,
        ..SyncConfig::default()
    };
    let service = SyncService::new(storage, access, sync_config);
    Arc::new(LiveEngine::new(service, config.max_frame_bytes))
}

impl Relay {
    /// Opens the data directory and prepares everything short of listening.
    pub async fn start(config: Config, demo: bool) -> Result<Self, ServeError> {
        let dir = datadir::ensure(&config.data)?;
        let lock = datadir::try_lock(&dir)?;
        let db = Arc::new(Db::open_in(&dir)?);
        let now = now_ms();
        let mut started = Started {
            admin_setup_code: initialise(&db, &config, now)?,
            ..Started::default()
        };
        if demo {
            started.demo_seeded = demo::seed(&db, now)?;
            started.demo_enrolment_code =
                issue_enrolment_code(&db, demo::DEMO_PRW, now, config.enrolment_code_ttl_ms())?
                    .map(|(code, _)| code);
            started.demo_password = Some(demo::reset_coordinator_passwords(&db, now)?);
        }
        let metrics = Arc::new(Metrics::default());
        let access = Arc::new(CachedAccess::load(&db, now_ms)?);
        let storage: Arc<dyn DocStorage> =
            Arc::new(SqliteDocStorage::new(db.clone(), metrics.clone()));
        let storage_id = db.write(|tx| org::storage_id(tx, random_storage_id))?;
        let engine = build_engine(&config, storage_id, storage, access.clone());
        let state = AppState::new(db, access, engine, metrics, config);
        upkeep::run(
            &state.db,
            &state.access,
            state.engine.as_ref(),
            &state.metrics,
        )
        .await?;
        Ok(Self {
            state,
            started,
            _lock: lock,
            watch: None,
        })
    }

    /// Binds the configured address.
    pub async fn bind(&self) -> Result<TcpListener, ServeError> {
        TcpListener::bind(self.state.config.listen)
            .await
            .map_err(ServeError::Listen)
    }

    /// Serves on `listener` until `shutdown` completes; then stops background work and flushes
    /// the access log.
    pub async fn serve(
        mut self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        self.watch = Some(watch::spawn(self.state.clone()));
        crate::dashboard::projection::warm_up(
            self.state.db.clone(),
            self.state.projections.clone(),
        );
        let addr: Option<SocketAddr> = listener.local_addr().ok();
        tracing::info!(addr = ?addr, "relay listening");
        let app = router::app(self.state.clone());
        let result = match (&self.state.config.tls_cert, &self.state.config.tls_key) {
            (Some(cert), Some(key)) => match tls::server_config(cert, key) {
                Ok(tls) => router::run_tls(listener, app, tls, shutdown)
                    .await
                    .map_err(ServeError::Serve),
                Err(e) => Err(ServeError::Tls(e)),
            },
            _ => router::run(listener, app, shutdown)
                .await
                .map_err(ServeError::Serve),
        };
        if let Some(watch) = self.watch.take() {
            watch.abort();
        }
        let db = self.state.db.clone();
        let access = self.state.access.clone();
        let _ = tokio::task::spawn_blocking(move || access.flush_reads(&db)).await;
        tracing::info!("relay stopped");
        result
    }
}
