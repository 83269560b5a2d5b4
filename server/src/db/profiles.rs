//! PRW profiles for matching: interests, background (lived experience), birth year and the
//! largest caseload the PRW agreed to. Coordinators edit them; tags are stored as JSON arrays.

use peerlog_core::ids::UserId;
use rusqlite::{Connection, OptionalExtension, params};

use super::{DbError, StepExt};

/// A PRW's matching profile (empty until a coordinator fills it in).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Profile {
    pub interests: Vec<String>,
    pub background: Vec<String>,
    pub birth_year: Option<i32>,
    pub max_cases: Option<u32>,
}

pub fn get(conn: &Connection, user: &UserId) -> Result<Profile, DbError> {
    let row = conn
        .prepare_cached(
            "SELECT interests, background, birth_year, max_cases FROM prw_profiles WHERE user_id = ?1",
        )
        .step("reading a profile")?
        .query_row(params![user.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i32>>(2)?,
                r.get::<_, Option<u32>>(3)?,
            ))
        })
        .optional()
        .step("reading a profile")?;
    Ok(match row {
        Some((interests, background, birth_year, max_cases)) => Profile {
            interests: serde_json::from_str(&interests).unwrap_or_default(),
            background: serde_json::from_str(&background).unwrap_or_default(),
            birth_year,
            max_cases,
        },
        None => Profile::default(),
    })
}

pub fn set(conn: &Connection, user: &UserId, profile: &Profile, now: i64) -> Result<(), DbError> {
    let json = |tags: &[String]| serde_json::to_string(tags).unwrap_or_else(|_| "[]".to_owned());
    conn.execute(
        "INSERT INTO prw_profiles (user_id, interests, background, birth_year, max_cases, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (user_id) DO UPDATE SET interests = excluded.interests,
             background = excluded.background, birth_year = excluded.birth_year,
             max_cases = excluded.max_cases, updated_at = excluded.updated_at",
        params![
            user.as_str(),
            json(&profile.interests),
            json(&profile.background),
            profile.birth_year,
            profile.max_cases,
            now
        ],
    )
    .step("saving a profile")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{identity, migrations};
    use crate::sync::ports::Role;

    #[test]
    fn profiles_round_trip_and_default_to_empty() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations::migrate(&mut conn).unwrap();
        let user = identity::add_user(&conn, "ola", Role::Prw, &[], 1).unwrap();
        assert_eq!(get(&conn, &user.id).unwrap(), Profile::default());
        let profile = Profile {
            interests: vec!["fishing".into(), "music".into()],
            background: vec!["alcohol".into()],
            birth_year: Some(1984),
            max_cases: Some(6),
        };
        set(&conn, &user.id, &profile, 2).unwrap();
        assert_eq!(get(&conn, &user.id).unwrap(), profile);
        let changed = Profile {
            max_cases: None,
            ..profile
        };
        set(&conn, &user.id, &changed, 3).unwrap();
        assert_eq!(get(&conn, &user.id).unwrap(), changed);
    }
}
