//! Hostile input against the relay's sync endpoint over real sockets: every violation gets an
//! `error` (where the protocol allows one) and a closed connection, while a well-behaved client
//! on the same relay keeps syncing.

use std::time::Duration;

use automerge::sync;
use automerge::transaction::Transactable;
use automerge::{Automerge, ROOT};
use peerlog_core::ids::CaseId;
use peerlog_core::protocol::{Join, Message, PeerId, PeerMetadata};
use peerlog_server::sync::SyncConfig;
use peerlog_server::sync::ports::{Access, Principal, Role};
use peerlog_tests::relay_harness::{RawClient, Received, Relay, principal, relay_heads};
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[allow(non_snake_case)]
fn CASE() -> CaseId {
    CaseId::from_bytes(*b"hostile-case-001")
}

#[allow(non_snake_case)]
fn FOREIGN() -> CaseId {
    CaseId::from_bytes(*b"hostile-case-002")
}

async fn relay() -> (Relay, Principal, String) {
    let relay = Relay::start(SyncConfig {
        max_frame_bytes: 64 * 1024,
        max_messages_per_sec: 50,
        message_burst: 100,
        ..SyncConfig::default()
    })
    .await;
    for (doc, title) in [(CASE(), "mine"), (FOREIGN(), "theirs")] {
        relay
            .write(doc, move |am| {
                am.transact::<_, _, automerge::AutomergeError>(|tx| {
                    tx.put(ROOT, "title", title)?;
                    Ok(())
                })
                .expect("seed");
            })
            .await;
    }
    let prw = principal("prw-1", Role::Prw, "phone-1");
    relay.grants.grant(&prw, CASE(), Access::ReadWrite);
    let url = relay.url_with_token(&relay.token_for(&prw));
    (relay, prw, url)
}

/// A well-behaved client that edits the case and checks the relay stored it.
async fn good_client_round_trip(relay: &Relay, url: &str, peer: &str, key: &str) {
    let mut c = RawClient::joined(url, peer).await;
    let mut am = Automerge::new();
    let mut state = sync::State::new();
    assert!(c.sync_doc(CASE(), &mut am, &mut state).await);
    am.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(ROOT, key, "ok")?;
        Ok(())
    })
    .expect("edit");
    assert!(c.sync_doc(CASE(), &mut am, &mut state).await);
    assert_eq!(state.shared_heads, am.get_heads(), "the relay acknowledged");
    assert_eq!(relay_heads(relay, CASE()).await, am.get_heads());
}

