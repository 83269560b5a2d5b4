//! The dashboard's sign-in, sessions and access rules, through the real router: passwords and
//! TOTP, CSRF and session fixation, rate limiting that locks nobody else out, coordinators
//! confined to their teams, admins kept from case content, and every case opening logged.

mod common;

use axum::http::StatusCode;
use common::TestRelay;
use common::web::{Browser, PASSWORD};
use peerlog_server::sync::ports::Role;

#[tokio::test]
async fn a_coordinator_signs_in_sees_the_overview_and_signs_out() {
    let relay = TestRelay::start().await;
    relay.add_staff("kari", Role::Coordinator, "North");
    relay.add_prw("ola", "North");
    let mut browser = Browser::new(relay.app());

    let page = browser.get("/overview").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/login"));

    let login = browser.get("/login").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.headers.contains_key("set-cookie"), "the form cookie");
    let again = browser.get("/login").await;
    assert!(
        !again.headers.contains_key("set-cookie"),
        "a second tab keeps the same form token"
    );
    assert_eq!(again.csrf(), login.csrf());
    let csp = login.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );

    let signed_in = browser.sign_in("kari", PASSWORD).await;
    let cookie = signed_in.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on loopback: no Secure flag"
    );

    let overview = browser.get("/overview").await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.body);
    assert!(overview.body.contains("ola"), "the team's PRW is listed");
    assert!(overview.body.contains("/assets/live.js"));

    let csrf = overview.csrf().unwrap();
    let out = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location(), Some("/login"));
    assert_eq!(browser.get("/overview").await.location(), Some("/login"));
}

#[tokio::test]
async fn wrong_passwords_and_unknown_names_get_the_same_answer() {
    let relay = TestRelay::start().await;
    relay.add_staff("kari", Role::Coordinator, "North");
    relay.add_prw("ola", "North");
    let mut browser = Browser::new(relay.app());
    for (name, password) in [
        ("kari", "wrong password 123"),
        ("nobody", PASSWORD),
        ("ola", PASSWORD),
    ] {
        let page = browser
            .submit(
                "/login",
                "/login",
                &[("name", name), ("password", password)],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{name}");
        assert!(
            page.body.contains("Feil brukernavn eller passord"),
            "{name}"
        );
    }
}

use common::web::{base32_decode, totp_now};
use peerlog_server::clock::now_ms;
use peerlog_server::db::access_log;
use peerlog_server::demo::generator::{SeedSpec, SeedTruth, seed_org};

/// Two teams of seeded cases; `coord-01-1` (team-01) gets the test password.
async fn seeded() -> (TestRelay, SeedTruth) {
    let relay = TestRelay::start().await;
    let spec = SeedSpec {
        teams: 2,
        coordinators_per_team: 1,
        prws: 4,
        cases: 8,
        weeks: 6,
        closed_share: 0.0,
        seed: 7,
    };
    let truth = seed_org(&relay.relay.state.db, &spec, now_ms()).unwrap();
    relay.set_password("coord-01-1");
    relay.reload_access();
    (relay, truth)
}

fn team_of<'a>(truth: &'a SeedTruth, name: &str) -> &'a peerlog_core::ids::TeamId {
    &truth.teams.iter().find(|(_, n)| n == name).unwrap().0
}

fn opens(relay: &TestRelay, case: &peerlog_core::ids::CaseId) -> Vec<access_log::Entry> {
    relay
        .relay
        .state
        .db
        .read(|tx| access_log::for_case(tx, case))
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "open")
        .collect()
}

