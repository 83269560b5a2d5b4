//! The `peerlog` binary against a temp data dir: admin commands with `--json`, the outbox applied
//! by the CLI when no server runs, backup/restore round trip, check, and erasure that leaves no
//! plaintext of the alias or notes in the database or WAL files.

mod common;

use std::path::Path;
use std::process::Command;

use automerge::{ActorId, Automerge, ReadDoc};
use jiff::civil::date;
use peerlog_core::document::NewContact;
use peerlog_core::ids::CaseId;
use peerlog_core::model::*;
use peerlog_core::{CaseDoc, EditCtx, NewCase};
use peerlog_server::cases::directory;
use peerlog_server::clock::now_ms;
use peerlog_server::db::{Db, docs, identity};
use serde_json::Value;

fn peerlog(data: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_peerlog"))
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("PEERLOG_DATA")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(data: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let (ok, stdout, stderr) = peerlog(data, &all);
    assert!(ok, "{args:?} failed: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("not JSON: {stdout}"))
}

/// Initialises an organisation with a team, a coordinator and two PRWs; returns the PRW ids.
fn organisation(data: &Path) -> (String, String) {
    let init = json(data, &["admin", "init"]);
    assert_eq!(init["created"], true);
    assert_eq!(init["adminSetupCode"].as_str().unwrap().len(), 14);
    json(data, &["admin", "team", "add", "North"]);
    json(
        data,
        &[
            "admin",
            "user",
            "add",
            "kari",
            "--role",
            "coordinator",
            "--team",
            "North",
        ],
    );
    let a = json(
        data,
        &[
            "admin", "user", "add", "ola", "--role", "prw", "--team", "North",
        ],
    );
    let b = json(
        data,
        &[
            "admin", "user", "add", "ingrid", "--role", "prw", "--team", "North",
        ],
    );
    (
        a["id"].as_str().unwrap().to_owned(),
        b["id"].as_str().unwrap().to_owned(),
    )
}

fn directory_json(data: &Path, user: &str) -> Value {
    let db = Db::open_in(data).unwrap();
    let doc = db
        .read(|tx| identity::find_user(tx, user))
        .unwrap()
        .unwrap()
        .directory_doc;
    let bytes = db.read(|tx| docs::load(tx, &doc)).unwrap().unwrap();
    directory::to_json(&Automerge::load(&bytes).unwrap())
}

#[test]
fn admin_commands_manage_an_organisation_with_json_output() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ola, ingrid) = organisation(&data);

    let (ok, _, stderr) = peerlog(&data, &["admin", "user", "add", "x", "--role", "king"]);
    assert!(!ok);
    assert!(
        stderr.contains("--role is prw, coordinator or admin"),
        "{stderr}"
    );

    let code = json(&data, &["admin", "enrol-code", "--user", "ola"]);
    assert_eq!(code["code"].as_str().unwrap().len(), 14);
    assert!(code["expiresAt"].as_i64().unwrap() > now_ms());

    let opened = json(
        &data,
        &[
            "admin",
            "case",
            "open",
            "--prw",
            "ola",
            "--alias",
            "Fjellrev",
            "--birth-year",
            "1991",
            "--interests",
            "fishing,hiking",
        ],
    );
    let case_id = opened["caseId"].as_str().unwrap().to_owned();
    assert_eq!(opened["prw"], ola.as_str());
    assert_eq!(opened["status"], "active");

    let list = json(&data, &["admin", "case", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(
        !list.to_string().contains("Fjellrev"),
        "listings show no alias"
    );

    // The CLI (no server running) applied upkeep: the PRW's directory lists the case.
    let dir_json = directory_json(&data, "ola");
    assert_eq!(dir_json["cases"][&case_id]["status"], "active");
    assert_eq!(dir_json["cases"][&case_id]["access"], "readWrite");
    assert_eq!(dir_json["settings"]["timeZone"], "Europe/Oslo");
    assert!(
        !dir_json.to_string().contains("Fjellrev"),
        "directories hold no alias"
    );
    assert_eq!(
        directory_json(&data, "kari")["cases"][&case_id]["access"],
        "read"
    );

    json(
        &data,
        &["admin", "case", "reassign", &case_id, "--prw", "ingrid"],
    );
    assert!(
        directory_json(&data, "ola")["cases"]
            .get(&case_id)
            .is_none()
    );
    assert_eq!(
        directory_json(&data, "ingrid")["cases"][&case_id]["access"],
        "readWrite"
    );

    let closed = json(
        &data,
        &["admin", "case", "close", &case_id, "--reason", "moved away"],
    );
    assert_eq!(closed["status"], "closed");
    let db = Db::open_in(&data).unwrap();
    let id: CaseId = case_id.parse().unwrap();
    let bytes = db.read(|tx| docs::load(tx, &id)).unwrap().unwrap();
    let case = CaseDoc::load(id, &bytes, ActorId::random())
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(
        case.status,
        CaseStatus::Closed,
        "the queued edit reached the document"
    );
    assert_eq!(case.prw.as_str(), ingrid);
    assert_eq!(
        directory_json(&data, "ingrid")["cases"][&case_id]["status"],
        "closed"
    );

    let devices = json(&data, &["admin", "device", "list"]);
    assert_eq!(devices, serde_json::json!([]));
    let (ok, _, stderr) = peerlog(&data, &["admin", "device", "revoke", "d-nope"]);
    assert!(!ok && stderr.contains("no such device"), "{stderr}");

    let check = json(&data, &["check"]);
    assert_eq!(check["ok"], true, "{check}");
    assert_eq!(check["caseDocuments"], 1);
    assert_eq!(check["directoryDocuments"], 4, "admin, kari, ola, ingrid");

    let log = json(&data, &["admin", "access-log", "--case", &case_id]);
    assert_eq!(log, serde_json::json!([]));
}

#[test]
fn backup_and_restore_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    organisation(&data);
    let before = json(&data, &["admin", "user", "list"]);
    let backup = dir.path().join("backup.sqlite3");
    json(&data, &["backup", backup.to_str().unwrap()]);
    let (ok, _, stderr) = peerlog(&data, &["backup", backup.to_str().unwrap()]);
    assert!(
        !ok && stderr.contains("already exists"),
        "no silent overwrite: {stderr}"
    );

    json(&data, &["admin", "user", "add", "later", "--role", "prw"]);
    assert_ne!(json(&data, &["admin", "user", "list"]), before);
    json(&data, &["restore", backup.to_str().unwrap()]);
    assert_eq!(json(&data, &["admin", "user", "list"]), before);

    // Restoring into a fresh directory works too, and garbage is refused.
    let fresh = dir.path().join("fresh");
    json(&fresh, &["restore", backup.to_str().unwrap()]);
    assert_eq!(json(&fresh, &["admin", "user", "list"]), before);
    let junk = dir.path().join("junk");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let (ok, _, _) = peerlog(&fresh, &["restore", junk.to_str().unwrap()]);
    assert!(!ok);
    assert_eq!(json(&fresh, &["check"])["ok"], true);
}

/// Every file of the database (main, WAL, shared memory) as raw bytes.
fn raw_files(data: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("peerlog.sqlite3")
        })
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn erase_case_leaves_no_plaintext_in_the_database_or_wal() {
    const ALIAS: &str = "Zebrafinch7731";
    const NOTE: &str = "Kaffe-med-kanelbolle-Q93";
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ola, _) = organisation(&data);
    // A keeper case proves the scanner does not just find nothing after a VACUUM.
    json(
        &data,
        &[
            "admin",
            "case",
            "open",
            "--prw",
            "ola",
            "--alias",
            "KeeperAlias55",
        ],
    );

    // The case to erase, with a contact note, stored as the relay would (with a sync write).
    let db = Db::open_in(&data).unwrap();
    let team = db
        .read(|tx| identity::find_team(tx, "North"))
        .unwrap()
        .unwrap()
        .id;
    let mut rng = rand::rng();
    let relay = "relay".parse().unwrap();
    let now = now_ms();
    let id = CaseId::random(&mut rng);
    let mut doc = CaseDoc::create(
        NewCase {
            id,
            team: team.clone(),
            prw: ola.parse().unwrap(),
            service_user: ServiceUser {
                alias: ALIAS.into(),
                birth_year: None,
                interests: vec![],
                background: vec![],
            },
            started_on: date(2026, 1, 1),
            planned_end: date(2028, 1, 1),
            boundaries: Boundaries::default(),
        },
        ActorId::random(),
        &mut EditCtx {
            now,
            device: &relay,
            rng: &mut rng,
        },
    )
    .unwrap();
    peerlog_server::cases::casework::store_new_case(&db, &doc, &team, &ola.parse().unwrap(), now)
        .unwrap();
    let heads = doc.heads();
    doc.log_contact(
        &mut EditCtx {
            now,
            device: &relay,
            rng: &mut rng,
        },
        &NewContact {
            at: now - 3_600_000,
            tz_offset_min: 60,
            minutes: 30,
            mode: ContactMode::Meeting,
            initiated_by: Initiator::Prw,
            topics: vec![],
            support_types: vec![],
            note: NOTE.into(),
            flag_for_guidance: false,
        },
    )
    .unwrap();
    let (changes, hashes) = doc.changes_since(&heads);
    use peerlog_server::sync::ports::DocStorage as _;
    let storage = peerlog_server::cases::storage::SqliteDocStorage::new(
        std::sync::Arc::new(Db::open_in(&data).unwrap()),
        Default::default(),
    );
    storage
        .append(&[peerlog_server::sync::ports::DocAppend {
            doc: id,
            changes,
            written_by: None,
            hashes,
        }])
        .unwrap();
    drop(storage);
    drop(db);

    // Control: before erasure the scanner finds both markers (and the keeper) in the files.
    let files = raw_files(&data);
    let all: Vec<u8> = files.iter().flat_map(|(_, b)| b.clone()).collect();
    assert!(
        contains(&all, ALIAS.as_bytes()),
        "control: the alias is findable before erasure"
    );
    assert!(
        contains(&all, NOTE.as_bytes()),
        "control: the note is findable before erasure"
    );

    let erased = json(&data, &["erase-case", &id.to_string()]);
    assert_eq!(erased["caseId"], id.to_string());

    for (name, bytes) in raw_files(&data) {
        assert!(!contains(&bytes, ALIAS.as_bytes()), "alias left in {name}");
        assert!(!contains(&bytes, NOTE.as_bytes()), "note left in {name}");
    }
    let all: Vec<u8> = raw_files(&data).into_iter().flat_map(|(_, b)| b).collect();
    assert!(
        contains(&all, b"KeeperAlias55"),
        "the scanner still sees other cases"
    );

    let log = json(&data, &["admin", "access-log", "--case", &id.to_string()]);
    assert_eq!(log.as_array().unwrap().len(), 1);
    assert_eq!(log[0]["action"], "erase");
    let (ok, _, stderr) = peerlog(&data, &["erase-case", &id.to_string()]);
    assert!(!ok && stderr.contains("no such case"), "{stderr}");
    assert_eq!(json(&data, &["check"])["ok"], true);
}