fn join(peer: &str, versions: &[&str]) -> Message {
    Message::Join(Join {
        sender_id: PeerId::new(peer).expect("peer"),
        supported_protocol_versions: versions.iter().map(|v| (*v).to_owned()).collect(),
        peer_metadata: Some(PeerMetadata::default()),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_violation_closes_only_its_own_connection() {
    let (relay, prw, url) = relay().await;
    let me = prw.peer_id();

    // A well-behaved phone of the same user stays connected throughout.
    let good = principal("prw-1", Role::Prw, "phone-2");
    relay.grants.grant(&good, CASE(), Access::ReadWrite);
    let good_url = relay.url_with_token(&relay.token_for(&good));
    let mut steady = RawClient::joined(&good_url, &good.peer_id()).await;
    let mut steady_doc = Automerge::new();
    let mut steady_state = sync::State::new();
    assert!(
        steady
            .sync_doc(CASE(), &mut steady_doc, &mut steady_state)
            .await
    );

    // Text frame.
    let mut c = RawClient::connect(&url, &me).await.expect("connect");
    c.send_raw(WsMessage::Text("{\"type\":\"join\"}".into()))
        .await;
    assert!(
        c.expect_error_and_close()
            .await
            .unwrap()
            .contains("text frames")
    );

    // Garbage CBOR.
    let mut c = RawClient::connect(&url, &me).await.expect("connect");
    c.send_raw(WsMessage::Binary(vec![0xbf, 0x61, 0x00].into()))
        .await;
    assert_eq!(
        c.expect_error_and_close().await.as_deref(),
        Some("malformed message")
    );

    // Wrong protocol version.
    let mut c = RawClient::connect(&url, &me).await.expect("connect");
    c.send(&join(&me, &["2"])).await;
    assert_eq!(
        c.expect_error_and_close().await.as_deref(),
        Some("unsupported protocol version")
    );

    // Somebody else's peer id in join.
    let mut c = RawClient::connect(&url, &me).await.expect("connect");
    c.send(&join("device-phone-2", &["1"])).await;
    assert!(
        c.expect_error_and_close()
            .await
            .unwrap()
            .contains("peer ID")
    );

    // Spoofed sender after the handshake.
    let mut c = RawClient::joined(&url, &me).await;
    c.peer_id = PeerId::new("device-phone-2").expect("peer");
    let data = empty_sync_data();
    let m = c.sync_message(CASE(), data.clone(), true);
    c.send(&m).await;
    assert_eq!(
        c.expect_error_and_close().await.as_deref(),
        Some("peer ID mismatch")
    );

    // Oversized frame (the limit here is 64 KiB).
    let mut c = RawClient::joined(&url, &me).await;
    c.send_raw(WsMessage::Binary(vec![0u8; 200 * 1024].into()))
        .await;
    let _ = c.expect_error_and_close().await;

    // A foreign document: doc-unavailable, connection stays usable.
    let mut c = RawClient::joined(&url, &me).await;
    let m = c.sync_message(FOREIGN(), data.clone(), true);
    c.send(&m).await;
    match c.recv().await {
        Received::Message(Message::DocUnavailable(d)) => assert_eq!(d.document_id, FOREIGN()),
        other => panic!("expected doc-unavailable, got {other:?}"),
    }
    let m = c.sync_message(CASE(), data.clone(), true);
    c.send(&m).await;
    assert!(matches!(
        c.recv().await,
        Received::Message(Message::Sync(_))
    ));

    // A flood: far beyond 50/s with a burst of 100.
    let mut c = RawClient::joined(&url, &me).await;
    let m = c.sync_message(CASE(), data.clone(), false);
    for _ in 0..400 {
        c.send(&m).await;
    }
    let error = c.expect_error_and_close().await;
    assert_eq!(error.as_deref(), Some("message rate limit exceeded"));

    // The well-behaved client never noticed.
    steady_doc
        .transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "contact", "still here")?;
            Ok(())
        })
        .expect("edit");
    assert!(
        steady
            .sync_doc(CASE(), &mut steady_doc, &mut steady_state)
            .await
    );
    assert_eq!(relay_heads(&relay, CASE()).await, steady_doc.get_heads());
    good_client_round_trip(&relay, &url, &me, "after-attacks").await;
    assert!(relay.service.metrics().connections_refused >= 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_a_bad_token_is_refused_before_the_upgrade() {
    let (relay, prw, _) = relay().await;
    assert!(
        RawClient::connect(&relay.url(), &prw.peer_id())
            .await
            .is_err()
    );
    assert!(
        RawClient::connect(&relay.url_with_token("forged"), &prw.peer_id())
            .await
            .is_err()
    );
    assert_eq!(relay.service.metrics().connections_total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_device_closes_its_sockets_at_once() {
    let (relay, prw, url) = relay().await;
    let mut c = RawClient::joined(&url, &prw.peer_id()).await;
    relay.service.disconnect_device(&prw.device);
    assert_eq!(
        c.recv_within(Duration::from_secs(2)).await,
        Received::Closed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reassignment_takes_effect_on_an_open_connection() {
    let (relay, prw, url) = relay().await;
    let mut c = RawClient::joined(&url, &prw.peer_id()).await;
    let mut am = Automerge::new();
    let mut state = sync::State::new();
    assert!(c.sync_doc(CASE(), &mut am, &mut state).await);

    relay.grants.grant(&prw, CASE(), Access::None);
    relay.service.access_changed();
    match c.recv().await {
        Received::Message(Message::DocUnavailable(d)) => assert_eq!(d.document_id, CASE()),
        other => panic!("expected doc-unavailable, got {other:?}"),
    }
    am.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(ROOT, "late", "write")?;
        Ok(())
    })
    .expect("edit");
    assert!(!c.sync_doc(CASE(), &mut am, &mut state).await, "refused");
    assert_ne!(relay_heads(&relay, CASE()).await, am.get_heads());
}

fn empty_sync_data() -> Vec<u8> {
    use automerge::sync::SyncDoc;
    Automerge::new()
        .generate_sync_message(&mut sync::State::new())
        .expect("a first message")
        .encode()
}
