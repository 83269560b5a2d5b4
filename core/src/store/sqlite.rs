//! [`SqliteStore`]: the device's durable store, one SQLite file in which all case content is sealed.
//!
//! In clear: case ids (random, not personal), secret names, hashes of pending changes, and the
//! shape of the data (how many changes, their sizes). Sealed with [`crypto::seal`], bound by the
//! AAD to their kind and owner (`peerlog/v1/<kind>/<case id or secret name>`): snapshots, changes
//! and secret values. A sealed constant (the key check) tells a wrong key from corruption.
//!
//! One connection, WAL journal, `synchronous=FULL` (a committed transaction is on disk before the
//! method returns), `secure_delete=ON` (freed pages are zeroed), foreign keys on. The schema is
//! versioned with `PRAGMA user_version`; [`MIGRATIONS`] run in order, one transaction each.

use std::fmt;
use std::path::Path;

use automerge::ChangeHash;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::{Store, StoreError, StoredCase};
use crate::crypto::{self, CryptoError, StoreKey};
use crate::ids::CaseId;

/// One schema step: the SQL that takes the database from `version - 1` to `version`.
struct Migration {
    version: i64,
    sql: &'static str,
}

/// Every schema step, in order. Never edit a released step; add a new one.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: "
            CREATE TABLE key_check (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                sealed BLOB NOT NULL
            ) STRICT;
            CREATE TABLE cases (
                case_id TEXT PRIMARY KEY NOT NULL,
                snapshot BLOB
            ) STRICT;
            CREATE TABLE changes (
                seq INTEGER PRIMARY KEY,
                case_id TEXT NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
                sealed BLOB NOT NULL
            ) STRICT;
            CREATE INDEX changes_by_case ON changes (case_id, seq);
            CREATE TABLE secrets (
                name TEXT PRIMARY KEY NOT NULL,
                sealed BLOB NOT NULL
            ) STRICT;
        ",
    },
    // Pending tracking arrived with sync: hashes of local changes the relay has not confirmed.
    Migration {
        version: 2,
        sql: "
            CREATE TABLE pending (
                seq INTEGER PRIMARY KEY,
                case_id TEXT NOT NULL REFERENCES cases (case_id) ON DELETE CASCADE,
                hash BLOB NOT NULL CHECK (length(hash) = 32),
                UNIQUE (case_id, hash)
            ) STRICT;
        ",
    },
];

/// The schema version this code writes; databases above it are refused.
const LATEST_VERSION: i64 = 2;

const KEY_CHECK_AAD: &[u8] = b"peerlog/v1/key-check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"peerlog store key check";

/// The encrypted SQLite [`Store`] for a device. Its `Debug` output shows nothing of the content.
pub struct SqliteStore {
    conn: Connection,
    key: StoreKey,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the store at `path`, creating it if missing and upgrading its schema if old.
    ///
    /// A store made with another key gives [`StoreError::WrongKey`]; one written by a newer app
    /// version gives [`StoreError::NewerSchema`] and is left untouched.
    pub fn open(path: &Path, key: StoreKey) -> Result<Self, StoreError> {
        Self::open_to_version(path, key, LATEST_VERSION)
    }

