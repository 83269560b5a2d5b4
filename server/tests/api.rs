//! Router tests through `oneshot`: health, metrics, enrolment, tokens, revocation, rate limits.

mod common;

use axum::http::StatusCode;
use common::{TestRelay, enrol, enrolled, get, post, token};
use peerlog_server::auth::secrets;
use peerlog_server::clock::now_ms;
use peerlog_server::db::identity;
use peerlog_server::sync::ports::Role;
use serde_json::json;

#[tokio::test]
async fn healthz_and_metrics_answer() {
    let relay = TestRelay::start().await;
    let app = relay.app();
    let (status, body) = get(&app, "/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, r#"{"status":"ok"}"#);
    let (status, body) = get(&app, "/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("peerlog_sync_connections 0"));
    assert!(body.contains("peerlog_auth_failures_total{step=\"token\"} 0"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    use tower::ServiceExt;
    let relay = TestRelay::start().await;
    for (path, expected) in [("/healthz", 200), ("/api/v1/no-such-route", 404)] {
        let response = relay
            .app()
            .oneshot(
                axum::http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected, "{path}");
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .starts_with("default-src 'none'"),
            "{path}"
        );
        assert!(
            !headers.contains_key("strict-transport-security"),
            "plain HTTP"
        );
    }
}

#[tokio::test]
async fn enrol_token_and_sync_happy_path() {
    let relay = TestRelay::start().await;
    let app = relay.app();
    let user = relay.add_user("kari", Role::Prw);
    let code = relay.code_for(&user);
    let (status, body, key) = enrol(&app, &code.to_lowercase()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let device_id = body["deviceId"].as_str().unwrap().to_owned();
    assert_eq!(body["userId"], user.as_str());
    assert_eq!(body["role"], "prw");
    assert_eq!(body["peerId"], format!("device-{device_id}"));
    let dir: peerlog_core::ids::CaseId = body["directoryDocId"].as_str().unwrap().parse().unwrap();
    let _ = dir;

    let device = common::Device { key, id: device_id };
    let (status, body) = token(&app, &device).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tok = body["token"].as_str().unwrap().to_owned();
    assert!(body["expiresAt"].as_i64().unwrap() > now_ms() + 50 * 60_000);

    // Authenticated but not a WebSocket upgrade: past the extractor, refused by the upgrade.
    let (status, _) = get(&app, "/sync", Some(&tok)).await;
    assert_ne!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = get(&app, "/sync", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"code\":\"unauthorized\""));
    let (status, _) = get(&app, "/sync", Some("not-a-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn expired_and_reused_codes_are_refused_alike() {
    let relay = TestRelay::start().await;
    let app = relay.app();
    let user = relay.add_user("kari", Role::Prw);
    let expired = relay.code_at(&user, now_ms() - 20 * 60_000, 15 * 60_000);
    let (status, body, _) = enrol(&app, &expired).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "invalid_code");

    let code = relay.code_for(&user);
    enrolled(&app, &code).await;
    let (status, body, _) = enrol(&app, &code).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "invalid_code");

    let (status, body, _) = enrol(&app, "AAAA-BBBB-CCCC").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "invalid_code");

    // A bad public key and a malformed body get clear errors that echo nothing.
    let (status, body) = post(
        &app,
        "/api/v1/enrol",
        json!({"code": relay.code_for(&user), "publicKey": "c2hvcnQ="}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "publicKey");
    let (status, body) = post(&app, "/api/v1/enrol", json!({"nonsense": "secret-value"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "bad_request");
    assert!(!body.to_string().contains("secret-value"));
}

#[tokio::test]
async fn a_bad_signature_gets_no_token_and_burns_the_challenge() {
    let relay = TestRelay::start().await;
    let app = relay.app();
    let user = relay.add_user("kari", Role::Prw);
    let device = enrolled(&app, &relay.code_for(&user)).await;
    let (_, body) = post(
        &app,
        "/api/v1/token/challenge",
        json!({"deviceId": device.id}),
    )
    .await;
    let challenge = body["challenge"].as_str().unwrap().to_owned();

    let other = peerlog_server::auth::crypto::DeviceKeyPair::generate().unwrap();
    let forged = other.sign(&secrets::challenge_message(
        &device.id.parse().unwrap(),
        &challenge,
    ));
    let (status, body) = post(
        &app,
        "/api/v1/token",
        json!({"deviceId": device.id, "challenge": challenge, "signature": secrets::encode_base64(&forged)}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "invalid_signature");

    // The right signature on the now-used challenge fails too: single use.
    let good = device.key.sign(&secrets::challenge_message(
        &device.id.parse().unwrap(),
        &challenge,
    ));
    let (status, _) = post(
        &app,
        "/api/v1/token",
        json!({"deviceId": device.id, "challenge": challenge, "signature": secrets::encode_base64(&good)}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, metrics) = get(&app, "/metrics", None).await;
    assert!(
        metrics.contains("peerlog_auth_failures_total{step=\"token\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_revoked_device_gets_a_wipe_order_and_its_tokens_stop_working() {
    let relay = TestRelay::start().await;
    let app = relay.app();
    let user = relay.add_user("kari", Role::Prw);
    let device = enrolled(&app, &relay.code_for(&user)).await;
    let (_, body) = token(&app, &device).await;
    let tok = body["token"].as_str().unwrap().to_owned();

    relay
        .relay
        .state
        .db
        .write(|tx| identity::revoke_device(tx, &device.id.parse().unwrap(), now_ms()))
        .unwrap();

    let (status, body) = token(&app, &device).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "device_revoked");
    assert_eq!(body["wipe"], true);
    let (status, _) = get(&app, "/sync", Some(&tok)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "its tokens were deleted");
}

#[tokio::test]
async fn failed_attempts_are_rate_limited() {
    let relay = TestRelay::start().await;
    let app = relay.app();
    for _ in 0..10 {
        let (status, _) = get(&app, "/sync", Some("wrong")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = get(&app, "/sync", Some("wrong")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body.contains("rate_limited"));
    // Enrolment from the same address is limited as well.
    let (status, body, _) = enrol(&app, "AAAA-BBBB-CCCC").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
}

#[tokio::test]
async fn api_bodies_have_a_stable_shape() {
    let relay = TestRelay::start().await;
    let app = relay.app();
    let user = relay.add_user("kari", Role::Coordinator);
    let (_, body, _) = enrol(&app, &relay.code_for(&user)).await;
    let mut keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["deviceId", "directoryDocId", "peerId", "role", "userId"]
    );
    assert_eq!(body["role"], "coordinator");
}
