//! Session tests: the handshake and every way a connection earns an `error` and a close.

use std::time::{Duration, Instant};

use automerge::sync::SyncDoc;
use peerlog_core::protocol::{DocUnavailable, Ephemeral, Join, Leave, PeerMetadata, SyncMessage};

use super::*;
use crate::sync::testkit::case;

fn peer(s: &str) -> PeerId {
    PeerId::new(s).unwrap()
}

fn limits() -> Limits {
    Limits {
        max_frame_bytes: 4096,
        messages_per_sec: 10,
        burst: 20,
        max_docs: 3,
    }
}

fn session(now: Instant) -> Session {
    Session::new(
        peer("device-phone"),
        peer("relay"),
        "storage-1".into(),
        limits(),
        now,
    )
}

fn join(sender: &str, versions: &[&str]) -> Vec<u8> {
    Message::Join(Join {
        sender_id: peer(sender),
        supported_protocol_versions: versions.iter().map(|v| (*v).to_owned()).collect(),
        peer_metadata: Some(PeerMetadata {
            storage_id: None,
            is_ephemeral: true,
        }),
    })
    .encode()
}

fn sync_frame(sender: &str, target: &str, n: u8) -> Vec<u8> {
    let data = automerge::Automerge::new()
        .generate_sync_message(&mut sync::State::new())
        .unwrap()
        .encode();
    Message::Request(SyncMessage {
        sender_id: peer(sender),
        target_id: peer(target),
        document_id: case(n),
        data,
    })
    .encode()
}

fn error_text(step: &Step) -> &str {
    match step {
        Step::Close(Some(Message::Error(e))) => &e.message,
        other => panic!("expected an error and close, got {other:?}"),
    }
}

fn joined(now: Instant) -> Session {
    let mut s = session(now);
    assert!(matches!(
        s.on_frame(Frame::Binary(&join("device-phone", &["1"])), now),
        Step::Reply(_)
    ));
    s
}

#[test]
fn a_valid_join_gets_peer_with_our_storage_id() {
    let now = Instant::now();
    let mut s = session(now);
    match s.on_frame(Frame::Binary(&join("device-phone", &["0", "1"])), now) {
        Step::Reply(Message::Peer(p)) => {
            assert_eq!(p.sender_id, peer("relay"));
            assert_eq!(p.target_id, peer("device-phone"));
            assert_eq!(p.selected_protocol_version, "1");
            assert_eq!(
                p.peer_metadata,
                Some(PeerMetadata {
                    storage_id: Some("storage-1".into()),
                    is_ephemeral: false
                })
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.on_frame(Frame::Binary(&sync_frame("device-phone", "relay", 1)), now),
        Step::Sync { .. }
    ));
}

#[test]
fn handshake_violations_close_the_connection() {
    let now = Instant::now();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (join("device-phone", &["2"]), "unsupported protocol version"),
        (join("device-phone", &[]), "unsupported protocol version"),
        (
            join("device-other", &["1"]),
            "peer ID does not match the authenticated device",
        ),
        (
            sync_frame("device-phone", "relay", 1),
            "expected a join message",
        ),
        (vec![0xff, 0x00], "malformed message"),
    ];
    for (frame, expected) in cases {
        let mut s = session(now);
        assert_eq!(
            error_text(&s.on_frame(Frame::Binary(&frame), now)),
            expected
        );
    }
    let mut s = session(now);
    assert_eq!(
        error_text(&s.on_frame(Frame::Text, now)),
        "text frames are not supported; send binary CBOR"
    );
    let mut s = session(now);
    assert_eq!(
        error_text(&s.on_frame(Frame::Binary(&vec![0xa0; 5000]), now)),
        "message too large"
    );
}

#[test]
fn spoofed_ids_after_the_handshake_close_the_connection() {
    let now = Instant::now();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (sync_frame("device-other", "relay", 1), "peer ID mismatch"),
        (
            sync_frame("device-phone", "someone-else", 1),
            "target peer ID mismatch",
        ),
        (
            Message::Ephemeral(Ephemeral {
                sender_id: peer("device-other"),
                target_id: peer("relay"),
                document_id: case(1),
                count: 1,
                session_id: "s".into(),
                data: vec![1],
            })
            .encode(),
            "peer ID mismatch",
        ),
        (join("device-phone", &["1"]), "unexpected handshake message"),
    ];
    for (frame, expected) in cases {
        let mut s = joined(now);
        assert_eq!(
            error_text(&s.on_frame(Frame::Binary(&frame), now)),
            expected
        );
    }
}

#[test]
fn malformed_sync_payloads_close_the_connection() {
    let now = Instant::now();
    let mut s = joined(now);
    let frame = Message::Sync(SyncMessage {
        sender_id: peer("device-phone"),
        target_id: peer("relay"),
        document_id: case(1),
        data: vec![0x42, 0xff, 0xff],
    })
    .encode();
    assert_eq!(
        error_text(&s.on_frame(Frame::Binary(&frame), now)),
        "malformed sync message"
    );
}

#[test]
fn gossip_and_advisory_messages_are_ignored() {
    let now = Instant::now();
    let mut s = joined(now);
    for m in [
        Message::Leave(Leave {
            sender_id: peer("device-phone"),
        }),
        Message::DocUnavailable(DocUnavailable {
            sender_id: peer("device-phone"),
            target_id: peer("relay"),
            document_id: case(1),
        }),
    ] {
        assert!(matches!(
            s.on_frame(Frame::Binary(&m.encode()), now),
            Step::Ignore
        ));
    }
}

#[test]
fn a_flood_is_cut_off_and_a_steady_rate_is_not() {
    let start = Instant::now();
    let mut s = joined(start);
    let frame = sync_frame("device-phone", "relay", 1);
    // Ten a second for five seconds is fine (rate 10/s, burst 20).
    for i in 0..50u32 {
        let now = start + Duration::from_millis(100 * u64::from(i + 1));
        assert!(matches!(
            s.on_frame(Frame::Binary(&frame), now),
            Step::Sync { .. }
        ));
    }
    // Then 40 at once: the burst runs out.
    let now = start + Duration::from_secs(6);
    let steps: Vec<Step> = (0..40)
        .map(|_| s.on_frame(Frame::Binary(&frame), now))
        .collect();
    assert_eq!(
        error_text(steps.last().unwrap()),
        "message rate limit exceeded"
    );
}

#[test]
fn too_many_documents_on_one_connection_close_it() {
    let now = Instant::now();
    let mut s = joined(now);
    for n in 1..=3 {
        assert!(matches!(
            s.on_frame(Frame::Binary(&sync_frame("device-phone", "relay", n)), now),
            Step::Sync { .. }
        ));
    }
    // The same documents again are fine; a fourth is not.
    assert!(matches!(
        s.on_frame(Frame::Binary(&sync_frame("device-phone", "relay", 2)), now),
        Step::Sync { .. }
    ));
    assert_eq!(
        error_text(&s.on_frame(Frame::Binary(&sync_frame("device-phone", "relay", 4)), now)),
        "too many documents on one connection"
    );
}