    /// Opens with the schema migrated up to `target` only (tests build old databases this way).
    fn open_to_version(path: &Path, key: StoreKey, target: i64) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(StoreError::Open)?;
        configure(&conn)?;
        let mut store = Self { conn, key };
        store.migrate(target)?;
        store.check_key()?;
        Ok(store)
    }

    fn migrate(&mut self, target: i64) -> Result<(), StoreError> {
        let found = self.user_version()?;
        if found > LATEST_VERSION {
            return Err(StoreError::NewerSchema {
                found,
                supported: LATEST_VERSION,
            });
        }
        for migration in MIGRATIONS
            .iter()
            .filter(|m| m.version > found && m.version <= target)
        {
            apply(&mut self.conn, migration).map_err(|source| StoreError::Migrate {
                version: migration.version,
                source,
            })?;
        }
        Ok(())
    }

    fn user_version(&self) -> Result<i64, StoreError> {
        self.read("schema version", |conn| {
            conn.pragma_query_value(None, "user_version", |row| row.get(0))
        })
    }

    /// Creates the key check on first open; afterwards, tells a wrong key from a right one.
    fn check_key(&mut self) -> Result<(), StoreError> {
        let existing: Option<Vec<u8>> = self.read("key check", |conn| {
            conn.query_row("SELECT sealed FROM key_check WHERE id = 1", [], |row| {
                row.get(0)
            })
            .optional()
        })?;
        match existing {
            None => {
                let sealed = self.seal("key check", KEY_CHECK_AAD, KEY_CHECK_PLAINTEXT)?;
                self.write("key check", |tx| {
                    tx.execute(
                        "INSERT INTO key_check (id, sealed) VALUES (1, ?1)",
                        [sealed],
                    )
                })?;
                Ok(())
            }
            Some(sealed) => match crypto::open(&self.key, KEY_CHECK_AAD, &sealed) {
                Ok(plain) if plain == KEY_CHECK_PLAINTEXT => Ok(()),
                Err(CryptoError::Unauthentic) => Err(StoreError::WrongKey),
                _ => Err(StoreError::Corrupt { what: "key check" }),
            },
        }
    }

    /// Runs `f` in one immediate transaction and commits it (durably, with `synchronous=FULL`).
    fn write<T>(
        &mut self,
        what: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let run = || -> rusqlite::Result<T> {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run().map_err(|source| StoreError::Write { what, source })
    }

    /// Runs read-only queries. The one connection is held by `&self`, so no write interleaves.
    fn read<T>(
        &self,
        what: &'static str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        f(&self.conn).map_err(|source| StoreError::Read { what, source })
    }

    fn seal(&self, what: &'static str, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        crypto::seal(&self.key, aad, plain).map_err(|source| StoreError::Seal { what, source })
    }

    /// Opens a blob that must open: the key already passed the key check, so failure is corruption.
    fn unseal(&self, what: &'static str, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        crypto::open(&self.key, aad, sealed).map_err(|_| StoreError::Corrupt { what })
    }
}

/// Runs one migration and records its version, atomically.
fn apply(conn: &mut Connection, migration: &Migration) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(migration.sql)?;
    tx.pragma_update(None, "user_version", migration.version)?;
    tx.commit()
}

/// Durability and hygiene settings, applied on every open (they are per connection).
fn configure(conn: &Connection) -> Result<(), StoreError> {
    let settings = [
        ("journal_mode", "WAL"),
        ("synchronous", "FULL"),
        ("secure_delete", "ON"),
        ("foreign_keys", "ON"),
    ];
    for (pragma, value) in settings {
        conn.pragma_update(None, pragma, value)
            .map_err(|source| StoreError::Configure { pragma, source })?;
    }
    Ok(())
}

fn case_aad(kind: &str, case: &str) -> Vec<u8> {
    format!("peerlog/v1/{kind}/{case}").into_bytes()
}

fn secret_aad(name: &str) -> Vec<u8> {
    format!("peerlog/v1/secret/{name}").into_bytes()
}

impl Store for SqliteStore {
    fn case_ids(&self) -> Result<Vec<CaseId>, StoreError> {
        let texts: Vec<String> = self.read("case ids", |conn| {
            let mut stmt = conn.prepare_cached("SELECT case_id FROM cases")?;
            stmt.query_map([], |row| row.get(0))?.collect()
        })?;
        let mut ids = texts
            .iter()
            .map(|text| text.parse())
            .collect::<Result<Vec<CaseId>, _>>()
            .map_err(|_| StoreError::Corrupt { what: "case id" })?;
        ids.sort_unstable();
        Ok(ids)
    }

