//! [`SqliteDocStorage`]: the sync engine's [`DocStorage`] on the relay database. A batch is one
//! fsynced transaction (`synchronous=FULL`), and every device write in it lands in the access
//! log in the same transaction. Erased documents are never re-created.

use std::sync::Arc;
use std::time::Instant;

use peerlog_core::ids::CaseId;

use crate::clock::now_ms;
use crate::db::{Db, DbError, access_log, docs};
use crate::sync::ports::{DocAppend, DocStorage, StorageError};
use crate::web::metrics::Metrics;

/// Document storage in the relay database.
#[derive(Debug, Clone)]
pub struct SqliteDocStorage {
    db: Arc<Db>,
    metrics: Arc<Metrics>,
}

fn failed(step: &'static str) -> impl FnOnce(DbError) -> StorageError {
    move |e| StorageError::Failed {
        step,
        source: Box::new(e),
    }
}

impl SqliteDocStorage {
    pub fn new(db: Arc<Db>, metrics: Arc<Metrics>) -> Self {
        Self { db, metrics }
    }
}

impl DocStorage for SqliteDocStorage {
    fn load(&self, doc: &CaseId) -> Result<Option<Vec<u8>>, StorageError> {
        let start = Instant::now();
        let result = self
            .db
            .read(|tx| docs::load(tx, doc))
            .map_err(failed("loading a document"));
        self.metrics.storage_load.observe(start.elapsed());
        result
    }

    fn append(&self, batch: &[DocAppend]) -> Result<(), StorageError> {
        let start = Instant::now();
        let now = now_ms();
        let result = self
            .db
            .write(|tx| {
                for append in batch {
                    let stored = docs::append_chunk(tx, &append.doc, &append.changes)?;
                    if !stored {
                        tracing::warn!("dropped changes for an erased document");
                        continue;
                    }
                    if let Some(who) = &append.written_by {
                        access_log::append(
                            tx,
                            now,
                            Some(who),
                            &append.doc,
                            access_log::Action::SyncWrite,
                        )?;
                    }
                }
                Ok::<_, DbError>(())
            })
            .map_err(failed("appending changes"));
        self.metrics.storage_append.observe(start.elapsed());
        result
    }

    fn compact(&self, doc: &CaseId, snapshot: &[u8]) -> Result<(), StorageError> {
        let start = Instant::now();
        let result = self
            .db
            .write(|tx| docs::replace(tx, doc, snapshot).map(|_| ()))
            .map_err(failed("compacting a document"));
        self.metrics.storage_compact.observe(start.elapsed());
        result
    }
}
