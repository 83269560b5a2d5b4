//! PRWs and staff of the viewer's teams (`GET /people`): each person with their teams, active
//! cases, profile, devices and a button for a new enrolment code.
//!
//! A coordinator sees and manages the PRWs of their teams; an admin sees every user (and no
//! case). Anything outside the viewer's [`Scope`] answers as if it did not exist. Devices,
//! enrolment codes, profiles and the access log have their own modules beside this one.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use maud::{Markup, html};
use peerlog_core::model::CaseStatus;

use super::devices::devices_cell;
use super::enrolment::code_form;
use super::i18n::texts;
use super::labels::role_name;
use super::layout::page;
use super::profiles::{load_profiles, profile_summary};
use super::scope::Scope;
use super::session::{NotAllowed, Viewer};
use crate::db::identity::User;
use crate::state::AppState;

texts! {
    title: "People and devices", "Personer og enheter";
    prws: "Peer recovery workers", "Erfaringskonsulenter";
    name: "Name", "Navn";
    role: "Role", "Rolle";
    teams: "Teams", "Team";
    active_cases: "Active cases", "Aktive saker";
    profile: "Profile", "Profil";
    devices: "Devices", "Enheter";
    edit_profile: "Edit profile", "Rediger profil";
    no_prws: "There are no PRWs in your teams yet.", "Det er ingen erfaringskonsulenter i teamene dine ennå.";
    no_users: "No users yet.", "Ingen brukere ennå.";
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/people", get(list))
}

async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Markup, NotAllowed> {
    let scope = Scope::load(&state, &viewer).await?;
    let lang = viewer.lang;
    let t = t(lang);
    let team_names = |u: &User| {
        u.teams
            .iter()
            .filter_map(|id| scope.teams.iter().find(|t| &t.id == id))
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let devices_of = |u: &User| {
        scope
            .devices
            .iter()
            .filter(|d| d.user == u.id)
            .collect::<Vec<_>>()
    };
    let body = if viewer.is_admin() {
        let users: Vec<&User> = scope.prws.iter().chain(&scope.staff).collect();
        html! {
            h1 { (t.title) }
            @if users.is_empty() { p { (t.no_users) } }
            @else {
                table #people {
                    thead { tr {
                        th { (t.name) } th { (t.role) } th { (t.teams) } th { (t.devices) } th {}
                    } }
                    tbody {
                        @for u in &users {
                            tr id=(format!("user-{}", u.id)) {
                                td { (u.name) }
                                td { (role_name(lang, u.role)) }
                                td { (team_names(u)) }
                                td { (devices_cell(lang, &viewer, &scope, &devices_of(u))) }
                                td { (code_form(lang, &viewer, &u.id)) }
                            }
                        }
                    }
                }
            }
        }
    } else {
        let profiles =
            load_profiles(&state, scope.prws.iter().map(|p| p.id.clone()).collect()).await?;
        html! {
            h1 { (t.title) }
            h2 { (t.prws) }
            @if scope.prws.is_empty() { p { (t.no_prws) } }
            @else {
                table #people {
                    thead { tr {
                        th { (t.name) } th { (t.teams) } th.num { (t.active_cases) }
                        th { (t.profile) } th { (t.devices) } th {}
                    } }
                    tbody {
                        @for p in &scope.prws {
                            @let active = scope.cases.iter().filter(|c| c.prw == p.id && c.status == CaseStatus::Active).count();
                            tr id=(format!("user-{}", p.id)) {
                                td { (p.name) }
                                td { (team_names(p)) }
                                td.num { (active) }
                                td {
                                    (profiles.get(&p.id).map_or_else(|| html! {}, |pr| profile_summary(lang, pr)))
                                    div { a id=(format!("profile-{}", p.id)) href=(format!("/prws/{}/profile", p.id)) { (t.edit_profile) } }
                                }
                                td { (devices_cell(lang, &viewer, &scope, &devices_of(p))) }
                                td { (code_form(lang, &viewer, &p.id)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(lang, Some(&viewer), t.title, false, body))
}
