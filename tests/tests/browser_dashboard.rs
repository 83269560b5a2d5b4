//! The coordinator dashboard in a real headless Chromium (Debian's `chromium`, driven by
//! `playwright-core` from tests/browser): sign in, team overview, a phone syncs a new contact
//! while the page is open and the overview updates by itself, open a case record, the guidance
//! agenda, an enrolment code with its QR code, revoking a device (whose next sync is told to
//! wipe), downloading a report, switching language, signing out. Screenshots of the main pages
//! land in `target/browser-screenshots/`.
//!
//! Needs `npm install` in tests/browser and /usr/bin/chromium; without them the test is skipped
//! with a message, unless `PEERLOG_REQUIRE_BROWSER` is set (CI sets it), when it fails.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use peerlog_core::document::NewContact;
use peerlog_core::model::{ContactMode, Initiator, LifeArea, SupportType};
use peerlog_core::net::NetError;
use peerlog_server::auth::password;
use peerlog_server::db::{identity, logins};
use peerlog_server::demo::generator::{SeedSpec, seed_org};
use peerlog_tests::device::{LiveRelay, TestDevice, wall_ms};
use tokio::io::{AsyncBufReadExt, BufReader};

const PASSWORD: &str = "a long coordinator passphrase";

fn chromium() -> PathBuf {
    std::env::var_os("PEERLOG_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

fn browser_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    let ready = dir.join("node_modules/playwright-core").is_dir() && chromium().exists();
    if ready {
        return Some(dir);
    }
    if std::env::var_os("PEERLOG_REQUIRE_BROWSER").is_some() {
        panic!(
            "PEERLOG_REQUIRE_BROWSER is set but the browser test cannot run: needs `npm install` in {} and {}",
            dir.display(),
            chromium().display()
        );
    }
    eprintln!(
        "SKIPPED: the browser test needs `npm install` in {} and Debian's chromium (set PEERLOG_REQUIRE_BROWSER=1 to make this an error)",
        dir.display()
    );
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_works_through_the_dashboard_in_a_real_browser() {
    let Some(dir) = browser_dir() else { return };
    let relay = LiveRelay::start().await;
    let now = wall_ms();
    let spec = SeedSpec {
        teams: 2,
        coordinators_per_team: 1,
        prws: 4,
        cases: 8,
        weeks: 8,
        closed_share: 0.0,
        seed: 11,
    };
    let truth = seed_org(&relay.state.db, &spec, now).expect("seed");
    let (coordinator, team) = {
        let (_, name, team) = &truth.coordinators[0];
        (name.clone(), team.clone())
    };
    let prw = truth
        .prws
        .iter()
        .find(|(id, _, t)| *t == team && truth.cases.iter().any(|c| &c.prw == id))
        .expect("a PRW with cases in the coordinator's team")
        .clone();
    let hash = password::hash(PASSWORD).expect("hash");
    relay
        .state
        .db
        .write(|tx| {
            let user = identity::find_user(tx, &coordinator)?.expect("coordinator");
            logins::set_password(tx, &user.id, &hash, now)
        })
        .expect("password");
    // Bring access and the PRWs' directory documents up to date now (the watch loop would within
    // a second), so the phones' first sync already lists their cases.
    peerlog_server::cases::watch::on_change(&relay.state)
        .await
        .expect("upkeep");

    let work = tempfile::tempdir().expect("tempdir");
    let mut phone = TestDevice::enrol(&relay, work.path(), &prw.1, "phone", 1).await;
    let mut tablet = TestDevice::enrol(&relay, work.path(), &prw.1, "tablet", 2).await;
    phone.sync().await.expect("phone's first sync");
    tablet.sync().await.expect("tablet's first sync");
    let case = phone
        .cases
        .case_ids()
        .into_iter()
        .next()
        .expect("the phone has a case");

    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let shots = target.join("browser-screenshots");
    let downloads = work.path().join("downloads");
    let mut child = tokio::process::Command::new("node")
        .arg("dashboard.mjs")
        .current_dir(&dir)
        .env("PEERLOG_URL", relay.url())
        .env("PEERLOG_USER", &coordinator)
        .env("PEERLOG_PASSWORD", PASSWORD)
        .env("PEERLOG_PRW_ID", prw.0.as_str())
        .env(
            "PEERLOG_REVOKE_DEVICE",
            tablet.enrolment().device_id.as_str(),
        )
        .env("PEERLOG_SCREENSHOTS", &shots)
        .env("PEERLOG_DOWNLOADS", &downloads)
        .env("PEERLOG_CHROMIUM", chromium())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();
    let outcome = tokio::time::timeout(Duration::from_secs(240), async {
        while let Some(line) = lines.next_line().await.expect("read") {
            println!("browser: {line}");
            if line.starts_with("WAITING-FOR-SYNC") {
                // While the page is open, the phone logs a contact and syncs.
                let at = wall_ms() - 60_000;
                phone
                    .cases
                    .edit(&case, wall_ms(), &mut phone.rng, |doc, ctx| {
                        doc.log_contact(
                            ctx,
                            &NewContact {
                                at,
                                tz_offset_min: 60,
                                minutes: 30,
                                mode: ContactMode::Phone,
                                initiated_by: Initiator::ServiceUser,
                                topics: vec![LifeArea::Health],
                                support_types: vec![SupportType::Emotional],
                                note: "Called after the appointment.".to_owned(),
                                flag_for_guidance: true,
                            },
                        )
                    })
                    .expect("log a contact");
                phone.sync().await.expect("the phone syncs");
            }
            seen.push(line);
        }
        child.wait().await.expect("node exits")
    })
    .await
    .expect("the browser test finishes within four minutes");
    assert!(
        outcome.success(),
        "the browser script failed (see its stderr above)"
    );
    assert!(
        seen.iter().any(|l| l.starts_with("OVERVIEW-UPDATED")),
        "{seen:?}"
    );
    assert_eq!(seen.last().map(String::as_str), Some("DONE"));

    for name in [
        "login",
        "overview",
        "overview-after-sync",
        "case-record",
        "agenda",
        "enrolment-code",
        "reports",
        "overview-en",
    ] {
        let file = shots.join(format!("{name}.png"));
        let len = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        assert!(len > 1000, "screenshot {} saved", file.display());
    }
    let csv = std::fs::read_dir(&downloads)
        .expect("downloads")
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "csv"))
        .expect("a CSV was downloaded");
    let text = std::fs::read_to_string(csv.path()).expect("csv");
    assert!(text.starts_with("period,"), "{text}");
    for case in &truth.cases {
        assert!(!text.contains(&case.alias), "the report holds no aliases");
    }

    // The revoked tablet is told to wipe at its next sync.
    match tablet.sync().await {
        Err(NetError::Wiped) => {}
        other => panic!("the revoked tablet synced: {other:?}"),
    }
}
