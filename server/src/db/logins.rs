//! Dashboard accounts and browser sessions: a user's password hash (Argon2id, PHC string), TOTP
//! secret and language; sessions stored by the SHA-256 of their cookie value, never the value.

use peerlog_core::ids::UserId;
use rusqlite::{Connection, OptionalExtension, params};

use super::{DbError, StepExt};

/// A user's dashboard login settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Login {
    pub password_hash: Option<String>,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_last_step: Option<i64>,
    pub language: String,
}

/// Where a session is in the sign-in flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Password accepted; the TOTP code is still to come.
    SecondFactor,
    /// Password accepted; an admin must set up TOTP before anything else.
    TotpSetup,
    /// Signed in.
    Full,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::SecondFactor => "second-factor",
            Stage::TotpSetup => "totp-setup",
            Stage::Full => "full",
        }
    }

    fn parse(code: &str) -> Option<Self> {
        match code {
            "second-factor" => Some(Stage::SecondFactor),
            "totp-setup" => Some(Stage::TotpSetup),
            "full" => Some(Stage::Full),
            _ => None,
        }
    }
}

/// One stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: UserId,
    pub stage: Stage,
    pub csrf: String,
    pub pending_totp: Option<Vec<u8>>,
    pub last_seen: i64,
    pub expires_at: i64,
}

pub fn get(conn: &Connection, user: &UserId) -> Result<Option<Login>, DbError> {
    conn.query_row(
        "SELECT password_hash, totp_secret, totp_last_step, language FROM logins WHERE user_id = ?1",
        params![user.as_str()],
        |r| {
            Ok(Login {
                password_hash: r.get(0)?,
                totp_secret: r.get(1)?,
                totp_last_step: r.get(2)?,
                language: r.get(3)?,
            })
        },
    )
    .optional()
    .step("reading a login")
}

fn ensure(conn: &Connection, user: &UserId, now: i64) -> Result<(), DbError> {
    conn.execute(
        "INSERT OR IGNORE INTO logins (user_id, updated_at) VALUES (?1, ?2)",
        params![user.as_str(), now],
    )
    .step("creating a login")?;
    Ok(())
}

pub fn set_password(conn: &Connection, user: &UserId, phc: &str, now: i64) -> Result<(), DbError> {
    ensure(conn, user, now)?;
    conn.execute(
        "UPDATE logins SET password_hash = ?2, updated_at = ?3 WHERE user_id = ?1",
        params![user.as_str(), phc, now],
    )
    .step("setting a password")?;
    Ok(())
}

/// Sets (or with `None` removes) the TOTP secret; the replay marker starts at `last_step`.
pub fn set_totp(
    conn: &Connection,
    user: &UserId,
    secret: Option<&[u8]>,
    last_step: Option<i64>,
    now: i64,
) -> Result<(), DbError> {
    ensure(conn, user, now)?;
    conn.execute(
        "UPDATE logins SET totp_secret = ?2, totp_last_step = ?3, updated_at = ?4 WHERE user_id = ?1",
        params![user.as_str(), secret, last_step, now],
    )
    .step("setting a second factor")?;
    Ok(())
}

/// Records the last TOTP step used, so the same code cannot be used twice.
pub fn set_totp_step(conn: &Connection, user: &UserId, step: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE logins SET totp_last_step = ?2 WHERE user_id = ?1",
        params![user.as_str(), step],
    )
    .step("recording a second-factor use")?;
    Ok(())
}

pub fn set_language(
    conn: &Connection,
    user: &UserId,
    language: &str,
    now: i64,
) -> Result<(), DbError> {
    ensure(conn, user, now)?;
    conn.execute(
        "UPDATE logins SET language = ?2, updated_at = ?3 WHERE user_id = ?1",
        params![user.as_str(), language, now],
    )
    .step("setting a language")?;
    Ok(())
}

/// Clears a user's password and second factor and ends their sessions, so they can set up their
/// sign-in again with a one-time code (the operator's way to help with a lost password).
pub fn reset(conn: &Connection, user: &UserId) -> Result<bool, DbError> {
    let n = conn
        .execute(
            "UPDATE logins SET password_hash = NULL, totp_secret = NULL, totp_last_step = NULL
             WHERE user_id = ?1",
            params![user.as_str()],
        )
        .step("resetting a login")?;
    delete_sessions_of(conn, user)?;
    Ok(n == 1)
}

// ---- sessions ----------------------------------------------------------------------------------

pub fn insert_session(
    conn: &Connection,
    id_hash: &[u8; 32],
    user: &UserId,
    stage: Stage,
    csrf: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO sessions (id_hash, user_id, stage, csrf, created_at, last_seen, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
        params![
            id_hash.as_slice(),
            user.as_str(),
            stage.code(),
            csrf,
            now,
            expires_at
        ],
    )
    .step("creating a session")?;
    Ok(())
}

