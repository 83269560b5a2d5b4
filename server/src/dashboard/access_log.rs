//! `GET /access-log` for admins: the latest entries of the access log (who opened, received,
//! wrote or erased which case, and when). The log never holds case content.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use maud::{Markup, html};

use super::i18n::{Lang, texts};
use super::labels::role_name;
use super::layout::{datetime, page};
use super::scope::Scope;
use super::session::{NotAllowed, Viewer};
use crate::db::access_log::{self, Entry};
use crate::db::identity::parse_role;
use crate::state::AppState;
use crate::web::error::AppError;

texts! {
    role: "Role", "Rolle";
    device: "Device", "Enhet";
    log_title: "Access log", "Tilgangslogg";
    log_explain: "The latest 200 entries, newest first. The log never holds case content.", "De siste 200 oppføringene, nyeste først. Loggen inneholder aldri saksinnhold.";
    time: "Time", "Tid";
    user: "User", "Bruker";
    case: "Case", "Sak";
    action: "Action", "Handling";
    admin_cli: "Relay administration", "Relé-administrasjon";
    act_sync_write: "Device stored changes", "Enheten lagret endringer";
    act_read: "Coordinator device received the case", "Koordinatorens enhet mottok saken";
    act_erase: "Case erased", "Saken slettet";
    act_open: "Opened in the dashboard", "Åpnet i dashbordet";
    act_write_refused: "Device changes refused (not allowed content)", "Endringer fra enheten avvist (innhold som ikke er tillatt)";
    act_handover_write: "Former PRW's device handed over changes", "Enheten til forrige erfaringskonsulent leverte endringer";
    log_empty: "The log is empty.", "Loggen er tom.";
}

/// Entries shown on the access log page.
pub(crate) const ACCESS_LOG_ROWS: u32 = 200;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/access-log", get(access_log_page))
}

fn action_name(lang: Lang, code: &str) -> Option<&'static str> {
    let t = t(lang);
    Some(match code {
        "sync-write" => t.act_sync_write,
        "read" => t.act_read,
        "erase" => t.act_erase,
        "open" => t.act_open,
        "sync-write-refused" => t.act_write_refused,
        "sync-write-handover" => t.act_handover_write,
        _ => return None,
    })
}

async fn access_log_page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Markup, NotAllowed> {
    if !viewer.is_admin() {
        return Err(NotAllowed::Forbidden);
    }
    let scope = Scope::load(&state, &viewer).await?;
    let db = state.db.clone();
    let entries: Vec<Entry> =
        tokio::task::spawn_blocking(move || db.read(|tx| access_log::recent(tx, ACCESS_LOG_ROWS)))
            .await
            .map_err(|e| AppError::internal("reading the access log", e))??;
    let lang = viewer.lang;
    let t = t(lang);
    let tz = scope.settings.time_zone();
    let user_name = |id: &str| -> String {
        scope
            .prws
            .iter()
            .chain(&scope.staff)
            .find(|u| u.id.as_str() == id)
            .map_or_else(|| id.to_owned(), |u| u.name.clone())
    };
    let device_name = |id: &str| -> String {
        scope
            .devices
            .iter()
            .find(|d| d.id.as_str() == id)
            .and_then(|d| d.name.clone())
            .map_or_else(|| id.to_owned(), |name| format!("{name} ({id})"))
    };
    let body = html! {
        h1 { (t.log_title) }
        p.muted { (t.log_explain) }
        @if entries.is_empty() { p { (t.log_empty) } }
        @else {
            table #access-log {
                thead { tr {
                    th { (t.time) } th { (t.user) } th { (t.role) } th { (t.device) }
                    th { (t.case) } th { (t.action) }
                } }
                tbody {
                    @for e in &entries {
                        tr {
                            td { (datetime(e.at, tz)) }
                            td { (e.user_id.as_deref().map_or_else(|| t.admin_cli.to_owned(), user_name)) }
                            td {
                                (e.role.as_deref().map_or_else(String::new, |r| {
                                    parse_role(r).map_or_else(|| r.to_owned(), |role| role_name(lang, role).to_owned())
                                }))
                            }
                            td { (e.device_id.as_deref().map_or_else(|| "–".to_owned(), device_name)) }
                            td { code { (e.case_id.as_deref().unwrap_or("–")) } }
                            td { (action_name(lang, &e.action).unwrap_or(&e.action)) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(lang, Some(&viewer), t.log_title, false, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_have_names_in_both_languages() {
        for lang in Lang::ALL {
            assert!(action_name(lang, "open").is_some());
            assert!(action_name(lang, "unknown").is_none());
        }
    }
}
