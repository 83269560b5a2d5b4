//! The relay schema, as numbered steps run in order (`PRAGMA user_version`), one transaction each.
//!
//! Never edit a released step; add a new one. `tests::upgrading_from_v1_matches_a_fresh_database`
//! migrates an old database holding data and compares its schema with a fresh one.

use rusqlite::{Connection, TransactionBehavior};

use super::DbError;

/// One schema step: the SQL that takes the database from `version - 1` to `version`.
#[derive(Debug)]
pub struct Migration {
    pub version: i64,
    pub sql: &'static str,
}

/// Every schema step, in order.
pub const MIGRATIONS: &[Migration] = &[
    // Identity, cases and document storage.
    Migration {
        version: 1,
        sql: "
            CREATE TABLE org (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                name TEXT NOT NULL,
                settings TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                demo_seeded_at INTEGER
            ) STRICT;
            CREATE TABLE teams (
                id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL
            ) STRICT;
            CREATE TABLE users (
                id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL UNIQUE,
                role TEXT NOT NULL CHECK (role IN ('prw', 'coordinator', 'admin')),
                directory_doc TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL
            ) STRICT;
            CREATE TABLE team_members (
                team_id TEXT NOT NULL REFERENCES teams (id),
                user_id TEXT NOT NULL REFERENCES users (id),
                PRIMARY KEY (team_id, user_id)
            ) STRICT, WITHOUT ROWID;
            CREATE TABLE devices (
                id TEXT PRIMARY KEY NOT NULL,
                user_id TEXT NOT NULL REFERENCES users (id),
                public_key BLOB NOT NULL UNIQUE CHECK (length(public_key) = 32),
                name TEXT,
                status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
                enrolled_at INTEGER NOT NULL,
                last_seen INTEGER,
                revoked_at INTEGER
            ) STRICT;
            CREATE INDEX devices_by_user ON devices (user_id);
            CREATE TABLE enrolment_codes (
                code_hash BLOB PRIMARY KEY NOT NULL CHECK (length(code_hash) = 32),
                user_id TEXT NOT NULL REFERENCES users (id),
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                used_at INTEGER
            ) STRICT;
            CREATE TABLE challenges (
                challenge TEXT PRIMARY KEY NOT NULL,
                device_id TEXT NOT NULL REFERENCES devices (id),
                expires_at INTEGER NOT NULL
            ) STRICT;
            CREATE TABLE tokens (
                token_hash BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
                device_id TEXT NOT NULL REFERENCES devices (id),
                expires_at INTEGER NOT NULL
            ) STRICT;
            CREATE INDEX tokens_by_device ON tokens (device_id);
            CREATE TABLE cases (
                id TEXT PRIMARY KEY NOT NULL,
                team_id TEXT NOT NULL REFERENCES teams (id),
                prw_id TEXT NOT NULL REFERENCES users (id),
                status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'closed')),
                opened_at INTEGER NOT NULL,
                closed_at INTEGER
            ) STRICT;
            CREATE TABLE doc_chunks (
                doc TEXT NOT NULL,
                seq INTEGER NOT NULL,
                bytes BLOB NOT NULL,
                PRIMARY KEY (doc, seq)
            ) STRICT, WITHOUT ROWID;
            CREATE TABLE erased_docs (
                doc TEXT PRIMARY KEY NOT NULL,
                erased_at INTEGER NOT NULL
            ) STRICT;
        ",
    },
    // The access log, the change counter the server polls, the document outbox, directory state.
    Migration {
        version: 2,
        sql: "
            CREATE TABLE access_log (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at INTEGER NOT NULL,
                user_id TEXT,
                role TEXT,
                device_id TEXT,
                case_id TEXT,
                action TEXT NOT NULL
            ) STRICT;
            CREATE INDEX access_log_by_case ON access_log (case_id);
            CREATE TABLE erasing (case_id TEXT PRIMARY KEY NOT NULL) STRICT;
            CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
            BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
            CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
            WHEN NOT EXISTS (SELECT 1 FROM erasing WHERE case_id = OLD.case_id)
            BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;

            CREATE TABLE change_counter (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                n INTEGER NOT NULL
            ) STRICT;
            INSERT INTO change_counter (id, n) VALUES (1, 0);
            CREATE TRIGGER org_changed_u AFTER UPDATE ON org BEGIN UPDATE change_counter SET n = n + 1; END;
            CREATE TRIGGER teams_changed_i AFTER INSERT ON teams BEGIN UPDATE change_counter SET n = n + 1; END;
            CREATE TRIGGER users_changed_i AFTER INSERT ON users BEGIN UPDATE change_counter SET n = n + 1; END;
            CREATE TRIGGER users_changed_u AFTER UPDATE ON users BEGIN UPDATE change_counter SET n = n + 1; END;
            CREATE TRIGGER members_changed_i AFTER INSERT ON team_members BEGIN UPDATE change_counter SET n = n + 1; END;
            CREATE TRIGGER members_changed_d AFTER DELETE ON team_members BEGIN UPDATE change_counter SET n = n + 1; END;
            CREATE TRIGGER devices_changed_i AFTER INSERT ON devices BEGIN UPDATE change_counter SET n = n + 1; END;
            CREATE TRIGGER devices_changed_u AFTER UPDATE OF status ON devices BEGIN UPDATE change_counter SET n = n + 1; END;
            CREATE TRIGGER cases_changed_i AFTER INSERT ON cases BEGIN UPDATE change_counter SET n = n + 1; END;
            CREATE TRIGGER cases_changed_u AFTER UPDATE ON cases BEGIN UPDATE change_counter SET n = n + 1; END;
            CREATE TRIGGER cases_changed_d AFTER DELETE ON cases BEGIN UPDATE change_counter SET n = n + 1; END;

            CREATE TABLE doc_outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                doc TEXT NOT NULL,
                op TEXT NOT NULL,
                created_at INTEGER NOT NULL
            ) STRICT;
            CREATE TRIGGER outbox_changed_i AFTER INSERT ON doc_outbox BEGIN UPDATE change_counter SET n = n + 1; END;

            CREATE TABLE directory_state (
                user_id TEXT PRIMARY KEY NOT NULL,
                digest BLOB NOT NULL
            ) STRICT;

            CREATE TABLE relay_meta (
                key TEXT PRIMARY KEY NOT NULL,
                value TEXT NOT NULL
            ) STRICT;
        ",
    },
    // The dashboard: logins, browser sessions, PRW profiles for matching, and per-document
    // versions (a global sequence bumped by every stored chunk) for the projection cache and live
    // updates.
    Migration {
        version: 3,
        sql: "
            CREATE TABLE logins (
                user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
                password_hash TEXT,
                totp_secret BLOB,
                totp_last_step INTEGER,
                language TEXT NOT NULL DEFAULT 'nb' CHECK (language IN ('nb', 'en')),
                updated_at INTEGER NOT NULL
            ) STRICT;
            CREATE TABLE sessions (
                id_hash BLOB PRIMARY KEY NOT NULL CHECK (length(id_hash) = 32),
                user_id TEXT NOT NULL REFERENCES users (id),
                stage TEXT NOT NULL CHECK (stage IN ('second-factor', 'totp-setup', 'full')),
                csrf TEXT NOT NULL,
                pending_totp BLOB,
                created_at INTEGER NOT NULL,
                last_seen INTEGER NOT NULL,
                expires_at INTEGER NOT NULL
            ) STRICT;
            CREATE INDEX sessions_by_user ON sessions (user_id);
            CREATE TABLE prw_profiles (
                user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
                interests TEXT NOT NULL,
                background TEXT NOT NULL,
                birth_year INTEGER,
                max_cases INTEGER,
                updated_at INTEGER NOT NULL
            ) STRICT;

            CREATE TABLE doc_seq (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                n INTEGER NOT NULL
            ) STRICT;
            INSERT INTO doc_seq (id, n) VALUES (1, 0);
            CREATE TABLE doc_versions (
                doc TEXT PRIMARY KEY NOT NULL,
                version INTEGER NOT NULL
            ) STRICT, WITHOUT ROWID;
            CREATE TRIGGER doc_chunks_versioned AFTER INSERT ON doc_chunks BEGIN
                UPDATE doc_seq SET n = n + 1;
                INSERT INTO doc_versions (doc, version) VALUES (NEW.doc, (SELECT n FROM doc_seq))
                    ON CONFLICT (doc) DO UPDATE SET version = excluded.version;
            END;
            CREATE TRIGGER erased_docs_unversioned AFTER INSERT ON erased_docs BEGIN
                UPDATE doc_seq SET n = n + 1;
                DELETE FROM doc_versions WHERE doc = NEW.doc;
            END;
            INSERT INTO doc_versions (doc, version) SELECT DISTINCT doc, 0 FROM doc_chunks;
        ",
    },
    // Handovers: who held a case before it was reassigned, and when, so that the former PRW's
    // unsynced changes are still accepted for a grace period (DESIGN.md "Handover rule").
    Migration {
        version: 4,
        sql: "
            CREATE TABLE case_handovers (
                case_id TEXT NOT NULL,
                former_prw TEXT NOT NULL,
                handed_over_at INTEGER NOT NULL,
                PRIMARY KEY (case_id, former_prw)
            ) STRICT, WITHOUT ROWID;
            CREATE TRIGGER case_handovers_changed_i AFTER INSERT ON case_handovers BEGIN
                UPDATE change_counter SET n = n + 1;
            END;
            CREATE TRIGGER case_handovers_changed_u AFTER UPDATE ON case_handovers BEGIN
                UPDATE change_counter SET n = n + 1;
            END;
        ",
    },
];

