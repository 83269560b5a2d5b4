//! A real relay on 127.0.0.1:0: HTTP over a socket, the WebSocket upgrade with `?token=`, and
//! changes made by the admin CLI in another process reaching the running server (directory
//! refresh after closing a case; revocation refusing the next token with a wipe order).

mod common;

use common::{cli, post_socket as post, raw, token_for};

use std::time::Duration;

use automerge::Automerge;
use peerlog_server::auth::crypto::DeviceKeyPair;
use peerlog_server::auth::secrets;
use peerlog_server::auth::service::issue_enrolment_code;
use peerlog_server::cases::directory;
use peerlog_server::config::Config;
use peerlog_server::db::{docs, identity};
use peerlog_server::serve::Relay;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_relay_serves_and_follows_cli_changes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = Config {
        data: data.clone(),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    };
    let relay = Relay::start(config, false).await.unwrap();
    assert!(relay.started.admin_setup_code.is_some());
    let state = relay.state.clone();
    let listener = relay.bind().await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(relay.serve(listener, async {
        let _ = stop_rx.await;
    }));

    let health = raw(
        addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into(),
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    // The CLI works on the live database: a team, a PRW and a case.
    let data_c = data.clone();
    tokio::task::spawn_blocking(move || {
        cli(&data_c, &["admin", "team", "add", "North"]);
        cli(
            &data_c,
            &[
                "admin", "user", "add", "ola", "--role", "prw", "--team", "North",
            ],
        );
    })
    .await
    .unwrap();
    let code = issue_enrolment_code(&state.db, "ola", peerlog_server::clock::now_ms(), 60_000)
        .unwrap()
        .unwrap()
        .0;
    let key = DeviceKeyPair::generate().unwrap();
    let (status, enrolled) = post(
        addr,
        "/api/v1/enrol",
        json!({"code": code, "publicKey": secrets::encode_base64(&key.public_key())}),
    )
    .await;
    assert_eq!(status, 200, "{enrolled}");
    let device = enrolled["deviceId"].as_str().unwrap().to_owned();
    let (status, token) = token_for(addr, &device, &key).await;
    assert_eq!(status, 200, "{token}");
    let token = token["token"].as_str().unwrap().to_owned();

    let upgrade = |token: &str| {
        format!(
            "GET /sync?token={token} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
    };
    let ok = raw(addr, upgrade(&token)).await;
    assert!(ok.starts_with("HTTP/1.1 101"), "{ok}");
    let refused = raw(addr, upgrade("bogus")).await;
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");

    let data_c = data.clone();
    let case_id = tokio::task::spawn_blocking(move || {
        let opened = cli(
            &data_c,
            &["admin", "case", "open", "--prw", "ola", "--alias", "Trane"],
        );
        let id = opened["caseId"].as_str().unwrap().to_owned();
        cli(
            &data_c,
            &["admin", "case", "close", &id, "--reason", "finished"],
        );
        id
    })
    .await
    .unwrap();

    // Within a few polls the server refreshed the PRW's directory from the CLI's change.
    let directory_doc = state
        .db
        .read(|tx| identity::find_user(tx, "ola"))
        .unwrap()
        .unwrap()
        .directory_doc;
    let mut status = Value::Null;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(bytes) = state.db.read(|tx| docs::load(tx, &directory_doc)).unwrap() {
            status =
                directory::to_json(&Automerge::load(&bytes).unwrap())["cases"][&case_id]["status"]
                    .clone();
            if status == "closed" {
                break;
            }
        }
    }
    assert_eq!(status, "closed");

    // Revocation by the CLI: the next token request gets the wipe order.
    let data_c = data.clone();
    let dev = device.clone();
    tokio::task::spawn_blocking(move || cli(&data_c, &["admin", "device", "revoke", &dev]))
        .await
        .unwrap();
    let (status, body) = token_for(addr, &device, &key).await;
    assert_eq!(status, 403);
    assert_eq!(body["wipe"], true);

    let metrics = raw(
        addr,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into(),
    )
    .await;
    assert!(
        metrics.contains("peerlog_auth_failures_total{step=\"revoked\"} 1"),
        "{metrics}"
    );

    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("graceful shutdown finishes")
        .unwrap()
        .unwrap();
}
