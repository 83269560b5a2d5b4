//! People, devices, profiles, the access log and case intake in the dashboard, through the real
//! router: enrolment codes that really enrol, revocation that really ends a device's tokens,
//! coordinators confined to their teams, admins kept from cases, profile validation that saves
//! nothing on bad input, opening a case from the suggestions, reassigning and closing it, and
//! every POST refused without the form token or from another site.

mod common;

use axum::http::StatusCode;
use common::web::{Browser, PASSWORD, Page, base32_decode, totp_now};
use common::{TestRelay, enrol, enrolled, token};
use peerlog_core::ids::CaseId;
use peerlog_core::model::CaseStatus;
use peerlog_server::cases::casework::{self, OpenCase};
use peerlog_server::clock::now_ms;
use peerlog_server::db::cases::{self, CaseRow};
use peerlog_server::db::identity::{self, DeviceStatus};
use peerlog_server::db::profiles::{self, Profile};
use peerlog_server::sync::ports::Role;

/// The text inside the element with `id`.
fn text_of(page: &Page, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let at = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} on the page ({}): {}", page.status, page.body));
    let rest = &page.body[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest[start..].find('<').unwrap();
    rest[start..start + end].trim().to_owned()
}

/// Signs in as a coordinator.
async fn coordinator(relay: &TestRelay, name: &str) -> Browser {
    let mut browser = Browser::new(relay.app());
    browser.sign_in(name, PASSWORD).await;
    browser
}

