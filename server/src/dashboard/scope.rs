//! What one dashboard user may see: their teams, the PRWs of those teams with their devices, and
//! the cases access control grants them (the same rule as sync: `AccessSnapshot`). An admin sees
//! every team, PRW and device, and no case. Every page and API route starts from a [`Scope`], so
//! nothing outside it can be named in a URL and shown.

use std::collections::HashSet;
use std::sync::Arc;

use peerlog_core::ids::{CaseId, TeamId, UserId};
use peerlog_core::model::Case;
use peerlog_core::settings::OrgSettings;

use super::projection::ProjectionError;
use super::session::{NotAllowed, Viewer};
use crate::clock::now_ms;
use crate::db::cases::CaseRow;
use crate::db::identity::{self, Device, Team, User};
use crate::db::{DbError, org};
use crate::state::AppState;
use crate::sync::ports::Role;
use crate::web::error::AppError;

/// Everything one viewer may see, read at the start of a request.
#[derive(Debug, Clone)]
pub struct Scope {
    pub teams: Vec<Team>,
    /// PRWs of the teams, by name.
    pub prws: Vec<User>,
    /// Coordinators of the teams, by name (an admin sees every coordinator and admin too).
    pub staff: Vec<User>,
    pub devices: Vec<Device>,
    /// Case rows the viewer may read (none for an admin), by id.
    pub cases: Vec<CaseRow>,
    pub settings: OrgSettings,
    pub org_name: String,
    pub now: i64,
}

impl Scope {
    pub async fn load(state: &AppState, viewer: &Viewer) -> Result<Scope, NotAllowed> {
        let now = now_ms();
        let cases: Vec<CaseRow> = state
            .access
            .snapshot()
            .visible_cases(&viewer.user, now)
            .into_iter()
            .map(|(row, _)| row.clone())
            .collect();
        let db = state.db.clone();
        let viewer = viewer.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            db.read(|tx| {
                let org = org::get(tx)?;
                let all_teams = identity::list_teams(tx)?;
                let users = identity::list_users(tx)?;
                let devices = identity::list_devices(tx)?;
                Ok::<_, DbError>((org, all_teams, users, devices))
            })
        })
        .await
        .map_err(|e| AppError::internal("reading the dashboard scope", e))??;
        let (org, all_teams, users, devices) = loaded;
        let admin = viewer.role == Role::Admin;
        let teams: Vec<Team> = all_teams
            .into_iter()
            .filter(|t| admin || viewer.teams.contains(&t.id))
            .collect();
        let team_ids: HashSet<&TeamId> = teams.iter().map(|t| &t.id).collect();
        let in_teams = |u: &User| admin || u.teams.iter().any(|t| team_ids.contains(t));
        let mut prws: Vec<User> = users
            .iter()
            .filter(|u| u.role == Role::Prw && in_teams(u))
            .cloned()
            .collect();
        prws.sort_by(|a, b| a.name.cmp(&b.name));
        let mut staff: Vec<User> = users
            .iter()
            .filter(|u| {
                u.role != Role::Prw && (admin || (u.role == Role::Coordinator && in_teams(u)))
            })
            .cloned()
            .collect();
        staff.sort_by(|a, b| a.name.cmp(&b.name));
        let visible_users: HashSet<&UserId> = prws.iter().chain(&staff).map(|u| &u.id).collect();
        let devices = devices
            .into_iter()
            .filter(|d| visible_users.contains(&d.user))
            .collect();
        let (settings, org_name) = match org {
            Some(o) => (
                o.settings
                    .to_settings()
                    .unwrap_or_else(|_| OrgSettings::norway_default()),
                o.name,
            ),
            None => (OrgSettings::norway_default(), String::new()),
        };
        Ok(Scope {
            teams,
            prws,
            staff,
            devices,
            cases: if admin { Vec::new() } else { cases },
            settings,
            org_name,
            now,
        })
    }

    pub fn team(&self, id: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.id.as_str() == id)
    }

    pub fn prw(&self, id: &str) -> Option<&User> {
        self.prws.iter().find(|u| u.id.as_str() == id)
    }

    pub fn user_name(&self, id: &UserId) -> Option<&str> {
        self.prws
            .iter()
            .chain(&self.staff)
            .find(|u| &u.id == id)
            .map(|u| u.name.as_str())
    }

    pub fn case(&self, id: &str) -> Option<&CaseRow> {
        let id: CaseId = id.parse().ok()?;
        self.cases.iter().find(|c| c.id == id)
    }

    /// The viewer's case rows of one team.
    pub fn team_cases<'a>(&'a self, team: &'a TeamId) -> impl Iterator<Item = &'a CaseRow> + 'a {
        self.cases.iter().filter(move |c| &c.team == team)
    }

    pub fn devices_of<'a>(&'a self, user: &'a UserId) -> impl Iterator<Item = &'a Device> + 'a {
        self.devices.iter().filter(move |d| &d.user == user)
    }

    /// The projections of some of the viewer's cases (documents read only when changed).
    pub async fn projections(
        &self,
        state: &AppState,
        rows: Vec<CaseId>,
    ) -> Result<Vec<Arc<Case>>, NotAllowed> {
        let db = state.db.clone();
        let projections = state.projections.clone();
        tokio::task::spawn_blocking(move || projections.get_many(&db, &rows))
            .await
            .map_err(|e| AppError::internal("reading cases", e))?
            .map_err(|e: ProjectionError| {
                NotAllowed::Failed(AppError::internal("reading cases", e))
            })
    }
}

/// The users a viewer may manage (issue codes for, revoke devices of): a coordinator the PRWs of
/// their teams, an admin everyone.
pub fn manageable<'a>(scope: &'a Scope, viewer: &Viewer, id: &str) -> Option<&'a User> {
    if viewer.is_admin() {
        scope
            .prws
            .iter()
            .chain(&scope.staff)
            .find(|u| u.id.as_str() == id)
    } else if viewer.role == Role::Coordinator {
        scope.prw(id)
    } else {
        None
    }
}

/// A coordinator's scope; admins decide no cases.
pub async fn coordinator_scope(state: &AppState, viewer: &Viewer) -> Result<Scope, NotAllowed> {
    if viewer.is_admin() {
        return Err(NotAllowed::Forbidden);
    }
    Scope::load(state, viewer).await
}