/// The session with this id hash, if it exists and has not expired.
pub fn session(
    conn: &Connection,
    id_hash: &[u8; 32],
    now: i64,
) -> Result<Option<Session>, DbError> {
    let row = conn
        .prepare_cached(
            "SELECT user_id, stage, csrf, pending_totp, last_seen, expires_at FROM sessions
             WHERE id_hash = ?1 AND expires_at > ?2",
        )
        .step("reading a session")?
        .query_row(params![id_hash.as_slice(), now], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<Vec<u8>>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })
        .optional()
        .step("reading a session")?;
    Ok(
        row.and_then(|(user, stage, csrf, pending_totp, last_seen, expires_at)| {
            Some(Session {
                user: user.parse().ok()?,
                stage: Stage::parse(&stage)?,
                csrf,
                pending_totp,
                last_seen,
                expires_at,
            })
        }),
    )
}

pub fn touch_session(
    conn: &Connection,
    id_hash: &[u8; 32],
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE sessions SET last_seen = ?2, expires_at = ?3 WHERE id_hash = ?1",
        params![id_hash.as_slice(), now, expires_at],
    )
    .step("extending a session")?;
    Ok(())
}

pub fn set_pending_totp(
    conn: &Connection,
    id_hash: &[u8; 32],
    secret: Option<&[u8]>,
) -> Result<(), DbError> {
    conn.execute(
        "UPDATE sessions SET pending_totp = ?2 WHERE id_hash = ?1",
        params![id_hash.as_slice(), secret],
    )
    .step("storing a second factor being set up")?;
    Ok(())
}

pub fn delete_session(conn: &Connection, id_hash: &[u8; 32]) -> Result<(), DbError> {
    conn.execute(
        "DELETE FROM sessions WHERE id_hash = ?1",
        params![id_hash.as_slice()],
    )
    .step("ending a session")?;
    Ok(())
}

/// Ends every session of a user (password or second factor changed).
pub fn delete_sessions_of(conn: &Connection, user: &UserId) -> Result<(), DbError> {
    conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1",
        params![user.as_str()],
    )
    .step("ending a user's sessions")?;
    Ok(())
}

pub fn delete_expired_sessions(conn: &Connection, now: i64) -> Result<usize, DbError> {
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", params![now])
        .step("deleting expired sessions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{identity, migrations};
    use crate::sync::ports::Role;

    fn db() -> (Connection, UserId) {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations::migrate(&mut conn).unwrap();
        let user = identity::add_user(&conn, "kari", Role::Coordinator, &[], 1).unwrap();
        (conn, user.id)
    }

    #[test]
    fn logins_keep_password_totp_and_language() {
        let (conn, user) = db();
        assert_eq!(get(&conn, &user).unwrap(), None);
        set_password(&conn, &user, "$argon2id$x", 2).unwrap();
        set_totp(&conn, &user, Some(&[7; 20]), Some(5), 3).unwrap();
        set_language(&conn, &user, "en", 4).unwrap();
        set_totp_step(&conn, &user, 6).unwrap();
        let login = get(&conn, &user).unwrap().unwrap();
        assert_eq!(login.password_hash.as_deref(), Some("$argon2id$x"));
        assert_eq!(login.totp_secret.as_deref(), Some(&[7u8; 20][..]));
        assert_eq!(login.totp_last_step, Some(6));
        assert_eq!(login.language, "en");
        assert!(
            set_language(&conn, &user, "de", 5).is_err(),
            "unknown language"
        );
    }

    #[test]
    fn sessions_expire_and_end() {
        let (conn, user) = db();
        let id = [1u8; 32];
        insert_session(&conn, &id, &user, Stage::SecondFactor, "c", 10, 100).unwrap();
        let s = session(&conn, &id, 50).unwrap().unwrap();
        assert_eq!((s.stage, s.csrf.as_str()), (Stage::SecondFactor, "c"));
        assert_eq!(session(&conn, &id, 100).unwrap(), None, "expired");
        touch_session(&conn, &id, 60, 200).unwrap();
        assert!(session(&conn, &id, 150).unwrap().is_some());
        assert_eq!(session(&conn, &[2u8; 32], 50).unwrap(), None);
        delete_sessions_of(&conn, &user).unwrap();
        assert_eq!(session(&conn, &id, 150).unwrap(), None);
        set_password(&conn, &user, "$argon2id$x", 2).unwrap();
        set_totp(&conn, &user, Some(&[7; 20]), Some(5), 3).unwrap();
        insert_session(&conn, &[3u8; 32], &user, Stage::Full, "c", 10, 1000).unwrap();
        assert!(reset(&conn, &user).unwrap());
        let login = get(&conn, &user).unwrap().unwrap();
        assert_eq!((login.password_hash, login.totp_secret), (None, None));
        assert_eq!(
            session(&conn, &[3u8; 32], 50).unwrap(),
            None,
            "signed out everywhere"
        );
        insert_session(&conn, &id, &user, Stage::Full, "c", 10, 100).unwrap();
        assert_eq!(delete_expired_sessions(&conn, 100).unwrap(), 1);
    }
}