/// Signs in as an admin, setting up the second factor admins must have.
async fn admin(relay: &TestRelay, name: &str) -> Browser {
    let mut browser = Browser::new(relay.app());
    let signed = browser.sign_in(name, PASSWORD).await;
    assert_eq!(signed.location(), Some("/account/totp"));
    let setup = browser.get("/account/totp").await;
    let key = setup.body.split("id=\"totp-key\">").nth(1).unwrap();
    let secret = base32_decode(&key[..key.find('<').unwrap()]);
    let code = totp_now(&secret, 0);
    let done = browser
        .post(
            "/account/totp",
            &[("csrf", &setup.csrf().unwrap()), ("code", &code)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    browser
}

fn team_id(relay: &TestRelay, name: &str) -> String {
    relay
        .relay
        .state
        .db
        .read(|tx| identity::find_team(tx, name))
        .unwrap()
        .unwrap()
        .id
        .to_string()
}

fn profile(relay: &TestRelay, user: &str) -> Profile {
    relay
        .relay
        .state
        .db
        .read(|tx| profiles::get(tx, &user.parse().unwrap()))
        .unwrap()
}

fn set_profile(relay: &TestRelay, user: &str, profile: &Profile) {
    relay
        .relay
        .state
        .db
        .write(|tx| profiles::set(tx, &user.parse().unwrap(), profile, now_ms()))
        .unwrap();
}

fn case_rows(relay: &TestRelay) -> Vec<CaseRow> {
    relay.relay.state.db.read(|tx| cases::list(tx)).unwrap()
}

fn case_row(relay: &TestRelay, id: &str) -> CaseRow {
    let id: CaseId = id.parse().unwrap();
    relay
        .relay
        .state
        .db
        .read(|tx| cases::get(tx, &id))
        .unwrap()
        .unwrap()
}

fn device_status(relay: &TestRelay, id: &str) -> DeviceStatus {
    relay
        .relay
        .state
        .db
        .read(|tx| identity::get_device(tx, id))
        .unwrap()
        .unwrap()
        .status
}

fn codes_of(relay: &TestRelay, user: &str) -> i64 {
    let conn = relay.relay.state.db.writer().unwrap();
    conn.query_row(
        "SELECT COUNT(*) FROM enrolment_codes WHERE user_id = ?1",
        [user],
        |r| r.get(0),
    )
    .unwrap()
}

/// Opens a case as the admin CLI does and makes it visible at once.
fn open_case(relay: &TestRelay, prw: &str, alias: &str) -> String {
    let id = casework::open_case(
        &relay.relay.state.db,
        OpenCase {
            prw: prw.to_owned(),
            alias: alias.to_owned(),
            ..OpenCase::default()
        },
        now_ms(),
    )
    .unwrap();
    relay.reload_access();
    id.to_string()
}

#[tokio::test]
async fn an_enrolment_code_from_the_dashboard_enrols_the_prws_phone() {
    let relay = TestRelay::start().await;
    let app = relay.app();
    relay.add_staff("kari", Role::Coordinator, "North");
    let ola = relay.add_prw("ola", "North");
    let mut browser = coordinator(&relay, "kari").await;

    let people = browser.get("/people").await;
    assert_eq!(people.status, StatusCode::OK, "{}", people.body);
    for id in [
        format!("user-{ola}"),
        format!("code-{ola}"),
        format!("profile-{ola}"),
    ] {
        assert!(people.body.contains(&format!("id=\"{id}\"")), "#{id}");
    }

    let page = browser
        .submit("/people", &format!("/users/{ola}/enrolment-code"), &[])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.headers["cache-control"], "no-store");
    assert!(page.body.contains("<svg"), "a QR code to scan");
    let code = text_of(&page, "enrolment-code");
    assert!(code.len() >= 8, "{code}");
    assert!(!text_of(&page, "code-expires").is_empty());

    let (status, body, _) = enrol(&app, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let device = body["deviceId"].as_str().unwrap().to_owned();
    let (again, _, _) = enrol(&app, &code).await;
    assert_ne!(again, StatusCode::OK, "a code works once");

    let people = browser.get("/people").await;
    assert!(people.body.contains(&format!("id=\"device-{device}\"")));
    assert!(people.body.contains(&format!("id=\"revoke-{device}\"")));
}

#[tokio::test]
async fn revoking_a_device_ends_its_tokens_and_orders_a_wipe() {
    let relay = TestRelay::start().await;
    let app = relay.app();
    relay.add_staff("kari", Role::Coordinator, "North");
    let ola = relay.add_prw("ola", "North");
    let device = common::enrolled(&app, &relay.code_for(&ola)).await;
    relay.reload_access();
    let (status, _) = token(&app, &device).await;
    assert_eq!(status, StatusCode::OK);

    let mut browser = coordinator(&relay, "kari").await;
    let done = browser
        .submit("/people", &format!("/devices/{}/revoke", device.id), &[])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), Some("/people"));
    assert_eq!(device_status(&relay, &device.id), DeviceStatus::Revoked);

    let (status, body) = token(&app, &device).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "device_revoked");
    assert_eq!(body["wipe"], true);

    let people = browser.get("/people").await;
    assert!(
        people
            .body
            .contains(&format!("id=\"device-{}\"", device.id))
    );
    assert!(
        !people
            .body
            .contains(&format!("id=\"revoke-{}\"", device.id)),
        "no second revoke"
    );
}

