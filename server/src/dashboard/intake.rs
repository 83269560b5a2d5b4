//! Opening cases with PRW suggestions (matching).
//!
//! `GET /cases/new` asks for the newcomer (team, alias, birth year, interests, background);
//! `POST /cases/new/suggest` ranks the team's PRWs with core's [`matching::suggest`] (profiles
//! from the database, active cases from the viewer's scope); `POST /cases/new/create` opens the
//! case for the chosen PRW. Only coordinators decide cases; an admin gets the same answer as for
//! a missing page. Aliases never reach the log.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use peerlog_core::document::{Invalid, Problem};
use peerlog_core::matching::{self, Newcomer, PrwProfile, Suggestion};
use peerlog_core::model::CaseStatus;
use peerlog_core::{EditError, ids::UserId};
use serde::Deserialize;

use super::forms::{self, FieldProblem};
use super::i18n::{Lang, texts};
use super::layout::bad_request;
use super::layout::{csrf_field, page};
use super::scope::Scope;
use super::scope::coordinator_scope;
use super::session::{NotAllowed, Viewer};
use crate::cases::casework::{self, CaseworkError, OpenCase};
use crate::clock::now_ms;
use crate::db::identity::{Team, User};
use crate::db::profiles;
use crate::db::{DbError, profiles::Profile};
use crate::state::AppState;
use crate::web::error::AppError;

texts! {
    title: "New case", "Ny sak";
    intro: "Describe the newcomer without names: an alias, and what matters for matching. Separate tags with commas.", "Beskriv den nye uten navn: et alias, og det som betyr noe for matchingen. Skill ordene med komma.";
    team: "Team", "Team";
    alias: "Alias", "Alias";
    alias_help: "Not the real name; 1 to 40 characters.", "Ikke det virkelige navnet; 1 til 40 tegn.";
    birth_year: "Birth year", "Fødselsår";
    interests: "Interests", "Interesser";
    background: "Background (lived experience)", "Bakgrunn (egenerfaring)";
    suggest: "Suggest PRWs", "Foreslå erfaringskonsulenter";
    suggestions: "Suggested PRWs", "Foreslåtte erfaringskonsulenter";
    suggestions_help: "Best match first. The ranking is a help, not a decision: choose the PRW you think fits.", "Beste treff først. Rangeringen er en hjelp, ikke en beslutning: velg den du mener passer.";
    choose: "Choose", "Velg";
    prw: "PRW", "Erfaringskonsulent";
    score: "Score", "Poeng";
    shared_interests: "Shared interests", "Felles interesser";
    shared_background: "Shared background", "Felles bakgrunn";
    age_band: "Same age band", "Samme aldersgruppe";
    capacity: "Capacity", "Kapasitet";
    yes: "yes", "ja";
    no: "no", "nei";
    active_cases: "active", "aktive";
    free: "free", "ledige";
    no_max: "no maximum set", "ingen grense satt";
    at_capacity: "at capacity", "fullt";
    open_case: "Open case", "Opprett sak";
    no_prws: "There are no PRWs in this team yet.", "Det er ingen erfaringskonsulenter i dette teamet ennå.";
    no_teams: "You are not a coordinator of any team yet.", "Du er ikke koordinator for noe team ennå.";
    fix: "Please correct:", "Rett opp dette:";
    choose_team: "Choose a team.", "Velg et team.";
    choose_prw: "Choose a PRW from the list.", "Velg en erfaringskonsulent fra listen.";
    required: "is required", "må fylles ut";
    too_long: "is too long", "er for langt";
    too_many: "has too many entries", "har for mange oppføringer";
    control: "contains characters that are not allowed", "inneholder tegn som ikke er tillatt";
    invalid: "is not valid", "er ikke gyldig";
    not_in_team: "The chosen PRW is not a member of the case's team.", "Den valgte erfaringskonsulenten er ikke med i sakens team.";
    case: "Case", "Sak";
}

/// Longest alias, in characters (core's limit, checked here first for a clear message).
pub(crate) const ALIAS_MAX_CHARS: usize = 40;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases/new", get(new_form))
        .route("/cases/new/suggest", post(suggest))
        .route("/cases/new/create", post(create))
}