/// Opens a case for ola with the CLI; returns its id, the database and its stored document.
fn stored_case_of_ola(data: &Path) -> (CaseId, Db, Automerge) {
    let created = json(
        data,
        &[
            "admin", "case", "open", "--prw", "ola", "--alias", "Fjellrev", "--team", "North",
        ],
    );
    let id: CaseId = created["caseId"].as_str().unwrap().parse().unwrap();
    let db = Db::open_in(data).unwrap();
    let bytes = db.read(|tx| docs::load(tx, &id)).unwrap().unwrap();
    (id, db, Automerge::load(&bytes).unwrap())
}

/// A data dir written before the door check existed, holding a case nested 10,000 maps deep
/// (stored with the relay's own store API): `check` names it, the server starts and stays
/// healthy (its cache warm-up reads every case), and the case is reported, not read recursively.
#[test]
fn a_stored_case_nested_ten_thousand_deep_is_reported_and_the_relay_still_starts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    organisation(&data);
    let (id, db, mut doc) = stored_case_of_ola(&data);
    let before = doc.get_heads();
    let mut tx = doc.transaction();
    let mut at = automerge::transaction::Transactable::put_object(
        &mut tx,
        automerge::ROOT,
        "notes",
        automerge::ObjType::Map,
    )
    .unwrap();
    for _ in 0..10_000 {
        at = automerge::transaction::Transactable::put_object(
            &mut tx,
            &at,
            "x",
            automerge::ObjType::Map,
        )
        .unwrap();
    }
    tx.commit();
    let poison = doc.save_after(&before);
    db.write(|tx| docs::append_chunk(tx, &id, &poison)).unwrap();
    drop(db);

    let (ok, stdout, _) = peerlog(&data, &["check", "--json"]);
    assert!(!ok, "check must fail on a damaged case");
    let report: Value = serde_json::from_str(&stdout).expect("check prints its report");
    let problems = report["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(problems[0]["doc"], id.to_string());
    assert!(
        problems[0]["problem"].as_str().unwrap().contains("deeper"),
        "{report}"
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let relay = common::start_relay(&data).await;
        let health = common::raw(
            relay.addr,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into(),
        )
        .await;
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    });
}