#[tokio::test]
async fn a_coordinator_cannot_touch_another_teams_prws_or_cases() {
    let relay = TestRelay::start().await;
    let app = relay.app();
    relay.add_staff("kari", Role::Coordinator, "North");
    let nils = relay.add_staff("nils", Role::Coordinator, "North");
    relay.add_staff("siv", Role::Coordinator, "South");
    let ola = relay.add_prw("ola", "North");
    let petter = relay.add_prw("petter", "South");
    let petters_phone = enrolled(&app, &relay.code_for(&petter)).await;
    let north_case = open_case(&relay, &ola, "Nordlys");
    let south_case = open_case(&relay, &petter, "Sydvest");
    let mut browser = coordinator(&relay, "kari").await;

    let people = browser.get("/people").await;
    assert!(people.body.contains("ola"));
    assert!(!people.body.contains("petter") && !people.body.contains(&petter));
    assert!(!people.body.contains(&petters_phone.id));

    let codes_before = codes_of(&relay, &petter);
    for path in [
        format!("/users/{petter}/enrolment-code"),
        format!("/users/{nils}/enrolment-code"),
        format!("/devices/{}/revoke", petters_phone.id),
        format!("/prws/{petter}/profile"),
        format!("/cases/{south_case}/close"),
        format!("/cases/{south_case}/reassign"),
        format!("/cases/{north_case}/reassign"),
    ] {
        let page = browser
            .submit(
                "/people",
                &path,
                &[
                    ("interests", "chess"),
                    ("birth_year", "1980"),
                    ("reason", "done"),
                    ("prw", &petter),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        browser.get(&format!("/prws/{petter}/profile")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        browser.get(&format!("/prws/{ola}/profile")).await.status,
        StatusCode::OK
    );

    assert_eq!(
        codes_of(&relay, &petter),
        codes_before,
        "no code was issued"
    );
    assert_eq!(codes_of(&relay, &nils), 0);
    assert_eq!(
        device_status(&relay, &petters_phone.id),
        DeviceStatus::Active
    );
    assert_eq!(token(&app, &petters_phone).await.0, StatusCode::OK);
    assert_eq!(profile(&relay, &petter), Profile::default());
    let south = case_row(&relay, &south_case);
    assert_eq!(
        (south.status, south.prw.to_string()),
        (CaseStatus::Active, petter.clone())
    );
    assert_eq!(case_row(&relay, &north_case).prw.to_string(), ola);

    // Nor may a South PRW be chosen for a new North case.
    let page = browser
        .submit(
            "/cases/new",
            "/cases/new/create",
            &[
                ("team", &team_id(&relay, "North")),
                ("alias", "Nordavind"),
                ("prw", &petter),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let page = browser
        .submit(
            "/cases/new",
            "/cases/new/suggest",
            &[("team", &team_id(&relay, "South")), ("alias", "Nordavind")],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::NOT_FOUND,
        "another team cannot be named"
    );
    assert_eq!(case_rows(&relay).len(), 2);
}

#[tokio::test]
async fn admins_manage_every_user_decide_no_cases_and_alone_read_the_access_log() {
    let relay = TestRelay::start().await;
    let app = relay.app();
    relay.add_staff("kari", Role::Coordinator, "North");
    relay.add_staff("root", Role::Admin, "North");
    let ola = relay.add_prw("ola", "North");
    let petter = relay.add_prw("petter", "South");
    let petters_phone = enrolled(&app, &relay.code_for(&petter)).await;
    let case = open_case(&relay, &ola, "Zebrafink");

    let mut kari = coordinator(&relay, "kari").await;
    assert_eq!(kari.get("/access-log").await.status, StatusCode::NOT_FOUND);
    let opened = kari
        .submit(
            &format!("/cases/{case}"),
            &format!("/cases/{case}/open"),
            &[],
        )
        .await;
    assert_eq!(opened.status, StatusCode::OK);

    let mut root = admin(&relay, "root").await;
    let people = root.get("/people").await;
    assert_eq!(people.status, StatusCode::OK, "{}", people.body);
    for name in ["ola", "petter", "kari", "root"] {
        assert!(people.body.contains(name), "{name}");
    }
    assert!(
        !people.body.contains("Zebrafink"),
        "admins see no case aliases"
    );
    assert!(
        people
            .body
            .contains(&format!("id=\"revoke-{}\"", petters_phone.id))
    );

    for path in ["/cases/new", &format!("/prws/{ola}/profile")] {
        assert_eq!(root.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    for (path, fields) in [
        ("/cases/new/suggest", vec![("alias", "Ny")]),
        (
            "/cases/new/create",
            vec![("alias", "Ny"), ("prw", ola.as_str())],
        ),
        (&*format!("/cases/{case}/close"), vec![("reason", "done")]),
        (
            &*format!("/prws/{ola}/profile"),
            vec![("birth_year", "1980")],
        ),
    ] {
        let page = root.submit("/people", path, &fields).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(case_rows(&relay).len(), 1);
    assert_eq!(case_row(&relay, &case).status, CaseStatus::Active);

    let log = root.get("/access-log").await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    assert!(log.body.contains("id=\"access-log\""));
    assert!(
        log.body.contains(&case) && log.body.contains("kari"),
        "the opening is listed"
    );
    assert!(!log.body.contains("Zebrafink"), "no case content");

    // An admin may revoke any device.
    let done = root
        .submit(
            "/people",
            &format!("/devices/{}/revoke", petters_phone.id),
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        token(&app, &petters_phone).await.1["code"],
        "device_revoked"
    );

    // And gives a new coordinator the code that sets up their dashboard account.
    let lise = relay.add_user("lise", Role::Coordinator);
    let page = root
        .submit("/people", &format!("/users/{lise}/enrolment-code"), &[])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("/setup"));
    let code = text_of(&page, "enrolment-code");
    let mut new = Browser::new(relay.app());
    let setup = new
        .submit(
            "/setup",
            "/setup",
            &[
                ("name", "lise"),
                ("code", &code),
                ("password", PASSWORD),
                ("repeat", PASSWORD),
            ],
        )
        .await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.body);
    new.sign_in("lise", PASSWORD).await;
    assert_eq!(new.get("/cases/new").await.status, StatusCode::OK);
}

#[tokio::test]
async fn profile_validation_refuses_bad_input_and_saves_nothing() {
    let relay = TestRelay::start().await;
    relay.add_staff("kari", Role::Coordinator, "North");
    let ola = relay.add_prw("ola", "North");
    let mut browser = coordinator(&relay, "kari").await;
    let form = format!("/prws/{ola}/profile");

    let page = browser.get(&form).await;
    assert_eq!(page.status, StatusCode::OK);
    for id in [
        "interests",
        "background",
        "birth_year",
        "max_cases",
        "save-profile",
    ] {
        assert!(page.body.contains(&format!("id=\"{id}\"")), "#{id}");
    }
    let saved = browser
        .submit(
            &form,
            &form,
            &[
                ("interests", " fishing , music,, "),
                ("background", "alcohol"),
                ("birth_year", "1984"),
                ("max_cases", "5"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.location(), Some("/people"));
    let good = Profile {
        interests: vec!["fishing".into(), "music".into()],
        background: vec!["alcohol".into()],
        birth_year: Some(1984),
        max_cases: Some(5),
    };
    assert_eq!(profile(&relay, &ola), good);
    assert!(
        browser
            .get(&form)
            .await
            .body
            .contains("value=\"fishing, music\"")
    );

    let many = (0..21)
        .map(|i| format!("tag{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let long = "x".repeat(41);
    for (field, value) in [
        ("birth_year", "1850"),
        ("birth_year", "2999"),
        ("birth_year", "nineteen"),
        ("max_cases", "101"),
        ("max_cases", "-1"),
        ("interests", many.as_str()),
        ("background", long.as_str()),
    ] {
        let mut fields = vec![
            ("interests", "chess"),
            ("background", "cannabis"),
            ("birth_year", "1990"),
            ("max_cases", "3"),
        ];
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let page = browser.submit(&form, &form, &fields).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{field}={value}");
        assert!(page.body.contains("id=\"profile-errors\""), "{field}");
        assert_eq!(
            profile(&relay, &ola),
            good,
            "{field}={value}: nothing saved"
        );
    }
}

#[tokio::test]
async fn a_case_is_opened_from_the_suggestions_reassigned_and_closed() {
    let relay = TestRelay::start().await;
    relay.add_staff("kari", Role::Coordinator, "North");
    let ola = relay.add_prw("ola", "North");
    let kristin = relay.add_prw("kristin", "North");
    let petter = relay.add_prw("petter", "South");
    set_profile(
        &relay,
        &ola,
        &Profile {
            interests: vec!["fishing".into()],
            background: vec!["alcohol".into()],
            birth_year: Some(1984),
            max_cases: Some(3),
        },
    );
    let north = team_id(&relay, "North");
    let mut browser = coordinator(&relay, "kari").await;

    let form = browser.get("/cases/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    for id in ["alias", "birth_year", "interests", "background", "suggest"] {
        assert!(form.body.contains(&format!("id=\"{id}\"")), "#{id}");
    }

    let empty = browser
        .submit(
            "/cases/new",
            "/cases/new/suggest",
            &[("team", &north), ("alias", "  ")],
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.body.contains("id=\"form-errors\""));

    let newcomer = [
        ("team", north.as_str()),
        ("alias", "Fiskeren"),
        ("birth_year", "1986"),
        ("interests", "Fishing, football"),
        ("background", "alcohol"),
    ];
    let suggested = browser
        .submit("/cases/new", "/cases/new/suggest", &newcomer)
        .await;
    assert_eq!(suggested.status, StatusCode::OK, "{}", suggested.body);
    let body = &suggested.body;
    let at_ola = body
        .find(&format!("id=\"prw-{ola}\""))
        .expect("ola is suggested");
    let at_kristin = body
        .find(&format!("id=\"prw-{kristin}\""))
        .expect("kristin is listed");
    assert!(at_ola < at_kristin, "the better match comes first");
    assert!(!body.contains(&petter), "only the team's PRWs");
    assert!(
        body.contains("<span>Fishing</span>"),
        "the shared interest is shown"
    );
    assert!(body.contains("id=\"open-case\""));

    // The suggestion page's own form posts the hidden copies and the chosen PRW.
    let no_prw = browser
        .submit("/cases/new", "/cases/new/create", &newcomer)
        .await;
    assert_eq!(
        no_prw.status,
        StatusCode::BAD_REQUEST,
        "a PRW must be chosen"
    );
    let mut fields = newcomer.to_vec();
    fields.push(("prw", ola.as_str()));
    fields.retain(|(k, _)| *k != "alias");
    let mut blank_alias = fields.clone();
    blank_alias.push(("alias", ""));
    let refused = browser
        .submit("/cases/new", "/cases/new/create", &blank_alias)
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let mut too_long = fields.clone();
    let long = "x".repeat(41);
    too_long.push(("alias", &long));
    assert_eq!(
        browser
            .submit("/cases/new", "/cases/new/create", &too_long)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert!(case_rows(&relay).is_empty(), "nothing was opened");

    fields.push(("alias", "Fiskeren"));
    let created = browser
        .submit("/cases/new", "/cases/new/create", &fields)
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.location().unwrap().to_owned();
    let case = location.strip_prefix("/cases/").unwrap().to_owned();
    let row = case_row(&relay, &case);
    assert_eq!(
        (row.prw.to_string(), row.team.to_string()),
        (ola.clone(), north.clone())
    );
    let list = browser.get("/cases").await;
    assert!(
        list.body.contains("Fiskeren"),
        "the new case is listed at once"
    );
    assert_eq!(browser.get(&location).await.status, StatusCode::OK);

    // Reassign: only within the team.
    let away = browser
        .submit(
            &location,
            &format!("/cases/{case}/reassign"),
            &[("prw", &petter)],
        )
        .await;
    assert_eq!(away.status, StatusCode::NOT_FOUND);
    let moved = browser
        .submit(
            &location,
            &format!("/cases/{case}/reassign"),
            &[("prw", &kristin)],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    assert_eq!(moved.location(), Some(location.as_str()));
    assert_eq!(case_row(&relay, &case).prw.to_string(), kristin);
    let page = browser.get(&location).await;
    assert!(
        page.body.contains("<td>kristin</td>"),
        "the case page names the new PRW"
    );

    // Close: a reason is required.
    for reason in ["", "   ", &"x".repeat(81)] {
        let refused = browser
            .submit(
                &location,
                &format!("/cases/{case}/close"),
                &[("reason", reason)],
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{reason:?}");
        assert!(refused.body.contains("id=\"form-error\""));
        assert_eq!(case_row(&relay, &case).status, CaseStatus::Active);
    }
    let closed = browser
        .submit(
            &location,
            &format!("/cases/{case}/close"),
            &[("reason", "Moved to another town")],
        )
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    assert_eq!(case_row(&relay, &case).status, CaseStatus::Closed);
    let page = browser.get(&location).await;
    assert_eq!(text_of(&page, "case-status"), "Avsluttet");
    // A closed case is neither closed again nor reassigned.
    let csrf = page.csrf().unwrap();
    let again = browser
        .post(
            &format!("/cases/{case}/close"),
            &[("csrf", &csrf), ("reason", "again")],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    let again = browser
        .post(
            &format!("/cases/{case}/reassign"),
            &[("csrf", &csrf), ("prw", &ola)],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(case_row(&relay, &case).prw.to_string(), kristin);
}

#[tokio::test]
async fn every_post_needs_the_form_token_and_the_same_origin() {
    let relay = TestRelay::start().await;
    let app = relay.app();
    relay.add_staff("kari", Role::Coordinator, "North");
    let ola = relay.add_prw("ola", "North");
    let kristin = relay.add_prw("kristin", "North");
    let phone = enrolled(&app, &relay.code_for(&ola)).await;
    let case = open_case(&relay, &ola, "Fjellet");
    let north = team_id(&relay, "North");
    let mut browser = coordinator(&relay, "kari").await;
    let csrf = browser.get("/people").await.csrf().unwrap();
    let codes_before = codes_of(&relay, &ola);

    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (format!("/users/{ola}/enrolment-code"), vec![]),
        (format!("/devices/{}/revoke", phone.id), vec![]),
        (
            format!("/prws/{ola}/profile"),
            vec![("interests", "chess"), ("birth_year", "1990")],
        ),
        (
            "/cases/new/suggest".to_owned(),
            vec![("team", &north), ("alias", "Ny")],
        ),
        (
            "/cases/new/create".to_owned(),
            vec![("team", &north), ("alias", "Ny"), ("prw", &ola)],
        ),
        (format!("/cases/{case}/reassign"), vec![("prw", &kristin)]),
        (format!("/cases/{case}/close"), vec![("reason", "done")]),
    ];
    for (path, fields) in &posts {
        let without = browser.post(path, fields).await;
        assert_eq!(
            without.status,
            StatusCode::FORBIDDEN,
            "{path} without a token"
        );
        let mut wrong = vec![("csrf", "not-the-token")];
        wrong.extend_from_slice(fields);
        assert_eq!(
            browser.post(path, &wrong).await.status,
            StatusCode::FORBIDDEN,
            "{path} wrong token"
        );
        let mut right = vec![("csrf", csrf.as_str())];
        right.extend_from_slice(fields);
        let cross = browser.post_cross_site(path, &right).await;
        assert_eq!(cross.status, StatusCode::FORBIDDEN, "{path} cross-site");
    }

    assert_eq!(codes_of(&relay, &ola), codes_before, "no code was issued");
    assert_eq!(device_status(&relay, &phone.id), DeviceStatus::Active);
    assert_eq!(token(&app, &phone).await.0, StatusCode::OK);
    assert_eq!(profile(&relay, &ola), Profile::default());
    let rows = case_rows(&relay);
    assert_eq!(rows.len(), 1, "no case was opened");
    assert_eq!(
        (rows[0].prw.to_string(), rows[0].status),
        (ola, CaseStatus::Active)
    );
}