    fn load_case(&self, case: &CaseId) -> Result<Option<StoredCase>, StoreError> {
        let id = case.to_string();
        let rows = self.read("case", |conn| {
            let snapshot: Option<Option<Vec<u8>>> = conn
                .query_row(
                    "SELECT snapshot FROM cases WHERE case_id = ?1",
                    [&id],
                    |row| row.get(0),
                )
                .optional()?;
            let Some(snapshot) = snapshot else {
                return Ok(None);
            };
            let mut stmt =
                conn.prepare_cached("SELECT sealed FROM changes WHERE case_id = ?1 ORDER BY seq")?;
            let changes = stmt
                .query_map([&id], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<Vec<u8>>>>()?;
            Ok(Some((snapshot, changes)))
        })?;
        let Some((snapshot, changes)) = rows else {
            return Ok(None);
        };
        let snapshot = snapshot
            .map(|sealed| self.unseal("snapshot", &case_aad("snapshot", &id), &sealed))
            .transpose()?;
        let change_aad = case_aad("change", &id);
        let changes = changes
            .iter()
            .map(|sealed| self.unseal("change", &change_aad, sealed))
            .collect::<Result<_, _>>()?;
        Ok(Some(StoredCase { snapshot, changes }))
    }

    fn append_changes(
        &mut self,
        case: &CaseId,
        changes: &[u8],
        local: &[ChangeHash],
    ) -> Result<(), StoreError> {
        let id = case.to_string();
        let sealed = if changes.is_empty() {
            None
        } else {
            Some(self.seal("change", &case_aad("change", &id), changes)?)
        };
        self.write("changes", |tx| {
            tx.execute(
                "INSERT INTO cases (case_id) VALUES (?1) ON CONFLICT (case_id) DO NOTHING",
                [&id],
            )?;
            if let Some(sealed) = sealed {
                tx.execute(
                    "INSERT INTO changes (case_id, sealed) VALUES (?1, ?2)",
                    params![id, sealed],
                )?;
            }
            if !local.is_empty() {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO pending (case_id, hash) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                )?;
                for hash in local {
                    stmt.execute(params![id, hash.0])?;
                }
            }
            Ok(())
        })
    }

    fn replace_with_snapshot(&mut self, case: &CaseId, snapshot: &[u8]) -> Result<(), StoreError> {
        let id = case.to_string();
        let sealed = self.seal("snapshot", &case_aad("snapshot", &id), snapshot)?;
        self.write("snapshot", |tx| {
            // An upsert, not INSERT OR REPLACE: replacing the row would cascade to pending.
            tx.execute(
                "INSERT INTO cases (case_id, snapshot) VALUES (?1, ?2)
                 ON CONFLICT (case_id) DO UPDATE SET snapshot = excluded.snapshot",
                params![id, sealed],
            )?;
            tx.execute("DELETE FROM changes WHERE case_id = ?1", [&id])?;
            Ok(())
        })
    }

    fn delete_case(&mut self, case: &CaseId) -> Result<(), StoreError> {
        let id = case.to_string();
        // Changes and pending hashes go with the case (ON DELETE CASCADE).
        self.write("case deletion", |tx| {
            tx.execute("DELETE FROM cases WHERE case_id = ?1", [&id])?;
            Ok(())
        })
    }

    fn pending_changes(&self, case: &CaseId) -> Result<Vec<ChangeHash>, StoreError> {
        let id = case.to_string();
        let raw: Vec<Vec<u8>> = self.read("pending changes", |conn| {
            let mut stmt =
                conn.prepare_cached("SELECT hash FROM pending WHERE case_id = ?1 ORDER BY seq")?;
            stmt.query_map([&id], |row| row.get(0))?.collect()
        })?;
        raw.iter()
            .map(|bytes| ChangeHash::try_from(bytes.as_slice()))
            .collect::<Result<_, _>>()
            .map_err(|_| StoreError::Corrupt {
                what: "pending change hash",
            })
    }

    fn pending_count(&self) -> Result<u64, StoreError> {
        let count: i64 = self.read("pending count", |conn| {
            conn.query_row("SELECT count(*) FROM pending", [], |row| row.get(0))
        })?;
        u64::try_from(count).map_err(|_| StoreError::Corrupt {
            what: "pending count",
        })
    }

    fn mark_confirmed(&mut self, case: &CaseId, hashes: &[ChangeHash]) -> Result<(), StoreError> {
        let id = case.to_string();
        self.write("confirmation", |tx| {
            let mut stmt =
                tx.prepare_cached("DELETE FROM pending WHERE case_id = ?1 AND hash = ?2")?;
            for hash in hashes {
                stmt.execute(params![id, hash.0])?;
            }
            Ok(())
        })
    }

    fn get_secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let sealed: Option<Vec<u8>> = self.read("secret", |conn| {
            conn.query_row(
                "SELECT sealed FROM secrets WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .optional()
        })?;
        sealed
            .map(|sealed| self.unseal("secret", &secret_aad(name), &sealed))
            .transpose()
    }