/// The new-case form as typed (every field optional, so a bad form gets a message, not a 422).
/// No `Debug`: it holds the alias.
#[derive(Default, Deserialize)]
struct IntakeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    alias: String,
    #[serde(default)]
    birth_year: String,
    #[serde(default)]
    interests: String,
    #[serde(default)]
    background: String,
    #[serde(default)]
    prw: String,
}

/// A checked new-case form.
struct Intake {
    team: Team,
    alias: String,
    birth_year: Option<i32>,
    interests: Vec<String>,
    background: Vec<String>,
}

/// Checks the form. A team id outside the scope is refused as missing.
fn check(
    lang: Lang,
    scope: &Scope,
    form: &IntakeForm,
) -> Result<Result<Intake, Vec<String>>, NotAllowed> {
    let t = t(lang);
    let mut errors = Vec::new();
    let team = if form.team.trim().is_empty() {
        match scope.teams.as_slice() {
            [only] => Some(only.clone()),
            _ => {
                errors.push(t.choose_team.to_owned());
                None
            }
        }
    } else {
        Some(
            scope
                .team(form.team.trim())
                .ok_or(NotAllowed::Forbidden)?
                .clone(),
        )
    };
    let alias = form.alias.trim();
    if alias.is_empty() {
        errors.push(format!("{} {}", t.alias, t.required));
    } else if alias.chars().count() > ALIAS_MAX_CHARS {
        errors.push(format!("{} {}", t.alias, t.too_long));
    } else if alias.chars().any(char::is_control) {
        errors.push(format!("{} {}", t.alias, t.control));
    }
    let mut field =
        |label: &str, p: FieldProblem| errors.push(format!("{label} {}", p.message(lang)));
    let birth_year = forms::parse_birth_year(&form.birth_year, scope.now)
        .map_err(|p| field(t.birth_year, p))
        .ok();
    let interests = forms::parse_tags(&form.interests)
        .map_err(|p| field(t.interests, p))
        .ok();
    let background = forms::parse_tags(&form.background)
        .map_err(|p| field(t.background, p))
        .ok();
    Ok(match (team, birth_year, interests, background) {
        (Some(team), Some(birth_year), Some(interests), Some(background)) if errors.is_empty() => {
            Ok(Intake {
                team,
                alias: alias.to_owned(),
                birth_year,
                interests,
                background,
            })
        }
        _ => Err(errors),
    })
}

