//! Direct TLS: `peerlog serve --tls-cert --tls-key` serves HTTPS and WSS on one port — health,
//! enrolment, token and a sync handshake over TLS with a certificate the client trusts — refuses
//! plain HTTP on that port, and refuses to start with a broken certificate.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use peerlog_core::protocol::{Join, Message, PeerId, PeerMetadata};
use peerlog_server::auth::crypto::DeviceKeyPair;
use peerlog_server::auth::secrets;
use peerlog_server::auth::service::issue_enrolment_code;
use peerlog_server::config::Config;
use peerlog_server::serve::{Relay, ServeError};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Frame;

struct Pki {
    cert: PathBuf,
    key: PathBuf,
    client: Arc<rustls::ClientConfig>,
}

fn pki(dir: &std::path::Path) -> Pki {
    let issued = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, issued.cert.pem()).unwrap();
    std::fs::write(&key, issued.signing_key.serialize_pem()).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(issued.cert.der().to_vec()))
        .unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    Pki {
        cert,
        key,
        client: Arc::new(client),
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, request: &str) -> String {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

async fn https(addr: SocketAddr, client: &Arc<rustls::ClientConfig>, request: &str) -> String {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(client.clone())
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    exchange(tls, request).await
}

async fn https_post(
    addr: SocketAddr,
    client: &Arc<rustls::ClientConfig>,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let body = body.to_string();
    let response = https(
        addr,
        client,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    common::status_and_json(&response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_and_wss_and_refuses_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let data = dir.path().join("data");
    let config = Config {
        data: data.clone(),
        listen: "127.0.0.1:0".parse().unwrap(),
        tls_cert: Some(pki.cert.clone()),
        tls_key: Some(pki.key.clone()),
        ..Config::default()
    };
    let relay = Relay::start(config, false).await.unwrap();
    let state = relay.state.clone();
    let listener = relay.bind().await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(relay.serve(listener, async {
        let _ = stop_rx.await;
    }));

    let health = https(
        addr,
        &pki.client,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(
        health
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "HSTS when serving TLS: {health}"
    );

    // Dashboard cookies are Secure over TLS (the form cookie is set before sign-in).
    let login = https(
        addr,
        &pki.client,
        "GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    let cookie = login
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie on the sign-in page: {login}"));
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );

    let plain = exchange(
        TcpStream::connect(addr).await.unwrap(),
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        !plain.contains("200 OK"),
        "plain HTTP was answered: {plain}"
    );

    // Enrol, get a token, and open a sync session — all over TLS.
    let data_c = data.clone();
    tokio::task::spawn_blocking(move || {
        common::cli(&data_c, &["admin", "team", "add", "North"]);
        common::cli(
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
    let (status, enrolled) = https_post(
        addr,
        &pki.client,
        "/api/v1/enrol",
        json!({"code": code, "publicKey": secrets::encode_base64(&key.public_key())}),
    )
    .await;
    assert_eq!(status, 200, "{enrolled}");
    let device = enrolled["deviceId"].as_str().unwrap().to_owned();
    let peer_id = enrolled["peerId"].as_str().unwrap().to_owned();
    let (status, challenge) = https_post(
        addr,
        &pki.client,
        "/api/v1/token/challenge",
        json!({"deviceId": device}),
    )
    .await;
    assert_eq!(status, 200, "{challenge}");
    let challenge = challenge["challenge"].as_str().unwrap();
    let signature = key.sign(&secrets::challenge_message(
        &device.parse().unwrap(),
        challenge,
    ));
    let (status, token) = https_post(
        addr,
        &pki.client,
        "/api/v1/token",
        json!({"deviceId": device, "challenge": challenge, "signature": secrets::encode_base64(&signature)}),
    )
    .await;
    assert_eq!(status, 200, "{token}");
    let token = token["token"].as_str().unwrap();

    let tcp = TcpStream::connect(addr).await.unwrap();
    let url = format!("wss://localhost:{}/sync?token={token}", addr.port());
    let (mut ws, _) = tokio_tungstenite::client_async_tls_with_config(
        url,
        tcp,
        None,
        Some(tokio_tungstenite::Connector::Rustls(pki.client.clone())),
    )
    .await
    .unwrap();
    let join = Message::Join(Join {
        sender_id: PeerId::new(peer_id.clone()).unwrap(),
        supported_protocol_versions: vec!["1".to_owned()],
        peer_metadata: Some(PeerMetadata::default()),
    });
    ws.send(Frame::Binary(join.encode().into())).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match Message::decode(&reply.into_data()).unwrap() {
        Message::Peer(peer) => assert_eq!(peer.target_id.as_str(), peer_id),
        other => panic!("expected peer, got {}", other.type_name()),
    }
    drop(ws);

    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .expect("the TLS server stops after shutdown")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn refuses_to_serve_with_a_key_that_does_not_match() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki(dir.path());
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let wrong_key = dir.path().join("wrong.pem");
    std::fs::write(&wrong_key, other.signing_key.serialize_pem()).unwrap();
    let config = Config {
        data: dir.path().join("data"),
        listen: "127.0.0.1:0".parse().unwrap(),
        tls_cert: Some(pki.cert),
        tls_key: Some(wrong_key),
        ..Config::default()
    };
    let relay = Relay::start(config, false).await.unwrap();
    let listener = relay.bind().await.unwrap();
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        relay.serve(listener, std::future::pending()),
    )
    .await
    .expect("a broken TLS configuration stops the relay at once");
    assert!(matches!(result, Err(ServeError::Tls(_))), "{result:?}");
}