    fn put_secret(&mut self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        let sealed = self.seal("secret", &secret_aad(name), value)?;
        self.write("secret", |tx| {
            tx.execute(
                "INSERT INTO secrets (name, sealed) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed",
                params![name, sealed],
            )?;
            Ok(())
        })
    }

    fn delete_secret(&mut self, name: &str) -> Result<(), StoreError> {
        self.write("secret deletion", |tx| {
            tx.execute("DELETE FROM secrets WHERE name = ?1", [name])?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::crypto::KEY_LEN;
    use crate::store::suite::{TestDoc, case};

    fn key() -> StoreKey {
        StoreKey::from_bytes(&[0x5A; KEY_LEN]).unwrap()
    }

    fn temp_store() -> (SqliteStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("store.sqlite"), key()).unwrap();
        (store, dir)
    }

    crate::store::suite::store_suite!(temp_store());

    fn schema(conn: &Connection) -> Vec<(String, String, Option<String>)> {
        let mut stmt = conn
            .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name")
            .unwrap();
        stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    fn user_version(path: &Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn migrations_are_numbered_one_by_one_up_to_the_latest() {
        let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        let expected: Vec<i64> = (1..=LATEST_VERSION).collect();
        assert_eq!(versions, expected);
    }

    #[test]
    fn connection_settings_are_in_force() {
        let (store, _dir) = temp_store();
        let get = |pragma: &str| -> String {
            store
                .conn
                .pragma_query_value(None, pragma, |row| row.get::<_, rusqlite::types::Value>(0))
                .map(|value| match value {
                    rusqlite::types::Value::Integer(n) => n.to_string(),
                    rusqlite::types::Value::Text(text) => text,
                    other => format!("{other:?}"),
                })
                .unwrap()
        };
        assert_eq!(get("journal_mode"), "wal");
        assert_eq!(get("synchronous"), "2", "FULL");
        assert_eq!(get("secure_delete"), "1");
        assert_eq!(get("foreign_keys"), "1");
        assert_eq!(get("user_version"), LATEST_VERSION.to_string());
    }

    #[test]
    fn upgrade_from_v1_keeps_data_and_matches_a_fresh_schema() {
        let dir = tempfile::tempdir().unwrap();
        let old_path = dir.path().join("v1.sqlite");
        let doc = TestDoc::with_changes("aa01", 3);
        {
            let mut old = SqliteStore::open_to_version(&old_path, key(), 1).unwrap();
            // Only v1 tables are touched: no pending hashes before version 2.
            old.replace_with_snapshot(&case(1), &doc.doc.save())
                .unwrap();
            old.append_changes(&case(2), &doc.changes[0], &[]).unwrap();
            old.put_secret("device-key", b"kept").unwrap();
        }
        assert_eq!(user_version(&old_path), 1);

        let mut upgraded = SqliteStore::open(&old_path, key()).unwrap();
        assert_eq!(user_version(&old_path), LATEST_VERSION);
        assert_eq!(upgraded.case_ids().unwrap(), vec![case(1), case(2)]);
        assert_eq!(
            upgraded.load_case(&case(1)).unwrap().unwrap().snapshot,
            Some(doc.doc.save())
        );
        assert_eq!(
            upgraded.load_case(&case(2)).unwrap().unwrap().changes,
            vec![doc.changes[0].clone()]
        );
        assert_eq!(
            upgraded.get_secret("device-key").unwrap(),
            Some(b"kept".to_vec())
        );
        assert_eq!(upgraded.pending_count().unwrap(), 0);
        upgraded
            .append_changes(&case(2), &doc.changes[1], &doc.hashes[1..2])
            .unwrap();
        assert_eq!(upgraded.pending_count().unwrap(), 1);

        let (fresh, _fresh_dir) = temp_store();
        assert_eq!(schema(&upgraded.conn), schema(&fresh.conn));
    }

    #[test]
    fn reopening_at_the_latest_version_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        let before = schema(&SqliteStore::open(&path, key()).unwrap().conn);
        let after = schema(&SqliteStore::open(&path, key()).unwrap().conn);
        assert_eq!(before, after);
        assert_eq!(user_version(&path), LATEST_VERSION);
    }
}
