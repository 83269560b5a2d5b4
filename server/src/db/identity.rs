//! Teams, users, devices, enrolment codes, challenges and tokens: the rows behind authentication.
//!
//! Secrets (enrolment codes, tokens) are stored only as SHA-256 hashes; challenges are not
//! secret and are stored as issued. Every function takes `now` (Unix ms) from its caller.

use peerlog_core::ids::{CaseId, DeviceId, TeamId, UserId};
use rusqlite::{Connection, OptionalExtension, params};

use super::{DbError, StepExt};
use crate::ids;
use crate::sync::ports::Role;

/// The stable code of a role, as stored and sent.
pub fn role_code(role: Role) -> &'static str {
    match role {
        Role::Prw => "prw",
        Role::Coordinator => "coordinator",
        Role::Admin => "admin",
    }
}

/// Parses a stored or typed role code.
pub fn parse_role(code: &str) -> Option<Role> {
    match code {
        "prw" => Some(Role::Prw),
        "coordinator" => Some(Role::Coordinator),
        "admin" => Some(Role::Admin),
        _ => None,
    }
}

fn parse_id<T: std::str::FromStr>(idx: usize, s: String) -> rusqlite::Result<T> {
    s.parse().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            "stored id does not parse".into(),
        )
    })
}

/// A team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
}

/// A user with their teams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    pub directory_doc: CaseId,
    pub teams: Vec<TeamId>,
}

/// Whether a device may still obtain tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    Active,
    Revoked,
}

impl DeviceStatus {
    pub fn code(self) -> &'static str {
        match self {
            DeviceStatus::Active => "active",
            DeviceStatus::Revoked => "revoked",
        }
    }
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    pub user: UserId,
    pub role: Role,
    pub public_key: [u8; 32],
    pub name: Option<String>,
    pub status: DeviceStatus,
    pub enrolled_at: i64,
    pub last_seen: Option<i64>,
}

// ---- teams -------------------------------------------------------------------------------------

pub fn add_team(conn: &Connection, name: &str, now: i64) -> Result<Team, DbError> {
    let id = ids::new_opaque("t");
    conn.execute(
        "INSERT INTO teams (id, name, created_at) VALUES (?1, ?2, ?3)",
        params![id.as_str(), name, now],
    )
    .step("adding a team")?;
    Ok(Team {
        id,
        name: name.to_owned(),
    })
}

/// Finds a team by id or by name.
pub fn find_team(conn: &Connection, key: &str) -> Result<Option<Team>, DbError> {
    conn.query_row(
        "SELECT id, name FROM teams WHERE id = ?1 OR name = ?1",
        params![key],
        |r| {
            Ok(Team {
                id: parse_id(0, r.get(0)?)?,
                name: r.get(1)?,
            })
        },
    )
    .optional()
    .step("finding a team")
}

pub fn list_teams(conn: &Connection) -> Result<Vec<Team>, DbError> {
    let mut stmt = conn
        .prepare("SELECT id, name FROM teams ORDER BY name")
        .step("listing teams")?;
    stmt.query_map([], |r| {
        Ok(Team {
            id: parse_id(0, r.get(0)?)?,
            name: r.get(1)?,
        })
    })
    .step("listing teams")?
    .collect::<Result<_, _>>()
    .step("listing teams")
}

// ---- users -------------------------------------------------------------------------------------

pub fn add_user(
    conn: &Connection,
    name: &str,
    role: Role,
    teams: &[TeamId],
    now: i64,
) -> Result<User, DbError> {
    let id = ids::new_opaque("u");
    let directory_doc = ids::new_doc_id();
    conn.execute(
        "INSERT INTO users (id, name, role, directory_doc, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            id.as_str(),
            name,
            role_code(role),
            directory_doc.to_string(),
            now
        ],
    )
    .step("adding a user")?;
    for team in teams {
        conn.execute(
            "INSERT OR IGNORE INTO team_members (team_id, user_id) VALUES (?1, ?2)",
            params![team.as_str(), id.as_str()],
        )
        .step("adding a team membership")?;
    }
    Ok(User {
        id,
        name: name.to_owned(),
        role,
        directory_doc,
        teams: teams.to_vec(),
    })
}

fn user_teams(conn: &Connection, user: &str) -> Result<Vec<TeamId>, DbError> {
    let mut stmt = conn
        .prepare_cached("SELECT team_id FROM team_members WHERE user_id = ?1 ORDER BY team_id")
        .step("reading memberships")?;
    stmt.query_map(params![user], |r| parse_id(0, r.get(0)?))
        .step("reading memberships")?
        .collect::<Result<_, _>>()
        .step("reading memberships")
}

type UserRow = (String, String, String, String);

