//! Measurement (d) of issue 4: the first sync of a new coordinator device whose team has 50 cases
//! with three months of history each, against a real relay on loopback. Prints bytes, frames and
//! round trips next to the physical floor (the raw size of every change, and the size of the
//! documents saved compactly), so BENCHMARKS.md can report the ratio.
//!
//! `cargo test -p peerlog-tests --test e2e_first_sync -- --nocapture`

use std::time::Duration;

use peerlog_core::document::NewGoal;
use peerlog_core::ids::CaseId;
use peerlog_core::model::LifeArea;
use peerlog_core::net::SyncReport;
use peerlog_tests::device::{LiveRelay, TestDevice, wall_ms};

const CASES: usize = 50;
const WEEKS: i64 = 12;
const DAY: i64 = 24 * 60 * 60_000;

/// Syncs until the device holds `n` cases; returns the reports of every session it took.
async fn sync_until_it_holds(device: &mut TestDevice, n: usize) -> Vec<SyncReport> {
    let mut reports = Vec::new();
    for _ in 0..60 {
        reports.push(device.sync().await.expect("sync"));
        if device.cases.case_ids().len() == n && device.cases.pending_count().unwrap() == 0 {
            return reports;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!(
        "{} holds {} cases, expected {n}",
        device.name,
        device.cases.case_ids().len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_of_a_new_coordinator_device_with_50_cases() {
    tokio::time::timeout(Duration::from_secs(300), async {
        let relay = LiveRelay::start().await;
        let dir = tempfile::tempdir().unwrap();
        relay.admin(&["team", "add", "North"]).await;
        for (user, role) in [("ola", "prw"), ("nina", "coordinator")] {
            relay
                .admin(&["user", "add", user, "--role", role, "--team", "North"])
                .await;
        }
        let mut cases: Vec<CaseId> = Vec::new();
        for n in 0..CASES {
            let alias = format!("Service user {n}");
            let opened = relay
                .admin(&["case", "open", "--prw", "ola", "--alias", &alias])
                .await;
            cases.push(opened["caseId"].as_str().unwrap().parse().unwrap());
        }

        // The PRW's phone writes three months of history on every case: a weekly contact and
        // a plan with two goals.
        let mut phone = TestDevice::enrol(&relay, dir.path(), "ola", "ola-phone", 41).await;
        sync_until_it_holds(&mut phone, CASES).await;
        let start = wall_ms() - WEEKS * 7 * DAY;
        for case in &cases {
            for week in 0..WEEKS {
                phone.log_contact(
                    case,
                    start + week * 7 * DAY,
                    &format!("Week {week}: coffee and a walk; talked about housing and sleep."),
                );
            }
            for (area, text) in [
                (LifeArea::Housing, "Find a flat closer to work"),
                (LifeArea::Health, "Sleep before midnight on weekdays"),
            ] {
                phone
                    .cases
                    .edit(case, wall_ms(), &mut phone.rng, |doc, ctx| {
                        doc.add_goal(
                            ctx,
                            &NewGoal {
                                area,
                                text: text.to_owned(),
                                review_on: None,
                            },
                        )
                    })
                    .unwrap();
            }
        }
        sync_until_it_holds(&mut phone, CASES).await;

        // An older coordinator device makes sure the relay's directory lists all 50 cases.
        let mut old = TestDevice::enrol(&relay, dir.path(), "nina", "nina-old", 42).await;
        sync_until_it_holds(&mut old, CASES).await;

        // The measured device: brand new, nothing on it.
        let mut laptop = TestDevice::enrol(&relay, dir.path(), "nina", "nina-laptop", 43).await;
        let reports = sync_until_it_holds(&mut laptop, CASES).await;
        for case in &cases {
            assert_eq!(laptop.heads(case), phone.heads(case), "complete history");
        }

        let sum = |f: fn(&SyncReport) -> usize| reports.iter().map(f).sum::<usize>();
        let (up, down) = (sum(|r| r.bytes_sent), sum(|r| r.bytes_received));
        let (frames_up, frames_down) = (sum(|r| r.sent_frames), sum(|r| r.received_frames));
        let round_trips = sum(|r| r.round_trips);
        let case_docs: Vec<_> = cases
            .iter()
            .map(|id| laptop.cases.doc(id).unwrap().automerge().clone())
            .collect();
        let raw: usize = case_docs
            .iter()
            .flat_map(|d| d.get_changes(&[]))
            .map(|c| c.raw_bytes().len())
            .sum();
        let saved: usize = case_docs.iter().map(|d| d.save().len()).sum();
        let changes: usize = case_docs.iter().map(|d| d.get_changes(&[]).len()).sum();
        println!(
            "(d) new coordinator device, {CASES} cases, {changes} changes: {} sessions, frames {frames_up} up / {frames_down} down, bytes {up} up / {down} down, round trips {round_trips}; raw changes {raw} B (wire/raw {:.2}); saved documents {saved} B (wire/saved {:.2})",
            reports.len(),
            (up + down) as f64 / raw as f64,
            (up + down) as f64 / saved as f64,
        );
        relay.stop().await;
    })
    .await
    .expect("finishes in time");
}
