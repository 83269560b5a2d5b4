//! The relay's SQLite database: one writer connection, a few reader connections (WAL), versioned
//! migrations, and transactions owned by closures.
//!
//! Every connection runs with `synchronous=FULL` (a commit is on disk when it returns),
//! `secure_delete=ON` (deleted content is zeroed, which erasure relies on), foreign keys on and a
//! busy timeout, so the admin CLI can work on the same file while the server runs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

pub mod access_log;
pub mod cases;
pub mod docs;
pub mod identity;
pub mod logins;
pub mod migrations;
pub mod org;
pub mod outbox;
pub mod profiles;

/// How long a connection waits for another writer (e.g. the CLI while the server runs).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The file name of the database inside the data directory.
pub const DB_FILE: &str = "peerlog.sqlite3";

const READERS: usize = 2;

/// Why a database step failed. Names the step; never carries row content.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("opening the database failed")]
    Open(#[source] rusqlite::Error),
    #[error("migrating the database to version {version} failed")]
    Migrate {
        version: i64,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the database has schema version {found}; this relay understands up to {supported}")]
    NewerSchema { found: i64, supported: i64 },
    #[error("the database failed while {step}")]
    Sqlite {
        step: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("a database connection lock was poisoned")]
    Poisoned,
}

/// Attaches the name of a step to a rusqlite error.
pub trait StepExt<T> {
    fn step(self, step: &'static str) -> Result<T, DbError>;
}

impl<T> StepExt<T> for Result<T, rusqlite::Error> {
    fn step(self, step: &'static str) -> Result<T, DbError> {
        self.map_err(|source| DbError::Sqlite { step, source })
    }
}

/// The relay database: one writer, a few readers.
#[derive(Debug)]
pub struct Db {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

impl Db {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, DbError> {
        let mut writer = open_connection(path, false)?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(DbError::Open)?;
        migrations::migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| open_connection(path, true).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    /// Opens the database in a data directory.
    pub fn open_in(data_dir: &Path) -> Result<Self, DbError> {
        Self::open(&data_dir.join(DB_FILE))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one IMMEDIATE transaction on the writer connection; commits if it returns `Ok`.
    pub fn write<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.writer()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .step("beginning a write transaction")?;
        let value = f(&tx)?;
        tx.commit().step("committing")?;
        Ok(value)
    }

    /// Runs `f` in one read transaction on a reader connection (a consistent snapshot).
    pub fn read<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.reader()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .step("beginning a read transaction")?;
        let value = f(&tx)?;
        tx.commit().step("ending a read transaction")?;
        Ok(value)
    }

    /// The writer connection itself, for maintenance (backup, checkpoint, vacuum).
    pub fn writer(&self) -> Result<MutexGuard<'_, Connection>, DbError> {
        self.writer.lock().map_err(|_| DbError::Poisoned)
    }

    fn reader(&self) -> Result<MutexGuard<'_, Connection>, DbError> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.readers.len() {
            if let Ok(guard) = self.readers[(start + i) % self.readers.len()].try_lock() {
                return Ok(guard);
            }
        }
        self.readers[start % self.readers.len()]
            .lock()
            .map_err(|_| DbError::Poisoned)
    }
}

/// Opens one connection with the relay's pragmas.
pub fn open_connection(path: &Path, read_only: bool) -> Result<Connection, DbError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).map_err(DbError::Open)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(DbError::Open)?;
    for (name, value) in [
        ("synchronous", "FULL"),
        ("foreign_keys", "ON"),
        ("secure_delete", "ON"),
    ] {
        conn.pragma_update(None, name, value)
            .map_err(DbError::Open)?;
    }
    Ok(conn)
}
