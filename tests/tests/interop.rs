//! Conformance with the stock JS client: `@automerge/automerge-repo` 2.5.x with its WebSocket
//! adapter (tests/interop, Node 20) syncs case documents through the relay's sync engine.
//!
//! Needs `npm install` in tests/interop. Without node_modules the test is skipped with a message,
//! unless `PEERLOG_REQUIRE_NODE` is set (CI sets it), in which case it fails.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use automerge::{ObjType, ROOT, ReadDoc};
use peerlog_core::ids::CaseId;
use peerlog_core::protocol::Message;
use peerlog_server::sync::SyncConfig;
use peerlog_server::sync::ports::{Access, Role};
use peerlog_tests::device::{LiveRelay, TestDevice, wall_ms};
use peerlog_tests::relay_harness::{Relay, principal};

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// The npm project, or `None` (skip) when it is not installed and not required.
fn node_project() -> Option<PathBuf> {
    let dir = interop_dir();
    let installed = dir
        .join("node_modules/@automerge/automerge-repo/package.json")
        .exists();
    if installed {
        return Some(dir);
    }
    if std::env::var_os("PEERLOG_REQUIRE_NODE").is_some() {
        panic!(
            "PEERLOG_REQUIRE_NODE is set but {} has no node_modules: run `npm install` there",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: JS interop test needs `npm install` in {} (set PEERLOG_REQUIRE_NODE=1 to make this an error)",
        dir.display()
    );
    None
}

/// Runs one client action; returns its JSON line.
async fn run_client(dir: &Path, args: Obj) -> String {
    let child = tokio::process::Command::new("node")
        .arg("client.mjs")
        .arg(args.render())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let output = tokio::time::timeout(Duration::from_secs(40), child.wait_with_output())
        .await
        .expect("the JS client finished in time")
        .expect("the JS client ran");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if stdout.trim().is_empty() {
        panic!(
            "the JS client printed nothing; stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    stdout
}

/// The client's JSON argument, built field by field.
struct Obj(serde_json::Map<String, serde_json::Value>);

impl Obj {
    fn new() -> Self {
        Self(serde_json::Map::new())
    }
    fn s(mut self, k: &str, v: &str) -> Self {
        self.0.insert(k.to_owned(), v.into());
        self
    }
    fn n(mut self, k: &str, v: u64) -> Self {
        self.0.insert(k.to_owned(), v.into());
        self
    }
    fn render(&self) -> String {
        serde_json::Value::Object(self.0.clone()).to_string()
    }
}

fn outcome(json: &str) -> &str {
    let at = json.find("\"outcome\":\"").expect("an outcome") + 11;
    let rest = &json[at..];
    &rest[..rest.find('"').expect("closing quote")]
}

fn contact_note(am: &automerge::Automerge, contact: &str) -> Option<String> {
    let (_, contacts) = am.get(ROOT, "contacts").ok()??;
    let (_, c) = am.get(&contacts, contact).ok()??;
    let (note, note_id) = am.get(&c, "note").ok()??;
    match note {
        automerge::Value::Scalar(s) => Some(s.to_string()),
        automerge::Value::Object(ObjType::Text) => am.text(&note_id).ok(),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_js_clients_sync_cases_through_the_relay() {
    let Some(dir) = node_project() else { return };
    let relay = Relay::start(SyncConfig::default()).await;
    let case: CaseId = CaseId::from_bytes(*b"peerlog-case-001");
    let foreign: CaseId = CaseId::from_bytes(*b"peerlog-case-002");
    relay.seed_case(case, "assigned").await;
    relay.seed_case(foreign, "someone else's").await;

    let prw = principal("prw-ola", Role::Prw, "ola-phone");
    let coordinator = principal("coord-kari", Role::Coordinator, "kari-laptop");
    relay.grants.grant(&prw, case, Access::ReadWrite);
    relay.grants.grant(&coordinator, case, Access::Read);
    let prw_url = relay.url_with_token(&relay.token_for(&prw));
    let coord_url = relay.url_with_token(&relay.token_for(&coordinator));
    let base = || {
        Obj::new()
            .s("storageId", &relay.storage_id)
            .s("contactId", "c0ffee00c0ffee00")
    };

    // The PRW's phone finds its case, logs a contact, and sees the relay's heads include it.
    let out = run_client(
        &dir,
        base()
            .s("url", &prw_url)
            .s("peerId", &prw.peer_id())
            .s("docId", &case.to_string())
            .s("action", "append")
            .s("note", "Coffee; worried about the flat viewing."),
    )
    .await;
    assert_eq!(outcome(&out), "synced", "{out}");
    let stored = relay.storage.doc(&case).expect("stored");
    assert_eq!(
        contact_note(&stored, "c0ffee00c0ffee00").as_deref(),
        Some("Coffee; worried about the flat viewing."),
        "durable on the relay before the phone counted it synced"
    );

    // The coordinator's client sees it.
    let out = run_client(
        &dir,
        base()
            .s("url", &coord_url)
            .s("peerId", &coordinator.peer_id())
            .s("docId", &case.to_string())
            .s("action", "await"),
    )
    .await;
    assert_eq!(outcome(&out), "seen", "{out}");
    assert!(out.contains("flat viewing"), "{out}");

    // The coordinator may read but not write.
    let out = run_client(
        &dir,
        base()
            .s("url", &coord_url)
            .s("peerId", &coordinator.peer_id())
            .s("docId", &case.to_string())
            .s("action", "write"),
    )
    .await;
    assert_eq!(outcome(&out), "written", "{out}");
    let stored = relay.storage.doc(&case).expect("stored");
    let (title, _) = stored.get(ROOT, "title").unwrap().unwrap();
    assert_eq!(
        title.into_string().ok().as_deref(),
        Some("assigned"),
        "a reader's write is ignored"
    );

    // A foreign case: unavailable, exactly like an id that does not exist.
    for doc in [foreign, CaseId::from_bytes(*b"peerlog-case-404")] {
        let out = run_client(
            &dir,
            base()
                .s("url", &prw_url)
                .s("peerId", &prw.peer_id())
                .s("docId", &doc.to_string())
                .s("action", "find"),
        )
        .await;
        assert_eq!(outcome(&out), "unavailable", "{out}");
    }
    assert!(
        relay
            .storage
            .doc(&CaseId::from_bytes(*b"peerlog-case-404"))
            .is_none(),
        "asking does not create"
    );

    // No token, a bad token, and a good token with someone else's peer id: nothing.
    let connections_before = relay.service.metrics().connections_total;
    for url in [relay.url(), relay.url_with_token("not-a-token")] {
        let out = run_client(
            &dir,
            base()
                .s("url", &url)
                .s("peerId", &prw.peer_id())
                .s("docId", &case.to_string())
                .s("action", "find")
                .n("timeoutMs", 6000),
        )
        .await;
        assert!(
            matches!(outcome(&out), "refused" | "unavailable" | "timeout"),
            "{out}"
        );
    }
    assert_eq!(
        relay.service.metrics().connections_total,
        connections_before,
        "refused before the upgrade"
    );
    let out = run_client(
        &dir,
        base()
            .s("url", &prw_url)
            .s("peerId", "device-someone-else")
            .s("docId", &case.to_string())
            .s("action", "find")
            .n("timeoutMs", 6000),
    )
    .await;
    assert!(matches!(outcome(&out), "unavailable" | "timeout"), "{out}");
}

/// The committed codec fixtures stay what the current JS client sends: capture again, decode all.
#[tokio::test]
async fn frames_of_the_current_js_client_decode() {
    let Some(dir) = node_project() else { return };
    let child = tokio::process::Command::new("node")
        .arg("capture.mjs")
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("capture finished in time")
        .expect("capture ran");
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).expect("utf8");
    let mut types = Vec::new();
    for line in text.lines() {
        let (ty, hex) = line.split_once(' ').expect("type and hex");
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
            .collect();
        let m = Message::decode(&bytes).unwrap_or_else(|e| panic!("{ty}: {e}"));
        assert_eq!(m.type_name(), ty);
        types.push(ty.to_owned());
    }
    for ty in ["join", "sync", "request", "ephemeral"] {
        assert!(types.iter().any(|t| t == ty), "no {ty} frame captured");
    }
}

/// The stock client as a PRW's phone against the real relay (door check on): a contact written
/// the JavaScript way (every string as Automerge Text) is kept, read by the relay as the case
/// schema says, and an attempt to rewrite the case's PRW is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_relay_keeps_a_stock_clients_contact_and_refuses_its_rewrite_of_the_prw() {
    let Some(dir) = node_project() else { return };
    let relay = LiveRelay::start().await;
    let devices = tempfile::tempdir().unwrap();
    relay.admin(&["team", "add", "North"]).await;
    relay
        .admin(&["user", "add", "ola", "--role", "prw", "--team", "North"])
        .await;
    let case: CaseId = relay
        .admin(&[
            "case", "open", "--prw", "ola", "--alias", "Fjellrev", "--team", "North",
        ])
        .await["caseId"]
        .as_str()
        .expect("case id")
        .parse()
        .expect("case id parses");
    let mut phone = TestDevice::enrol(&relay, devices.path(), "ola", "ola-js", 3).await;
    let token = phone
        .syncer
        .token(phone.cases.store(), wall_ms())
        .await
        .expect("token");
    let storage_id = relay
        .state
        .db
        .write(|tx| {
            peerlog_server::db::org::storage_id(tx, peerlog_server::sync::random_storage_id)
        })
        .expect("storage id");
    let base = Obj::new()
        .s("url", &format!("ws://{}/sync?token={token}", relay.addr))
        .s("peerId", &format!("device-{}", phone.enrolment().device_id))
        .s("storageId", &storage_id)
        .s("docId", &case.to_string())
        .s("contactId", "c0ffee00c0ffee00");

    let out = run_client(
        &dir,
        Obj(base.0.clone())
            .s("action", "log-contact")
            .s("note", "Coffee; worried about the flat viewing."),
    )
    .await;
    assert_eq!(outcome(&out), "synced", "{out}");
    let stored = peerlog_core::CaseDoc::from_automerge(case, relay.doc(&case).expect("stored"))
        .expect("a case")
        .read()
        .expect("reads");
    let contact = stored
        .contacts
        .values()
        .next()
        .expect("the JS client's contact is kept and reads");
    assert_eq!(contact.note, "Coffee; worried about the flat viewing.");
    assert_eq!(contact.minutes, 30);

    let refused_before = relay.state.engine.metrics().changes_refused;
    let out = run_client(
        &dir,
        Obj(base.0.clone())
            .s("action", "write-prw")
            .n("timeoutMs", 8000),
    )
    .await;
    assert_eq!(outcome(&out), "refused-changes", "{out}");
    assert!(out.contains("relay only"), "{out}");
    assert_eq!(
        relay.state.engine.metrics().changes_refused,
        refused_before + 1
    );
    let after = peerlog_core::CaseDoc::from_automerge(case, relay.doc(&case).unwrap())
        .unwrap()
        .read()
        .unwrap();
    assert_eq!(after.prw, stored.prw, "the PRW stays as the relay set it");
    relay.stop().await;
}
