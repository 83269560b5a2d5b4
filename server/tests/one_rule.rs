//! One rule for tags and birth years: core's case document, the CLI's `admin case open` and the
//! dashboard's intake and profile forms refuse the same too-long tag and the same birth years,
//! and take the same longest tag and earliest year.

mod common;

use std::path::Path;
use std::process::Command;

use axum::http::StatusCode;
use common::TestRelay;
use common::web::{Browser, PASSWORD};
use jiff::civil::date;
use peerlog_core::NewCase;
use peerlog_core::document::validate::{BIRTH_YEAR_MIN, TAG_MAX_CHARS};
use peerlog_core::ids::{CaseId, TeamId, UserId};
use peerlog_core::model::{Boundaries, ServiceUser};
use peerlog_server::cases::casework;
use peerlog_server::clock::now_ms;
use peerlog_server::db::cases;
use peerlog_server::db::profiles::{self, Profile};
use peerlog_server::sync::ports::Role;

/// A tag one character too long, and one exactly as long as allowed (in characters, not bytes).
fn too_long_tag() -> String {
    "x".repeat(TAG_MAX_CHARS + 1)
}
fn longest_tag() -> String {
    "ø".repeat(TAG_MAX_CHARS)
}
const BAD_YEARS: [i32; 2] = [BIRTH_YEAR_MIN - 1, 2999];

fn core_accepts(interests: &[String], birth_year: Option<i32>) -> bool {
    let mut rng = rand::rng();
    let new = NewCase {
        id: CaseId::random(&mut rng),
        team: "team-north".parse::<TeamId>().unwrap(),
        prw: "user-ola".parse::<UserId>().unwrap(),
        service_user: ServiceUser {
            alias: "Fjellrev".into(),
            birth_year,
            interests: interests.to_vec(),
            background: vec![],
        },
        started_on: date(2026, 1, 1),
        planned_end: date(2028, 1, 1),
        boundaries: Boundaries::default(),
    };
    casework::create_case_doc(new, now_ms()).is_ok()
}

fn peerlog(data: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_peerlog"))
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("PEERLOG_DATA")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cli_opens(data: &Path, extra: &[&str]) -> (bool, String) {
    let mut args = vec![
        "admin", "case", "open", "--prw", "ola", "--alias", "Fjellrev",
    ];
    args.extend_from_slice(extra);
    peerlog(data, &args)
}

#[test]
fn core_and_the_cli_refuse_the_same_tags_and_birth_years() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    for args in [
        &["admin", "init"][..],
        &["admin", "team", "add", "North"],
        &[
            "admin", "user", "add", "ola", "--role", "prw", "--team", "North",
        ],
    ] {
        let (ok, stderr) = peerlog(data, args);
        assert!(ok, "{args:?}: {stderr}");
    }

    let long = too_long_tag();
    assert!(!core_accepts(std::slice::from_ref(&long), None));
    let (ok, stderr) = cli_opens(data, &["--interests", &long]);
    assert!(!ok, "the CLI refuses a {}-character tag", TAG_MAX_CHARS + 1);
    assert!(stderr.contains("interests"), "names the field: {stderr}");
    assert!(!stderr.contains(&long), "never echoes the input: {stderr}");

    for year in BAD_YEARS {
        assert!(!core_accepts(&[], Some(year)), "{year}");
        let (ok, stderr) = cli_opens(data, &["--birth-year", &year.to_string()]);
        assert!(!ok, "the CLI refuses {year}");
        assert!(stderr.contains("birthYear"), "names the field: {stderr}");
    }
    let db = peerlog_server::db::Db::open_in(data).unwrap();
    assert!(db.read(|tx| cases::list(tx)).unwrap().is_empty());

    let longest = longest_tag();
    assert!(core_accepts(
        std::slice::from_ref(&longest),
        Some(BIRTH_YEAR_MIN)
    ));
    let (ok, stderr) = cli_opens(
        data,
        &[
            "--interests",
            &longest,
            "--birth-year",
            &BIRTH_YEAR_MIN.to_string(),
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(db.read(|tx| cases::list(tx)).unwrap().len(), 1);
}

#[tokio::test]
async fn the_dashboard_refuses_the_same_tags_and_birth_years() {
    let relay = TestRelay::start().await;
    relay.add_staff("kari", Role::Coordinator, "North");
    let ola = relay.add_prw("ola", "North");
    let north = relay
        .relay
        .state
        .db
        .read(|tx| peerlog_server::db::identity::find_team(tx, "North"))
        .unwrap()
        .unwrap()
        .id
        .to_string();
    let mut browser = Browser::new(relay.app());
    browser.sign_in("kari", PASSWORD).await;

    let long = too_long_tag();
    let years: Vec<String> = BAD_YEARS.iter().map(i32::to_string).collect();
    let mut refused: Vec<Vec<(&str, &str)>> = vec![vec![("interests", long.as_str())]];
    refused.extend(years.iter().map(|y| vec![("birth_year", y.as_str())]));

    let profile_form = format!("/prws/{ola}/profile");
    for fields in &refused {
        let mut intake = vec![("team", north.as_str()), ("alias", "Fjellrev")];
        intake.extend(fields);
        let page = browser
            .submit("/cases/new", "/cases/new/suggest", &intake)
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "intake {fields:?}");
        assert!(page.body.contains("id=\"form-errors\""));

        let page = browser.submit(&profile_form, &profile_form, fields).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "profile {fields:?}");
        assert!(page.body.contains("id=\"profile-errors\""));
    }
    let stored = relay
        .relay
        .state
        .db
        .read(|tx| profiles::get(tx, &ola.parse().unwrap()))
        .unwrap();
    assert_eq!(stored, Profile::default(), "no profile was saved");

    let longest = longest_tag();
    let earliest = BIRTH_YEAR_MIN.to_string();
    let accepted = [
        ("interests", longest.as_str()),
        ("birth_year", earliest.as_str()),
    ];
    let mut intake = vec![("team", north.as_str()), ("alias", "Fjellrev")];
    intake.extend(accepted);
    let page = browser
        .submit("/cases/new", "/cases/new/suggest", &intake)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let page = browser
        .submit(&profile_form, &profile_form, &accepted)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let stored = relay
        .relay
        .state
        .db
        .read(|tx| profiles::get(tx, &ola.parse().unwrap()))
        .unwrap();
    assert_eq!(
        (stored.interests, stored.birth_year),
        (vec![longest], Some(BIRTH_YEAR_MIN))
    );
}