/// The team's PRWs ranked for the newcomer.
async fn ranked<'a>(
    state: &AppState,
    scope: &'a Scope,
    intake: &Intake,
) -> Result<Vec<(Suggestion, &'a User)>, NotAllowed> {
    let team_prws: Vec<&User> = scope
        .prws
        .iter()
        .filter(|p| p.teams.contains(&intake.team.id))
        .collect();
    let ids: Vec<UserId> = team_prws.iter().map(|p| p.id.clone()).collect();
    let db = state.db.clone();
    let loaded: Vec<(UserId, Profile)> = tokio::task::spawn_blocking(move || {
        db.read(|tx| {
            ids.into_iter()
                .map(|u| profiles::get(tx, &u).map(|p| (u, p)))
                .collect::<Result<Vec<_>, DbError>>()
        })
    })
    .await
    .map_err(|e| AppError::internal("reading profiles", e))??;
    let active = |prw: &UserId| {
        let n = scope
            .cases
            .iter()
            .filter(|c| &c.prw == prw && c.status == CaseStatus::Active)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    let profiles: Vec<PrwProfile> = loaded
        .into_iter()
        .map(|(prw, p)| PrwProfile {
            active_cases: active(&prw),
            prw,
            interests: p.interests,
            background: p.background,
            birth_year: p.birth_year,
            max_cases: p.max_cases,
        })
        .collect();
    let newcomer = Newcomer {
        interests: intake.interests.clone(),
        background: intake.background.clone(),
        birth_year: intake.birth_year,
    };
    Ok(matching::suggest(&newcomer, &profiles)
        .into_iter()
        .filter_map(|s| {
            let user = team_prws.iter().find(|p| p.id == s.prw).copied()?;
            Some((s, user))
        })
        .collect())
}

fn tags(list: &[String]) -> Markup {
    html! { span.tags { @for tag in list { span { (tag) } } } }
}

/// The new-case page: the form, any problems, and (after checking) the ranked PRWs.
fn intake_page(
    viewer: &Viewer,
    scope: &Scope,
    form: &IntakeForm,
    errors: &[String],
    suggestions: Option<(&Intake, &[(Suggestion, &User)])>,
) -> Markup {
    let lang = viewer.lang;
    let t = t(lang);
    let body = html! {
        h1 { (t.title) }
        @if scope.teams.is_empty() {
            p { (t.no_teams) }
        } @else {
            @if !errors.is_empty() {
                div.error #form-errors role="alert" {
                    p { (t.fix) }
                    ul { @for e in errors { li { (e) } } }
                }
            }
            form.card #intake method="post" action="/cases/new/suggest" {
                (csrf_field(&viewer.csrf))
                p.muted { (t.intro) }
                @if let [only] = scope.teams.as_slice() {
                    input type="hidden" name="team" value=(only.id);
                    p { (t.team) ": " (only.name) }
                } @else {
                    label for="team" { (t.team) }
                    select #team name="team" {
                        @for team in &scope.teams {
                            option value=(team.id) selected[form.team == team.id.as_str()] { (team.name) }
                        }
                    }
                }
                label for="alias" { (t.alias) }
                input #alias type="text" name="alias" maxlength="40" required value=(form.alias);
                span.muted { " " (t.alias_help) }
                label for="birth_year" { (t.birth_year) }
                input #birth_year type="text" inputmode="numeric" name="birth_year" value=(form.birth_year);
                label for="interests" { (t.interests) }
                input #interests type="text" name="interests" value=(form.interests);
                label for="background" { (t.background) }
                input #background type="text" name="background" value=(form.background);
                p { button #suggest type="submit" { (t.suggest) } }
            }
            @if let Some((intake, list)) = suggestions {
                section.card #suggestions {
                    h2 { (t.suggestions) ": " (intake.team.name) }
                    @if list.is_empty() {
                        p { (t.no_prws) }
                    } @else {
                        p.muted { (t.suggestions_help) }
                        form #create method="post" action="/cases/new/create" {
                            (csrf_field(&viewer.csrf))
                            input type="hidden" name="team" value=(intake.team.id);
                            input type="hidden" name="alias" value=(intake.alias);
                            input type="hidden" name="birth_year" value=(intake.birth_year.map(|y| y.to_string()).unwrap_or_default());
                            input type="hidden" name="interests" value=(forms::join_tags(&intake.interests));
                            input type="hidden" name="background" value=(forms::join_tags(&intake.background));
                            table {
                                thead { tr {
                                    th { (t.choose) } th { (t.prw) } th.num { (t.score) }
                                    th { (t.shared_interests) } th { (t.shared_background) }
                                    th { (t.age_band) } th { (t.capacity) }
                                } }
                                tbody {
                                    @for (i, (s, user)) in list.iter().enumerate() {
                                        @let radio = format!("prw-{}", s.prw);
                                        @let chosen = if form.prw.is_empty() { i == 0 } else { form.prw == s.prw.as_str() };
                                        @let active = scope.cases.iter().filter(|c| c.prw == s.prw && c.status == CaseStatus::Active).count();
                                        tr.suggestion data-prw=(s.prw) {
                                            td { input id=(radio) type="radio" name="prw" value=(s.prw) checked[chosen]; }
                                            td { label for=(radio) { (user.name) } }
                                            td.num { (s.score) }
                                            td { (tags(&s.shared_interests)) }
                                            td { (tags(&s.shared_background)) }
                                            td { @if s.same_age_band { (t.yes) } @else { span.muted { (t.no) } } }
                                            td {
                                                (active) " " (t.active_cases) " · "
                                                @match s.free_capacity {
                                                    Some(free) => { (free) " " (t.free) }
                                                    None => { (t.no_max) }
                                                }
                                                @if s.at_capacity { " · " span.signal { (t.at_capacity) } }
                                            }
                                        }
                                    }
                                }
                            }
                            p { button #open-case type="submit" { (t.open_case) } }
                        }
                    }
                }
            }
        }
    };
    page(lang, Some(viewer), t.title, false, body)
}

async fn new_form(State(state): State<AppState>, viewer: Viewer) -> Result<Markup, NotAllowed> {
    let scope = coordinator_scope(&state, &viewer).await?;
    Ok(intake_page(
        &viewer,
        &scope,
        &IntakeForm::default(),
        &[],
        None,
    ))
}

