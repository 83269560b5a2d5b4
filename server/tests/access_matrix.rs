//! The authorisation matrix: every role × (own case, teammate's case, other team's case, unknown
//! id, closed case, long-closed case, case handed over to a teammate within and after the grace
//! period, own directory, another user's directory) × (read, write),
//! each allowed or denied as specified in `access.rs`; plus the access log of coordinator reads.

use std::sync::Arc;

use peerlog_core::ids::CaseId;
use peerlog_core::model::CaseStatus;
use peerlog_server::cases::access::{AccessSnapshot, CachedAccess};
use peerlog_server::clock::now_ms;
use peerlog_server::config::Config;
use peerlog_server::db::{Db, DbError, access_log, cases, identity};
use peerlog_server::ids::new_doc_id;
use peerlog_server::serve::initialise;
use peerlog_server::sync::ports::{Access, AccessPolicy, Principal, Role};

const DAY: i64 = 24 * 60 * 60 * 1000;

struct World {
    db: Arc<Db>,
    _dir: tempfile::TempDir,
    principals: Vec<(&'static str, Principal)>,
    targets: Vec<(&'static str, CaseId)>,
}

fn world(now: i64) -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Db::open(&dir.path().join("relay.sqlite3")).unwrap());
    initialise(&db, &Config::default(), now).unwrap();
    let (principals, targets) = db
        .write(|tx| {
            let north = identity::add_team(tx, "North", now)?.id;
            let south = identity::add_team(tx, "South", now)?.id;
            let prw = identity::add_user(tx, "prw", Role::Prw, std::slice::from_ref(&north), now)?;
            let mate =
                identity::add_user(tx, "mate", Role::Prw, std::slice::from_ref(&north), now)?;
            let far = identity::add_user(tx, "far", Role::Prw, std::slice::from_ref(&south), now)?;
            let coord = identity::add_user(
                tx,
                "coord",
                Role::Coordinator,
                std::slice::from_ref(&north),
                now,
            )?;
            let admin = identity::add_user(tx, "boss", Role::Admin, &[], now)?;
            let device = |user: &identity::User, n: u8| {
                let id = identity::add_device(tx, &user.id, &[n; 32], None, now)?;
                Ok::<_, DbError>(Principal {
                    user: user.id.clone(),
                    role: user.role,
                    device: id,
                })
            };
            let p_prw = device(&prw, 1)?;
            let p_coord = device(&coord, 2)?;
            let p_admin = device(&admin, 3)?;
            let p_revoked = device(&prw, 4)?;
            identity::revoke_device(tx, &p_revoked.device, now)?;

            let case = |team, user: &identity::User| {
                let id = new_doc_id();
                cases::insert(tx, &id, team, &user.id, now - 100 * DAY)?;
                Ok::<_, DbError>(id)
            };
            let own = case(&north, &prw)?;
            let teammate = case(&north, &mate)?;
            let other_team = case(&south, &far)?;
            let closed = case(&north, &prw)?;
            let long_closed = case(&north, &prw)?;
            cases::set_status(tx, &closed, CaseStatus::Closed, now - DAY)?;
            cases::set_status(tx, &long_closed, CaseStatus::Closed, now - 60 * DAY)?;
            let handed_over = case(&north, &mate)?;
            cases::record_handover(tx, &handed_over, &prw.id, now - DAY)?;
            let long_handed_over = case(&north, &mate)?;
            cases::record_handover(tx, &long_handed_over, &prw.id, now - 60 * DAY)?;
            let own_dir = |p: &Principal| {
                identity::find_user(tx, p.user.as_str()).map(|u| u.unwrap().directory_doc)
            };
            let targets = vec![
                ("own", own),
                ("teammate", teammate),
                ("other-team", other_team),
                ("unknown", new_doc_id()),
                ("closed", closed),
                ("long-closed", long_closed),
                ("far-directory", far.directory_doc),
                ("handed-over", handed_over),
                ("long-handed-over", long_handed_over),
            ];
            let mut principals = Vec::new();
            for (name, p) in [
                ("prw", p_prw),
                ("coordinator", p_coord),
                ("admin", p_admin),
                ("revoked", p_revoked),
            ] {
                principals.push((name, p.clone(), own_dir(&p)?));
            }
            Ok::<_, DbError>((principals, targets))
        })
        .unwrap();
    // Each principal's own directory is checked through a per-principal target below.
    let mut flat_targets = targets;
    let dirs: Vec<_> = principals.iter().map(|(n, _, d)| (*n, *d)).collect();
    for (name, dir) in dirs {
        let label: &'static str = match name {
            "prw" => "own-directory(prw)",
            "coordinator" => "own-directory(coordinator)",
            "admin" => "own-directory(admin)",
            _ => "own-directory(revoked)",
        };
        flat_targets.push((label, dir));
    }
    World {
        db,
        _dir: dir,
        principals: principals.into_iter().map(|(n, p, _)| (n, p)).collect(),
        targets: flat_targets,
    }
}

