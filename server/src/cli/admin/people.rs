//! `peerlog admin team …`, `user …`, `enrol-code`.

use serde_json::json;

use super::{AdminError, Output};
use crate::auth::service::issue_enrolment_code;
use crate::cli::{TeamCommand, UserCommand};
use crate::db::Db;
use crate::db::identity::{self, parse_role, role_code};

const NAME_MAX: usize = 64;

fn check_name(name: &str) -> Result<&str, AdminError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(AdminError::Usage("names are 1 to 64 printable characters"));
    }
    Ok(name)
}

pub(super) fn init(dir: &std::path::Path, org_name: String) -> Result<Output, AdminError> {
    let org_name = check_name(&org_name)?.to_owned();
    let dir = crate::datadir::ensure(dir)?;
    let db = Db::open_in(&dir)?;
    let config = crate::config::Config {
        org_name,
        ..crate::config::Config::default()
    };
    let code = crate::serve::initialise(&db, &config, crate::clock::now_ms())?;
    Ok(match code {
        Some(code) => Output::new(
            json!({"created": true, "adminUser": crate::serve::FIRST_ADMIN, "adminSetupCode": code}),
            format!("organisation created; one-time admin set-up code (24 hours):\n{code}"),
        ),
        None => Output::new(json!({"created": false}), "the organisation already exists"),
    })
}

pub(super) fn team(db: &Db, command: TeamCommand, now: i64) -> Result<Output, AdminError> {
    match command {
        TeamCommand::Add { name } => {
            let name = check_name(&name)?;
            let team = db.write(|tx| {
                if identity::find_team(tx, name)?.is_some() {
                    return Err(AdminError::Usage("a team with that name exists"));
                }
                Ok(identity::add_team(tx, name, now)?)
            })?;
            Ok(Output::new(
                json!({"id": team.id.as_str(), "name": team.name}),
                format!("team {} added", team.id),
            ))
        }
        TeamCommand::List => {
            let teams = db.read(|tx| identity::list_teams(tx))?;
            let text = teams
                .iter()
                .map(|t| format!("{}\t{}", t.id, t.name))
                .collect::<Vec<_>>()
                .join("\n");
            let json = teams
                .iter()
                .map(|t| json!({"id": t.id.as_str(), "name": t.name}))
                .collect();
            Ok(Output::new(serde_json::Value::Array(json), text))
        }
    }
}

fn user_json(u: &identity::User) -> serde_json::Value {
    json!({
        "id": u.id.as_str(),
        "name": u.name,
        "role": role_code(u.role),
        "teams": u.teams.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        "directoryDocId": u.directory_doc.to_string(),
    })
}

pub(super) fn user(db: &Db, command: UserCommand, now: i64) -> Result<Output, AdminError> {
    match command {
        UserCommand::Add { name, role, team } => {
            let name = check_name(&name)?;
            let role = parse_role(&role)
                .ok_or(AdminError::Usage("--role is prw, coordinator or admin"))?;
            let user = db.write(|tx| {
                if identity::find_user(tx, name)?.is_some() {
                    return Err(AdminError::Usage("a user with that name exists"));
                }
                let mut teams = Vec::new();
                for t in &team {
                    teams.push(
                        identity::find_team(tx, t)?
                            .ok_or(AdminError::NotFound("team"))?
                            .id,
                    );
                }
                Ok(identity::add_user(tx, name, role, &teams, now)?)
            })?;
            Ok(Output::new(
                user_json(&user),
                format!("user {} added ({})", user.id, role_code(user.role)),
            ))
        }
        UserCommand::Join { user, team } => {
            let (user, team) = db.write(|tx| {
                let user = identity::find_user(tx, &user)?.ok_or(AdminError::NotFound("user"))?;
                let team = identity::find_team(tx, &team)?.ok_or(AdminError::NotFound("team"))?;
                identity::join_team(tx, &user.id, &team.id)?;
                Ok::<_, AdminError>((user.id, team.id))
            })?;
            Ok(Output::new(
                json!({"userId": user.as_str(), "teamId": team.as_str()}),
                format!("user {user} joined team {team}"),
            ))
        }
        UserCommand::ResetLogin { user } => {
            let user = db.write(|tx| {
                let user = identity::find_user(tx, &user)?.ok_or(AdminError::NotFound("user"))?;
                crate::db::logins::reset(tx, &user.id)?;
                Ok::<_, AdminError>(user.id)
            })?;
            Ok(Output::new(
                json!({"userId": user.as_str(), "reset": true}),
                format!(
                    "dashboard sign-in of {user} cleared; give them a code (admin enrol-code) for /setup"
                ),
            ))
        }
        UserCommand::List => {
            let users = db.read(|tx| identity::list_users(tx))?;
            let text = users
                .iter()
                .map(|u| {
                    let teams: Vec<&str> = u.teams.iter().map(|t| t.as_str()).collect();
                    format!(
                        "{}\t{}\t{}\t{}",
                        u.id,
                        u.name,
                        role_code(u.role),
                        teams.join(",")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(Output::new(users.iter().map(user_json).collect(), text))
        }
    }
}

pub(super) fn enrol_code(
    db: &Db,
    user: &str,
    minutes: u32,
    now: i64,
) -> Result<Output, AdminError> {
    if !(1..=7 * 24 * 60).contains(&minutes) {
        return Err(AdminError::Usage("--minutes is between 1 and 10080"));
    }
    let ttl = i64::from(minutes) * 60_000;
    let (code, expires_at) =
        issue_enrolment_code(db, user, now, ttl)?.ok_or(AdminError::NotFound("user"))?;
    Ok(Output::new(
        json!({"code": code, "expiresAt": expires_at}),
        format!("{code}\n(valid for {minutes} minutes, one use)"),
    ))
}