/// Even when a document says otherwise (written here straight to storage, as if the door
/// check were off), the dashboard's projections take team, PRW and status from the case table.
#[test]
fn projections_take_prw_team_and_status_from_the_case_table() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ola, ingrid) = organisation(&data);
    let (id, db, mut doc) = stored_case_of_ola(&data);
    let team = doc
        .get(automerge::ROOT, "team")
        .unwrap()
        .unwrap()
        .0
        .into_string()
        .unwrap();
    let before = doc.get_heads();
    let mut tx = doc.transaction();
    automerge::transaction::Transactable::put(&mut tx, automerge::ROOT, "prw", ingrid.as_str())
        .unwrap();
    automerge::transaction::Transactable::put(&mut tx, automerge::ROOT, "status", "closed")
        .unwrap();
    automerge::transaction::Transactable::put(&mut tx, automerge::ROOT, "team", "t-elsewhere")
        .unwrap();
    tx.commit();
    db.write(|tx| docs::append_chunk(tx, &id, &doc.save_after(&before)))
        .unwrap();

    let stored = CaseDoc::load(
        id,
        &db.read(|tx| docs::load(tx, &id)).unwrap().unwrap(),
        ActorId::random(),
    )
    .unwrap()
    .read()
    .unwrap();
    assert_eq!(stored.prw.as_str(), ingrid, "the document was rewritten");
    let projections = peerlog_server::dashboard::projection::Projections::default();
    let seen = projections.get_many(&db, &[id]).unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].prw.as_str(), ola);
    assert_eq!(seen[0].team.as_str(), team);
    assert_eq!(seen[0].status, CaseStatus::Active);
}