/// What each role may do: (principal, target) → (read, write). Anything not listed: denied.
fn expected(principal: &str, target: &str) -> (bool, bool) {
    match (principal, target) {
        // Handover rule: the former PRW's devices may still hand over changes for the grace period.
        ("prw", "own" | "closed" | "handed-over") => (true, true),
        ("prw", "long-closed") => (true, false),
        // The revoked device belongs to the same PRW: its directory is the PRW's own.
        ("prw", "own-directory(prw)" | "own-directory(revoked)") => (true, false),
        (
            "coordinator",
            "own" | "teammate" | "closed" | "long-closed" | "handed-over" | "long-handed-over",
        ) => (true, false),
        ("coordinator", "own-directory(coordinator)") => (true, false),
        ("admin", "own-directory(admin)") => (true, false),
        _ => (false, false),
    }
}

#[test]
fn authorisation_matrix() {
    let now = now_ms();
    let w = world(now);
    let snap = w.db.read(|tx| AccessSnapshot::load(tx)).unwrap();
    let mut failures = Vec::new();
    let mut rows = 0;
    for (pname, principal) in &w.principals {
        for (tname, target) in &w.targets {
            let access = snap.decide(principal, target, now);
            let got = (access >= Access::Read, access == Access::ReadWrite);
            let want = expected(pname, tname);
            for (op, g, e) in [("read", got.0, want.0), ("write", got.1, want.1)] {
                rows += 1;
                if g != e {
                    failures.push(format!("{pname} {op} {tname}: got {g}, want {e}"));
                }
            }
        }
    }
    assert_eq!(rows, 4 * 13 * 2);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn claimed_roles_and_borrowed_devices_do_not_count() {
    let now = now_ms();
    let w = world(now);
    let snap = w.db.read(|tx| AccessSnapshot::load(tx)).unwrap();
    let prw = &w.principals[0].1;
    let coord = &w.principals[1].1;
    let teammate = w.targets[1].1;
    // A PRW device claiming to be a coordinator still gets the PRW's rights.
    let claims = Principal {
        role: Role::Coordinator,
        ..prw.clone()
    };
    assert_eq!(snap.decide(&claims, &teammate, now), Access::None);
    // A device presented under another user's id gets nothing.
    let borrowed = Principal {
        user: coord.user.clone(),
        ..prw.clone()
    };
    assert_eq!(snap.decide(&borrowed, &w.targets[0].1, now), Access::None);
}

#[test]
fn coordinator_reads_are_logged_once_per_window_and_prw_reads_are_not() {
    let now = now_ms();
    let w = world(now);
    let policy = CachedAccess::load(&w.db, now_ms).unwrap();
    let prw = &w.principals[0].1;
    let coord = &w.principals[1].1;
    let own = w.targets[0].1;
    for _ in 0..5 {
        assert_eq!(policy.access(coord, &own), Access::Read);
        assert_eq!(policy.access(prw, &own), Access::ReadWrite);
    }
    assert_eq!(policy.flush_reads(&w.db).unwrap(), 1);
    let log = w.db.read(|tx| access_log::for_case(tx, &own)).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "read");
    assert_eq!(log[0].role.as_deref(), Some("coordinator"));
    assert_eq!(log[0].device_id.as_deref(), Some(coord.device.as_str()));
}

#[test]
fn a_reload_sees_reassignment_and_revocation() {
    let now = now_ms();
    let w = world(now);
    let policy = CachedAccess::load(&w.db, now_ms).unwrap();
    let prw = w.principals[0].1.clone();
    let own = w.targets[0].1;
    assert_eq!(policy.access(&prw, &own), Access::ReadWrite);
    w.db.write(|tx| {
        let mate = identity::find_user(tx, "mate")?.unwrap();
        cases::reassign(tx, &own, &mate.id)
    })
    .unwrap();
    assert_eq!(
        policy.access(&prw, &own),
        Access::ReadWrite,
        "cached until reload"
    );
    policy.reload(&w.db).unwrap();
    assert_eq!(policy.access(&prw, &own), Access::None);
    let closed = w.targets[4].1;
    w.db.write(|tx| identity::revoke_device(tx, &prw.device, now))
        .unwrap();
    policy.reload(&w.db).unwrap();
    assert_eq!(policy.access(&prw, &closed), Access::None);
}

#[test]
fn a_handed_over_case_is_writable_for_the_grace_period_but_never_listed() {
    let now = now_ms();
    let w = world(now);
    let snapshot = w.db.read(|tx| AccessSnapshot::load(tx)).unwrap();
    let prw = &w.principals[0].1;
    let target = |name| w.targets.iter().find(|(n, _)| *n == name).unwrap().1;
    let listed: Vec<CaseId> = snapshot
        .visible_cases(&prw.user, now)
        .into_iter()
        .map(|(case, _)| case.id)
        .collect();
    assert!(
        !listed.contains(&target("handed-over")),
        "not in the directory"
    );
    assert!(snapshot.is_handover_write(prw, &target("handed-over"), now));
    assert!(!snapshot.is_handover_write(prw, &target("own"), now));
    assert!(!snapshot.is_handover_write(prw, &target("long-handed-over"), now));
    let grace = i64::from(peerlog_server::db::org::LostPhone::default().wipe_after_days) * DAY;
    assert_eq!(
        snapshot.decide(prw, &target("handed-over"), now - DAY + grace),
        Access::ReadWrite,
        "the last moment of the grace period"
    );
    assert_eq!(
        snapshot.decide(prw, &target("handed-over"), now - DAY + grace + 1),
        Access::None,
        "the grace period is the lost-phone wipe period"
    );
}