async fn suggest(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<IntakeForm>,
) -> Result<Response, NotAllowed> {
    viewer.check_csrf(&form.csrf)?;
    let scope = coordinator_scope(&state, &viewer).await?;
    let intake = match check(viewer.lang, &scope, &form)? {
        Ok(intake) => intake,
        Err(errors) => {
            return Ok(bad_request(intake_page(
                &viewer, &scope, &form, &errors, None,
            )));
        }
    };
    let list = ranked(&state, &scope, &intake).await?;
    Ok(intake_page(&viewer, &scope, &form, &[], Some((&intake, &list))).into_response())
}

/// A core refusal of the new case's input, in words.
fn invalid_message(lang: Lang, invalid: &Invalid) -> String {
    let t = t(lang);
    let label = match invalid.field {
        "alias" => t.alias,
        "birthYear" => t.birth_year,
        "interests" => t.interests,
        "background" => t.background,
        _ => t.case,
    };
    let problem = match invalid.problem {
        Problem::Empty => t.required,
        Problem::TooLong { .. } => t.too_long,
        Problem::TooMany { .. } => t.too_many,
        Problem::ControlCharacters => t.control,
        _ => t.invalid,
    };
    format!("{label} {problem}")
}

async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<IntakeForm>,
) -> Result<Response, NotAllowed> {
    viewer.check_csrf(&form.csrf)?;
    let scope = coordinator_scope(&state, &viewer).await?;
    let lang = viewer.lang;
    let t = t(lang);
    let intake = match check(lang, &scope, &form)? {
        Ok(intake) => intake,
        Err(errors) => {
            return Ok(bad_request(intake_page(
                &viewer, &scope, &form, &errors, None,
            )));
        }
    };
    let refuse = |message: String, list: &[(Suggestion, &User)]| {
        bad_request(intake_page(
            &viewer,
            &scope,
            &form,
            &[message],
            Some((&intake, list)),
        ))
    };
    let prw_id = form.prw.trim();
    if prw_id.is_empty() {
        let list = ranked(&state, &scope, &intake).await?;
        return Ok(refuse(t.choose_prw.to_owned(), &list));
    }
    let prw = scope.prw(prw_id).ok_or(NotAllowed::Forbidden)?.clone();
    if !prw.teams.contains(&intake.team.id) {
        let list = ranked(&state, &scope, &intake).await?;
        return Ok(refuse(t.not_in_team.to_owned(), &list));
    }
    let request = OpenCase {
        prw: prw.id.to_string(),
        team: Some(intake.team.id.to_string()),
        alias: intake.alias.clone(),
        birth_year: intake.birth_year,
        interests: intake.interests.clone(),
        background: intake.background.clone(),
        ..OpenCase::default()
    };
    let db = state.db.clone();
    let now = now_ms();
    let opened = tokio::task::spawn_blocking(move || casework::open_case(&db, request, now))
        .await
        .map_err(|e| AppError::internal("opening a case", e))?;
    let id = match opened {
        Ok(id) => id,
        Err(CaseworkError::Invalid(EditError::Invalid(invalid))) => {
            let list = ranked(&state, &scope, &intake).await?;
            return Ok(refuse(invalid_message(lang, &invalid), &list));
        }
        Err(
            CaseworkError::NoSuchUser
            | CaseworkError::NotAPrw
            | CaseworkError::NoSuchTeam
            | CaseworkError::TeamAmbiguous
            | CaseworkError::NotInTeam,
        ) => {
            let list = ranked(&state, &scope, &intake).await?;
            return Ok(refuse(t.not_in_team.to_owned(), &list));
        }
        Err(e) => return Err(AppError::internal("opening a case", e).into()),
    };
    tracing::info!(case = %id, prw = %prw.id, by = %viewer.user, "case opened from the dashboard");
    crate::cases::watch::on_change(&state)
        .await
        .map_err(|e| AppError::internal("applying a new case", e))?;
    Ok(Redirect::to(&format!("/cases/{id}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_refusals_name_the_field_in_both_languages() {
        let invalid = Invalid {
            field: "alias",
            problem: Problem::Empty,
        };
        assert_eq!(invalid_message(Lang::En, &invalid), "Alias is required");
        assert_eq!(invalid_message(Lang::Nb, &invalid), "Alias må fylles ut");
        let long = Invalid {
            field: "interests",
            problem: Problem::TooLong { max: 80 },
        };
        assert_eq!(invalid_message(Lang::En, &long), "Interests is too long");
    }
}