fn user_from_row(conn: &Connection, (id, name, role, doc): UserRow) -> Result<User, DbError> {
    let bad = |what: &'static str| DbError::Sqlite {
        step: what,
        source: rusqlite::Error::InvalidQuery,
    };
    Ok(User {
        teams: user_teams(conn, &id)?,
        id: id.parse().map_err(|_| bad("parsing a stored user id"))?,
        name,
        role: parse_role(&role).ok_or_else(|| bad("parsing a stored role"))?,
        directory_doc: doc
            .parse()
            .map_err(|_| bad("parsing a stored directory id"))?,
    })
}

/// Finds a user by id or by name.
pub fn find_user(conn: &Connection, key: &str) -> Result<Option<User>, DbError> {
    let row: Option<UserRow> = conn
        .query_row(
            "SELECT id, name, role, directory_doc FROM users WHERE id = ?1 OR name = ?1",
            params![key],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .step("finding a user")?;
    row.map(|row| user_from_row(conn, row)).transpose()
}

pub fn list_users(conn: &Connection) -> Result<Vec<User>, DbError> {
    let rows: Vec<UserRow> = {
        let mut stmt = conn
            .prepare("SELECT id, name, role, directory_doc FROM users ORDER BY name")
            .step("listing users")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .step("listing users")?
            .collect::<Result<_, _>>()
            .step("listing users")?
    };
    rows.into_iter()
        .map(|row| user_from_row(conn, row))
        .collect()
}

/// Adds a user to a team (idempotent).
pub fn join_team(conn: &Connection, user: &UserId, team: &TeamId) -> Result<(), DbError> {
    conn.execute(
        "INSERT OR IGNORE INTO team_members (team_id, user_id) VALUES (?1, ?2)",
        params![team.as_str(), user.as_str()],
    )
    .step("adding a team membership")?;
    Ok(())
}

// ---- enrolment codes ----------------------------------------------------------------------------

/// Stores the hash of a new enrolment code for `user`, valid until `expires_at`.
pub fn insert_enrolment_code(
    conn: &Connection,
    code_hash: &[u8; 32],
    user: &UserId,
    now: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO enrolment_codes (code_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![&code_hash[..], user.as_str(), now, expires_at],
    )
    .step("storing an enrolment code")?;
    Ok(())
}

/// Marks an unused, unexpired code as used and returns its user; `None` if the code is unknown,
/// expired or already used (the caller cannot tell which, on purpose).
pub fn redeem_enrolment_code(
    conn: &Connection,
    code_hash: &[u8; 32],
    now: i64,
) -> Result<Option<UserId>, DbError> {
    let user: Option<String> = conn
        .query_row(
            "UPDATE enrolment_codes SET used_at = ?2
             WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2
             RETURNING user_id",
            params![&code_hash[..], now],
            |r| r.get(0),
        )
        .optional()
        .step("redeeming an enrolment code")?;
    user.map(|u| {
        u.parse().map_err(|_| DbError::Sqlite {
            step: "parsing a stored user id",
            source: rusqlite::Error::InvalidQuery,
        })
    })
    .transpose()
}

// ---- devices -----------------------------------------------------------------------------------

/// Whether a public key is already enrolled.
pub fn public_key_known(conn: &Connection, key: &[u8; 32]) -> Result<bool, DbError> {
    conn.query_row(
        "SELECT 1 FROM devices WHERE public_key = ?1",
        params![&key[..]],
        |_| Ok(()),
    )
    .optional()
    .step("looking up a public key")
    .map(|o| o.is_some())
}

pub fn add_device(
    conn: &Connection,
    user: &UserId,
    public_key: &[u8; 32],
    name: Option<&str>,
    now: i64,
) -> Result<DeviceId, DbError> {
    let id = ids::new_opaque("d");
    conn.execute(
        "INSERT INTO devices (id, user_id, public_key, name, status, enrolled_at)
         VALUES (?1, ?2, ?3, ?4, 'active', ?5)",
        params![id.as_str(), user.as_str(), &public_key[..], name, now],
    )
    .step("adding a device")?;
    Ok(id)
}

const DEVICE_COLUMNS: &str =
    "d.id, d.user_id, u.role, d.public_key, d.name, d.status, d.enrolled_at, d.last_seen";

fn device_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    let conv = |idx| {
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            rusqlite::types::Type::Text,
            "stored device row does not parse".into(),
        )
    };
    let role: String = r.get(2)?;
    let key: Vec<u8> = r.get(3)?;
    let status: String = r.get(5)?;
    Ok(Device {
        id: parse_id(0, r.get(0)?)?,
        user: parse_id(1, r.get(1)?)?,
        role: parse_role(&role).ok_or_else(|| conv(2))?,
        public_key: key.try_into().map_err(|_| conv(3))?,
        name: r.get(4)?,
        status: if status == "active" {
            DeviceStatus::Active
        } else {
            DeviceStatus::Revoked
        },
        enrolled_at: r.get(6)?,
        last_seen: r.get(7)?,
    })
}