#[tokio::test]
async fn a_coordinator_sees_nothing_of_another_team_through_pages_or_api() {
    let (relay, truth) = seeded().await;
    let mine = team_of(&truth, "team-01").clone();
    let theirs = team_of(&truth, "team-02").clone();
    let mut browser = Browser::new(relay.app());
    browser.sign_in("coord-01-1", PASSWORD).await;

    let overview = browser.get("/overview").await;
    assert_eq!(overview.status, StatusCode::OK);
    let cases_page = browser.get("/cases").await;
    let (_, api_cases) = {
        let page = browser.get("/api/v1/cases").await;
        (
            page.status,
            serde_json::from_str::<serde_json::Value>(&page.body).unwrap(),
        )
    };
    let api_overview = browser.get("/api/v1/overview").await;
    for (id, name, team) in &truth.prws {
        let visible = *team == mine;
        assert_eq!(
            overview.body.contains(name.as_str()),
            visible,
            "PRW {name} on the overview"
        );
        assert_eq!(
            api_overview.body.contains(id.as_str()),
            visible,
            "PRW {name} in the API overview"
        );
        let agenda = browser.get(&format!("/prws/{id}/agenda")).await;
        assert_eq!(agenda.status == StatusCode::OK, visible, "agenda of {name}");
    }
    for case in &truth.cases {
        let visible = case.team == mine;
        assert_eq!(
            cases_page.body.contains(&case.alias),
            visible,
            "{} listed",
            case.alias
        );
        assert_eq!(
            api_cases
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["id"] == case.id.to_string()),
            visible
        );
        let page = browser.get(&format!("/cases/{}", case.id)).await;
        assert_eq!(
            page.status == StatusCode::OK,
            visible,
            "case page of {}",
            case.alias
        );
        let api = browser.get(&format!("/api/v1/cases/{}", case.id)).await;
        if visible {
            assert_eq!(api.status, StatusCode::OK);
        } else {
            assert_eq!(api.status, StatusCode::NOT_FOUND);
            assert!(api.body.contains("\"code\":\"not_found\""), "{}", api.body);
            assert!(!api.body.contains(&case.alias));
        }
    }
    let other = browser
        .get(&format!("/api/v1/teams/{theirs}/overview"))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let own = browser.get(&format!("/api/v1/teams/{mine}/overview")).await;
    assert_eq!(own.status, StatusCode::OK);
    let unknown = browser.get("/cases/not-a-case-id").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_case_opening_is_logged_and_a_forged_one_is_refused() {
    let (relay, truth) = seeded().await;
    let mine = team_of(&truth, "team-01").clone();
    let case = truth.cases.iter().find(|c| c.team == mine).unwrap();
    let user = relay.set_password("coord-01-1");
    let mut browser = Browser::new(relay.app());
    browser.sign_in("coord-01-1", PASSWORD).await;

    let summary = browser.get(&format!("/cases/{}", case.id)).await;
    assert_eq!(summary.status, StatusCode::OK);
    assert!(
        opens(&relay, &case.id).is_empty(),
        "the summary shows no content and logs nothing"
    );
    let live: Vec<_> = truth
        .contacts
        .iter()
        .filter(|c| c.case == case.id && !c.deleted)
        .collect();

    let forged = browser
        .post(&format!("/cases/{}/open", case.id), &[("csrf", "guess")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let csrf = summary.csrf().unwrap();
    let cross = browser
        .post_cross_site(&format!("/cases/{}/open", case.id), &[("csrf", &csrf)])
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert!(
        opens(&relay, &case.id).is_empty(),
        "refused openings log nothing and show nothing"
    );

    let record = browser
        .post(&format!("/cases/{}/open", case.id), &[("csrf", &csrf)])
        .await;
    assert_eq!(record.status, StatusCode::OK);
    assert_eq!(
        record.body.matches("data-contact=").count(),
        live.len(),
        "every live contact"
    );
    let api = browser.get(&format!("/api/v1/cases/{}", case.id)).await;
    let json: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(json["contacts"].as_array().unwrap().len(), live.len());

    let log = opens(&relay, &case.id);
    assert_eq!(log.len(), 2, "one opening by page, one by API");
    for entry in log {
        assert_eq!(entry.user_id.as_deref(), Some(user.as_str()));
        assert_eq!(entry.role.as_deref(), Some("coordinator"));
    }
}

#[tokio::test]
async fn an_admin_must_use_totp_and_sees_no_case_content() {
    let (relay, truth) = seeded().await;
    relay.add_staff("root", Role::Admin, "team-01");
    let mut browser = Browser::new(relay.app());
    let signed = browser.sign_in("root", PASSWORD).await;
    assert_eq!(
        signed.location(),
        Some("/account/totp"),
        "an admin sets up TOTP first"
    );
    assert_eq!(
        browser.get("/account").await.location(),
        Some("/account/totp")
    );

    let setup = browser.get("/account/totp").await;
    assert!(setup.body.contains("<svg"), "a QR code to scan");
    let key = setup.body.split("id=\"totp-key\">").nth(1).unwrap();
    let secret = base32_decode(&key[..key.find('<').unwrap()]);
    let wrong = browser
        .post(
            "/account/totp",
            &[("csrf", &setup.csrf().unwrap()), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let setup = browser.get("/account/totp").await;
    let key = setup.body.split("id=\"totp-key\">").nth(1).unwrap();
    let secret_now = base32_decode(&key[..key.find('<').unwrap()]);
    assert_ne!(secret, secret_now, "every set-up page makes a new secret");
    let code = totp_now(&secret_now, 0);
    let done = browser
        .post(
            "/account/totp",
            &[("csrf", &setup.csrf().unwrap()), ("code", &code)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    for case in &truth.cases {
        for path in [
            format!("/cases/{}", case.id),
            format!("/api/v1/cases/{}", case.id),
        ] {
            let page = browser.get(&path).await;
            assert!(
                page.status == StatusCode::NOT_FOUND || page.status == StatusCode::FORBIDDEN,
                "{path}: {}",
                page.status
            );
            assert!(!page.body.contains(&case.alias));
        }
        assert!(opens(&relay, &case.id).is_empty());
    }
    for path in ["/overview", "/cases", "/api/v1/overview", "/api/v1/cases"] {
        let page = browser.get(path).await;
        assert!(
            page.status == StatusCode::NOT_FOUND || page.status == StatusCode::FORBIDDEN,
            "{path}: {}",
            page.status
        );
        for case in &truth.cases {
            assert!(!page.body.contains(&case.alias), "{path}");
        }
    }

    // The next sign-in asks for a code; the code just used cannot be used again.
    let mut again = Browser::new(relay.app());
    assert_eq!(
        again.sign_in("root", PASSWORD).await.location(),
        Some("/login/totp")
    );
    assert_eq!(again.get("/account").await.location(), Some("/login/totp"));
    let form = again.get("/login/totp").await;
    let replay = again
        .post(
            "/login/totp",
            &[("csrf", &form.csrf().unwrap()), ("code", &code)],
        )
        .await;
    assert_eq!(
        replay.status,
        StatusCode::UNAUTHORIZED,
        "a used code is refused"
    );
    let next = totp_now(&secret_now, 1);
    let ok = again
        .post(
            "/login/totp",
            &[("csrf", &form.csrf().unwrap()), ("code", &next)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(again.get("/").await.location(), Some("/people"));
}

#[tokio::test]
async fn a_session_id_planted_before_sign_in_never_becomes_a_signed_in_one() {
    let relay = TestRelay::start().await;
    relay.add_staff("kari", Role::Coordinator, "North");
    let mut victim = Browser::new(relay.app());
    victim
        .cookies
        .insert("peerlog_session".into(), "planted-by-attacker".into());
    victim.sign_in("kari", PASSWORD).await;
    let issued = victim.cookies["peerlog_session"].clone();
    assert_ne!(issued, "planted-by-attacker");

    let mut attacker = Browser::new(relay.app());
    attacker
        .cookies
        .insert("peerlog_session".into(), "planted-by-attacker".into());
    assert_eq!(attacker.get("/overview").await.location(), Some("/login"));

    // Signing in again replaces the session: the old id stops working.
    let mut thief = Browser::new(relay.app());
    thief
        .cookies
        .insert("peerlog_session".into(), issued.clone());
    assert_eq!(
        thief.get("/overview").await.status,
        StatusCode::OK,
        "the session works"
    );
    victim.sign_in("kari", PASSWORD).await;
    assert_ne!(victim.cookies["peerlog_session"], issued);
    assert_eq!(thief.get("/overview").await.location(), Some("/login"));
}

#[tokio::test]
async fn forms_without_the_token_or_from_another_site_are_refused() {
    let relay = TestRelay::start().await;
    relay.add_staff("kari", Role::Coordinator, "North");
    let mut browser = Browser::new(relay.app());
    // A sign-in form posted without the form cookie's token (login CSRF).
    let page = browser
        .post(
            "/login",
            &[("csrf", "x"), ("name", "kari"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    browser.sign_in("kari", PASSWORD).await;
    let account = browser.get("/account").await;
    let csrf = account.csrf().unwrap();
    let no_token = browser
        .post("/account/language", &[("language", "en")])
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let cross = browser
        .post_cross_site("/account/language", &[("csrf", &csrf), ("language", "en")])
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert!(
        browser.get("/account").await.body.contains("lang=\"nb\""),
        "nothing changed"
    );
    let ok = browser
        .post("/account/language", &[("csrf", &csrf), ("language", "en")])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert!(
        browser.get("/account").await.body.contains("lang=\"en\""),
        "English from now on"
    );
    let logout_forged = browser.post_cross_site("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(logout_forged.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_hundred_failed_sign_ins_are_rate_limited_and_lock_nobody_else_out() {
    let relay = TestRelay::start_with(|c| c.trust_forwarded_for = true).await;
    relay.add_staff("kari", Role::Coordinator, "North");
    relay.add_staff("per", Role::Coordinator, "North");
    let mut attacker = Browser::new(relay.app());
    attacker.extra.push(("x-forwarded-for", "10.0.0.66".into()));
    let (mut refused, mut limited) = (0, 0);
    for i in 0..100 {
        let page = attacker
            .submit(
                "/login",
                "/login",
                &[
                    ("name", "kari"),
                    ("password", &format!("guess number {i:03}")),
                ],
            )
            .await;
        match page.status {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::TOO_MANY_REQUESTS => limited += 1,
            other => panic!("attempt {i}: {other}"),
        }
    }
    assert!(
        refused <= 10,
        "at most the per-minute budget is even checked: {refused}"
    );
    assert_eq!(refused + limited, 100);
    // Even the right password is refused from that address for now…
    let page = attacker
        .submit(
            "/login",
            "/login",
            &[("name", "kari"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    // …but kari from her own address, and a colleague from the attacker's, sign in at once.
    let mut kari = Browser::new(relay.app());
    kari.extra.push(("x-forwarded-for", "10.0.0.7".into()));
    kari.sign_in("kari", PASSWORD).await;
    let mut per = Browser::new(relay.app());
    per.extra.push(("x-forwarded-for", "10.0.0.66".into()));
    per.sign_in("per", PASSWORD).await;
    let metrics = relay.app();
    let (_, text) = common::get(&metrics, "/metrics", None).await;
    assert!(
        text.contains("dashboard_login"),
        "failures are counted in /metrics"
    );
}

#[tokio::test]
async fn the_api_has_one_error_shape_and_takes_a_coordinators_device_token() {
    let (relay, truth) = seeded().await;
    let app = relay.app();
    let (status, body) = common::get(&app, "/api/v1/overview", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["code"], "unauthorized");
    let (status, body) = common::get(&app, "/api/v1/no-such-thing", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["code"],
        "not_found"
    );
    let (status, body) = common::get(&app, "/api/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"openapi\""));

    // A coordinator's enrolled device reads the API with its bearer token.
    let code = relay.code_for("coord-01-1");
    let device = common::enrolled(&app, &code).await;
    let (_, token) = common::token(&app, &device).await;
    let token = token["token"].as_str().unwrap().to_owned();
    let (status, body) = common::get(&app, "/api/v1/overview", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let overview: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mine = team_of(&truth, "team-01").to_string();
    assert_eq!(overview.as_array().unwrap().len(), 1);
    assert_eq!(overview[0]["teamId"], mine.as_str());
    let (status, body) = common::get(&app, "/api/v1/reports?period=2026-13", Some(&token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (json["code"].as_str(), json["field"].as_str()),
        (Some("invalid_field"), Some("period"))
    );
    let (status, body) = common::get(&app, "/api/v1/reports", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A PRW's device token does not open the coordinator API.
    let (prw, _, _) = &truth.prws[0];
    let prw_device = common::enrolled(&app, &relay.code_for(prw.as_str())).await;
    let (_, prw_token) = common::token(&app, &prw_device).await;
    let (status, _) = common::get(&app, "/api/v1/cases", prw_token["token"].as_str()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_first_admin_sets_up_a_password_with_the_one_time_code_printed_at_first_start() {
    let relay = TestRelay::start().await;
    let code = relay
        .relay
        .started
        .admin_setup_code
        .clone()
        .expect("first start prints a code");
    let mut browser = Browser::new(relay.app());
    let wrong = browser
        .submit("/setup", "/setup", &fields_for("admin", "AAAA-BBBB-CCCC"))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let short = browser
        .submit(
            "/setup",
            "/setup",
            &[
                ("name", "admin"),
                ("code", &code),
                ("password", "short"),
                ("repeat", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    let done = browser
        .submit("/setup", "/setup", &fields_for("admin", &code))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let again = browser
        .submit("/setup", "/setup", &fields_for("admin", &code))
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "the code works once"
    );
    let signed = browser.sign_in("admin", PASSWORD).await;
    assert_eq!(signed.location(), Some("/account/totp"));
}

#[tokio::test]
async fn a_code_cannot_take_over_an_account_that_has_a_password_until_the_operator_resets_it() {
    let relay = TestRelay::start().await;
    relay.add_staff("kari", Role::Coordinator, "North");
    let code = relay.code_for("kari");
    let mut browser = Browser::new(relay.app());
    let refused = browser
        .submit("/setup", "/setup", &fields_for("kari", &code))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "kari already has a password"
    );
    browser.sign_in("kari", PASSWORD).await;

    let out = common::cli(
        &relay.dir.path().join("data"),
        &["admin", "user", "reset-login", "kari"],
    );
    assert_eq!(out["reset"], true);
    let mut old = browser.clone();
    assert_eq!(
        old.get("/overview").await.location(),
        Some("/login"),
        "signed out"
    );
    let page = browser
        .submit(
            "/login",
            "/login",
            &[("name", "kari"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let code = relay.code_for("kari");
    let done = browser
        .submit("/setup", "/setup", &fields_for("kari", &code))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    browser.sign_in("kari", PASSWORD).await;
}

fn fields_for<'a>(name: &'a str, code: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("name", name),
        ("code", code),
        ("password", PASSWORD),
        ("repeat", PASSWORD),
    ]
}