/// The schema version this relay writes.
pub fn current_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Runs every step above the database's version, each in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    migrate_to(conn, current_version())
}

/// Runs steps up to and including `target` (tests use this to build old databases).
pub fn migrate_to(conn: &mut Connection, target: i64) -> Result<(), DbError> {
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(DbError::Open)?;
    if found > current_version() {
        return Err(DbError::NewerSchema {
            found,
            supported: current_version(),
        });
    }
    for step in MIGRATIONS
        .iter()
        .filter(|m| m.version > found && m.version <= target)
    {
        let failed = |source| DbError::Migrate {
            version: step.version,
            source,
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        tx.execute_batch(step.sql).map_err(failed)?;
        tx.pragma_update(None, "user_version", step.version)
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(conn: &Connection) -> Vec<(String, String)> {
        let mut stmt = conn
            .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn upgrading_from_v1_matches_a_fresh_database_and_versions_old_documents() {
        let dir = tempfile::tempdir().unwrap();
        let old_path = dir.path().join("old.sqlite3");
        let mut old = Connection::open(&old_path).unwrap();
        migrate_to(&mut old, 1).unwrap();
        old.execute_batch(
            "INSERT INTO teams VALUES ('t-1', 'North', 1);
             INSERT INTO users VALUES ('u-1', 'Kari', 'prw', '4Mq4E7JPY1ddRvm6PPi9qoavxeUH', 1);
             INSERT INTO team_members VALUES ('t-1', 'u-1');
             INSERT INTO cases VALUES ('c1', 't-1', 'u-1', 'active', 1, NULL);
             INSERT INTO doc_chunks VALUES ('c1', 1, x'0102');",
        )
        .unwrap();
        migrate(&mut old).unwrap();

        let mut fresh = Connection::open(dir.path().join("fresh.sqlite3")).unwrap();
        migrate(&mut fresh).unwrap();
        assert_eq!(schema(&old), schema(&fresh));
        let version: i64 = old
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, current_version());
        let kept: i64 = old
            .query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 1, "data survives the upgrade");
        let counter: i64 = old
            .query_row("SELECT n FROM change_counter", [], |r| r.get(0))
            .unwrap();
        assert_eq!(counter, 0);
        old.execute("UPDATE cases SET status = 'closed'", [])
            .unwrap();
        let counter: i64 = old
            .query_row("SELECT n FROM change_counter", [], |r| r.get(0))
            .unwrap();
        assert_eq!(counter, 1, "the new triggers see old rows change");
        let versioned: i64 = old
            .query_row(
                "SELECT count(*) FROM doc_versions WHERE doc = 'c1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(versioned, 1, "documents stored before v3 get a version");
        old.execute("INSERT INTO doc_chunks VALUES ('c1', 2, x'03')", [])
            .unwrap();
        let (version, seq): (i64, i64) = old
            .query_row(
                "SELECT version, (SELECT n FROM doc_seq) FROM doc_versions WHERE doc = 'c1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            (version, seq),
            (1, 1),
            "a stored chunk bumps the document's version"
        );
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", current_version() + 1)
            .unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(DbError::NewerSchema { .. })
        ));
    }

    #[test]
    fn the_access_log_is_append_only_except_during_erasure() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO access_log (at, case_id, action) VALUES (1, 'c1', 'read')",
            [],
        )
        .unwrap();
        assert!(
            conn.execute("UPDATE access_log SET action = 'x'", [])
                .is_err()
        );
        assert!(conn.execute("DELETE FROM access_log", []).is_err());
        conn.execute("INSERT INTO erasing VALUES ('c1')", [])
            .unwrap();
        assert_eq!(conn.execute("DELETE FROM access_log", []).unwrap(), 1);
    }
}