pub fn get_device(conn: &Connection, id: &str) -> Result<Option<Device>, DbError> {
    conn.query_row(
        &format!(
            "SELECT {DEVICE_COLUMNS} FROM devices d JOIN users u ON u.id = d.user_id WHERE d.id = ?1"
        ),
        params![id],
        device_from_row,
    )
    .optional()
    .step("reading a device")
}

pub fn list_devices(conn: &Connection) -> Result<Vec<Device>, DbError> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {DEVICE_COLUMNS} FROM devices d JOIN users u ON u.id = d.user_id ORDER BY d.enrolled_at"
        ))
        .step("listing devices")?;
    stmt.query_map([], device_from_row)
        .step("listing devices")?
        .collect::<Result<_, _>>()
        .step("listing devices")
}

/// Revokes a device and deletes its tokens and challenges. Returns false if it was unknown.
pub fn revoke_device(conn: &Connection, id: &DeviceId, now: i64) -> Result<bool, DbError> {
    let n = conn
        .execute(
            "UPDATE devices SET status = 'revoked', revoked_at = ?2 WHERE id = ?1 AND status = 'active'",
            params![id.as_str(), now],
        )
        .step("revoking a device")?;
    conn.execute(
        "DELETE FROM tokens WHERE device_id = ?1",
        params![id.as_str()],
    )
    .step("deleting a revoked device's tokens")?;
    conn.execute(
        "DELETE FROM challenges WHERE device_id = ?1",
        params![id.as_str()],
    )
    .step("deleting a revoked device's challenges")?;
    Ok(n == 1 || get_device(conn, id.as_str())?.is_some())
}

pub fn touch_device(conn: &Connection, id: &DeviceId, now: i64) -> Result<(), DbError> {
    conn.execute(
        "UPDATE devices SET last_seen = ?2 WHERE id = ?1",
        params![id.as_str(), now],
    )
    .step("recording when a device was last seen")?;
    Ok(())
}

// ---- challenges and tokens ---------------------------------------------------------------------

pub fn insert_challenge(
    conn: &Connection,
    device: &DeviceId,
    challenge: &str,
    expires_at: i64,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO challenges (challenge, device_id, expires_at) VALUES (?1, ?2, ?3)",
        params![challenge, device.as_str(), expires_at],
    )
    .step("storing a challenge")?;
    Ok(())
}

/// Deletes the challenge (single use) and says whether it was issued to `device` and is unexpired.
pub fn take_challenge(
    conn: &Connection,
    device: &DeviceId,
    challenge: &str,
    now: i64,
) -> Result<bool, DbError> {
    let row: Option<(String, i64)> = conn
        .query_row(
            "DELETE FROM challenges WHERE challenge = ?1 RETURNING device_id, expires_at",
            params![challenge],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .step("taking a challenge")?;
    Ok(matches!(row, Some((d, exp)) if d == device.as_str() && exp > now))
}

pub fn insert_token(
    conn: &Connection,
    token_hash: &[u8; 32],
    device: &DeviceId,
    expires_at: i64,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO tokens (token_hash, device_id, expires_at) VALUES (?1, ?2, ?3)",
        params![&token_hash[..], device.as_str(), expires_at],
    )
    .step("storing a token")?;
    Ok(())
}

/// The device an unexpired token belongs to (whatever the device's status).
pub fn device_for_token(
    conn: &Connection,
    token_hash: &[u8; 32],
    now: i64,
) -> Result<Option<Device>, DbError> {
    conn.query_row(
        &format!(
            "SELECT {DEVICE_COLUMNS} FROM tokens t JOIN devices d ON d.id = t.device_id
             JOIN users u ON u.id = d.user_id WHERE t.token_hash = ?1 AND t.expires_at > ?2"
        ),
        params![&token_hash[..], now],
        device_from_row,
    )
    .optional()
    .step("checking a token")
}

/// Deletes expired challenges, tokens and enrolment codes.
pub fn delete_expired(conn: &Connection, now: i64) -> Result<usize, DbError> {
    let mut n = 0;
    for sql in [
        "DELETE FROM challenges WHERE expires_at <= ?1",
        "DELETE FROM tokens WHERE expires_at <= ?1",
        "DELETE FROM enrolment_codes WHERE expires_at <= ?1",
    ] {
        n += conn
            .execute(sql, params![now])
            .step("deleting expired secrets")?;
    }
    Ok(n)
}
