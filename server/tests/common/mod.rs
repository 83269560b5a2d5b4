//! Shared helpers for the relay's integration tests: a relay on a temp data dir, device keys
//! that enrol and sign, JSON requests through `oneshot`.
#![allow(dead_code, unreachable_pub)]

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use peerlog_server::auth::crypto::DeviceKeyPair;
use peerlog_server::auth::secrets;
use peerlog_server::auth::service::issue_enrolment_code;
use peerlog_server::clock::now_ms;
use peerlog_server::config::Config;
use peerlog_server::db::identity;
use peerlog_server::serve::Relay;
use peerlog_server::sync::ports::Role;
use peerlog_server::web::router;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt as _;

pub mod web;

pub struct TestRelay {
    pub relay: Relay,
    pub dir: tempfile::TempDir,
}

impl TestRelay {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with a configuration adjusted by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            data: dir.path().join("data"),
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Config::default()
        };
        adjust(&mut config);
        let relay = Relay::start(config, false).await.unwrap();
        Self { relay, dir }
    }

    pub fn app(&self) -> Router {
        router::app(self.relay.state.clone())
    }

    /// Adds a team and a user of `role` in it; returns the user id.
    pub fn add_user(&self, name: &str, role: Role) -> String {
        let now = now_ms();
        self.relay
            .state
            .db
            .write(|tx| {
                let team = match identity::find_team(tx, "North")? {
                    Some(t) => t,
                    None => identity::add_team(tx, "North", now)?,
                };
                let user = identity::add_user(tx, name, role, &[team.id], now)?;
                Ok::<_, peerlog_server::db::DbError>(user.id.to_string())
            })
            .unwrap()
    }

    pub fn code_for(&self, user: &str) -> String {
        self.code_at(user, now_ms(), 15 * 60_000)
    }

    pub fn code_at(&self, user: &str, now: i64, ttl: i64) -> String {
        issue_enrolment_code(&self.relay.state.db, user, now, ttl)
            .unwrap()
            .unwrap()
            .0
    }
}

pub async fn post(app: &Router, path: &str, body: Value) -> (StatusCode, Value) {
    let response = app
        .clone()
        .oneshot(
            Request::post(path)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

pub async fn get(app: &Router, path: &str, bearer: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::get(path);
    if let Some(token) = bearer {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// A device: its key and, once enrolled, its id.
pub struct Device {
    pub key: DeviceKeyPair,
    pub id: String,
}

pub async fn enrol(app: &Router, code: &str) -> (StatusCode, Value, DeviceKeyPair) {
    let key = DeviceKeyPair::generate().unwrap();
    let (status, body) = post(
        app,
        "/api/v1/enrol",
        json!({"code": code, "publicKey": secrets::encode_base64(&key.public_key()), "deviceName": "Test phone"}),
    )
    .await;
    (status, body, key)
}

pub async fn enrolled(app: &Router, code: &str) -> Device {
    let (status, body, key) = enrol(app, code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Device {
        key,
        id: body["deviceId"].as_str().unwrap().to_owned(),
    }
}

/// Runs the challenge/token exchange; returns the token response.
pub async fn token(app: &Router, device: &Device) -> (StatusCode, Value) {
    let (status, body) = post(
        app,
        "/api/v1/token/challenge",
        json!({"deviceId": device.id}),
    )
    .await;
    if status != StatusCode::OK {
        return (status, body);
    }
    let challenge = body["challenge"].as_str().unwrap().to_owned();
    let signature = device.key.sign(&secrets::challenge_message(
        &device.id.parse().unwrap(),
        &challenge,
    ));
    post(
        app,
        "/api/v1/token",
        json!({"deviceId": device.id, "challenge": challenge, "signature": secrets::encode_base64(&signature)}),
    )
    .await
}

// --- A relay over a real socket (HTTP/1.1 by hand, the CLI as a child process). ---

pub async fn raw(addr: std::net::SocketAddr, request: String) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    loop {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
        match read {
            Ok(Ok(0)) | Err(_) => break,
            Ok(Ok(n)) => {
                out.extend_from_slice(&buf[..n]);
                if out.starts_with(b"HTTP/1.1 101") {
                    break;
                }
            }
            Ok(Err(_)) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub async fn post_socket(addr: std::net::SocketAddr, path: &str, body: Value) -> (u16, Value) {
    let body = body.to_string();
    let response = raw(
        addr,
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    status_and_json(&response)
}

/// The status code and JSON body (`Null` if none) of a raw HTTP/1.1 response.
pub fn status_and_json(response: &str) -> (u16, Value) {
    let status = response[9..12].parse().unwrap();
    let json = response
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

pub fn cli(data: &Path, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_peerlog"))
        .args(args)
        .args(["--json", "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub async fn token_for(
    addr: std::net::SocketAddr,
    device: &str,
    key: &DeviceKeyPair,
) -> (u16, Value) {
    let (status, body) =
        post_socket(addr, "/api/v1/token/challenge", json!({"deviceId": device})).await;
    if status != 200 {
        return (status, body);
    }
    let challenge = body["challenge"].as_str().unwrap();
    let sig = key.sign(&secrets::challenge_message(
        &device.parse().unwrap(),
        challenge,
    ));
    post_socket(
        addr,
        "/api/v1/token",
        json!({"deviceId": device, "challenge": challenge, "signature": secrets::encode_base64(&sig)}),
    )
    .await
}

// --- The relay binary as a child process. ---

/// The relay as a child process, killed (SIGKILL) when dropped.
pub struct RelayProcess {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn start_relay(data: &Path) -> RelayProcess {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_peerlog"))
        .args(["serve", "--listen", &addr.to_string(), "--data"])
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let relay = RelayProcess { child, addr };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            let health = raw(
                addr,
                "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into(),
            )
            .await;
            if health.starts_with("HTTP/1.1 200") {
                return relay;
            }
        }
        assert!(Instant::now() < deadline, "the relay did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
