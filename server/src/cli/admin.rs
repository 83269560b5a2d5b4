//! The admin CLI's commands. Each opens the same SQLite file as a running server (with a busy
//! timeout), does its work in one transaction, and prints text or `--json`.
//!
//! Changes reach a running server through the database: its watch loop sees the change counter
//! move within a second and reloads access, disconnects revoked devices, applies queued case
//! edits and refreshes directories. With no server running, the CLI does that upkeep itself
//! (holding the data directory lock so no server starts meanwhile).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::auth::service::EnrolmentCodeError;
use crate::cases::access::CachedAccess;
use crate::cases::casework::CaseworkError;
use crate::cases::engine::offline::OfflineEngine;
use crate::cases::storage::SqliteDocStorage;
use crate::cases::upkeep::{self, UpkeepError};
use crate::cli::{AdminCommand, Command};
use crate::clock::now_ms;
use crate::datadir::{self, DataDirError};
use crate::db::{Db, DbError};
use crate::maintenance::MaintenanceError;
use crate::serve::ServeError;
use crate::web::metrics::Metrics;

mod cases;
mod devices;
mod people;
mod tools;

/// Why an admin command failed. Messages name what was wrong, never personal data.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error(transparent)]
    Casework(#[from] CaseworkError),
    #[error(transparent)]
    Maintenance(#[from] MaintenanceError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error(transparent)]
    Enrolment(#[from] EnrolmentCodeError),
    #[error(transparent)]
    Upkeep(#[from] UpkeepError),
    #[error("{0}")]
    Usage(&'static str),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("the check found problems")]
    CheckFailed,
    #[error("writing output failed")]
    Output(#[source] std::io::Error),
}

/// One command's result: JSON for scripts, text for people.
#[derive(Debug, Clone)]
pub struct Output {
    pub json: Value,
    pub text: String,
}

impl Output {
    pub fn new(json: Value, text: impl Into<String>) -> Self {
        Self {
            json,
            text: text.into(),
        }
    }
}

/// Runs a non-`serve` command and writes its output. A failed check prints its report and
/// then returns [`AdminError::CheckFailed`].
pub fn run(command: Command, out: &mut dyn Write) -> Result<(), AdminError> {
    let (result, json) = match command {
        Command::Serve(_) => return Err(AdminError::Usage("serve is not an admin command")),
        Command::Admin { data, command } => (admin(&data.dir(), command).map(ok), data.json),
        Command::Backup { file, data } => (tools::backup(&data.dir(), &file).map(ok), data.json),
        Command::Restore { file, data } => (tools::restore(&data.dir(), &file).map(ok), data.json),
        Command::Check { data } => (tools::check(&data.dir()), data.json),
        Command::EraseCase { id, data } => (tools::erase_case(&data.dir(), &id).map(ok), data.json),
    };
    let (output, passed) = result?;
    let text = if json {
        serde_json::to_string_pretty(&output.json).unwrap_or_default()
    } else {
        output.text
    };
    writeln!(out, "{text}").map_err(AdminError::Output)?;
    if passed {
        Ok(())
    } else {
        Err(AdminError::CheckFailed)
    }
}

fn ok(output: Output) -> (Output, bool) {
    (output, true)
}

fn admin(dir: &Path, command: AdminCommand) -> Result<Output, AdminError> {
    if let AdminCommand::Init { org_name } = command {
        return people::init(dir, org_name);
    }
    let db = open(dir)?;
    let now = now_ms();
    let output = match command {
        AdminCommand::Init { .. } => return Err(AdminError::Usage("already handled")),
        AdminCommand::Team { command } => people::team(&db, command, now)?,
        AdminCommand::User { command } => people::user(&db, command, now)?,
        AdminCommand::EnrolCode { user, minutes } => people::enrol_code(&db, &user, minutes, now)?,
        AdminCommand::Case { command } => cases::run(&db, command, now)?,
        AdminCommand::Device { command } => devices::run(&db, command, now)?,
        AdminCommand::AccessLog { case } => cases::access_log(&db, &case)?,
    };
    apply_if_no_server(dir, &db)?;
    Ok(output)
}

/// Opens the database in an existing data directory.
pub(crate) fn open(dir: &Path) -> Result<Arc<Db>, AdminError> {
    if !dir.join(crate::db::DB_FILE).exists() {
        return Err(AdminError::Usage(
            "no relay database in the data directory (run `peerlog serve` once, or pass --data)",
        ));
    }
    Ok(Arc::new(Db::open_in(dir)?))
}

/// With no server running, brings documents up to date now (queued case edits, directories).
/// Returns whether it did (false: the running server will, within a second).
pub fn apply_if_no_server(dir: &Path, db: &Arc<Db>) -> Result<bool, AdminError> {
    let _lock = match datadir::try_lock(dir) {
        Ok(lock) => lock,
        Err(DataDirError::InUse) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    let metrics = Arc::new(Metrics::default());
    let access = CachedAccess::load(db, now_ms)?;
    let engine = OfflineEngine::new(Arc::new(SqliteDocStorage::new(db.clone(), metrics.clone())));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|_| AdminError::Usage("could not start a runtime"))?;
    runtime.block_on(upkeep::run(db, &access, &engine, &metrics))?;
    Ok(true)
}
