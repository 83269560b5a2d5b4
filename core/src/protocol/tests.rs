//! Protocol codec tests: round trips, what the JS client writes, and garbage that must fail cleanly.

use proptest::prelude::*;

use super::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn peer(s: &str) -> PeerId {
    PeerId::new(s).unwrap()
}

fn doc() -> CaseId {
    "4Mq4E7JPY1ddRvm6PPi9qoavxeUH".parse().unwrap()
}

/// Frames captured from `@automerge/automerge-repo` 2.5.6 + `-network-websocket` 2.5.6 on Node 20
/// by `tests/interop/capture.mjs` (one hex frame per line, first word the message type).
const JS_FRAMES: &str = include_str!("fixtures/js-client-frames.hex");

#[test]
fn every_frame_the_js_client_sent_decodes() {
    let mut seen = std::collections::BTreeSet::new();
    for line in JS_FRAMES.lines().filter(|l| !l.trim().is_empty()) {
        let (ty, frame) = line.split_once(' ').unwrap();
        let message = Message::decode(&hex(frame)).unwrap_or_else(|e| panic!("{ty}: {e}"));
        assert_eq!(message.type_name(), ty);
        if let Message::Join(join) = &message {
            assert!(join.supports_v1());
        }
        if let Message::Sync(m) | Message::Request(m) = &message {
            automerge::sync::Message::decode(&m.data).expect("an automerge sync message");
        }
        seen.insert(ty.to_owned());
    }
    for ty in ["join", "request", "sync", "ephemeral"] {
        assert!(seen.contains(ty), "fixture lacks a {ty} frame");
    }
}

#[test]
fn the_documented_js_join_decodes() {
    // research/sync-protocol.md §3: map(4) with 16-bit header, storageId undefined.
    let frame = hex(
        "b9 0004 64 74797065 64 6a6f696e 68 73656e6465724964 6a 70726f62652d70656572
         6c 706565724d65746164617461 b9 0002 69 73746f726167654964 f7
         6b 6973457068656d6572616c f5
         78 19 737570706f7274656450726f746f636f6c56657273696f6e73 81 61 31",
    );
    assert_eq!(
        Message::decode(&frame).unwrap(),
        Message::Join(Join {
            sender_id: peer("probe-peer"),
            supported_protocol_versions: vec!["1".into()],
            peer_metadata: Some(PeerMetadata {
                storage_id: None,
                is_ephemeral: true
            }),
        })
    );
}

fn samples() -> Vec<Message> {
    let sync = SyncMessage {
        sender_id: peer("device-a"),
        target_id: peer("relay"),
        document_id: doc(),
        data: vec![0x42, 0, 0, 1, 0, 0, 0, 2, 2, 0x84],
    };
    vec![
        Message::Join(Join {
            sender_id: peer("device-a"),
            supported_protocol_versions: vec!["1".into()],
            peer_metadata: Some(PeerMetadata {
                storage_id: Some("7f0c".into()),
                is_ephemeral: false,
            }),
        }),
        Message::Peer(Peer {
            sender_id: peer("relay"),
            target_id: peer("device-a"),
            selected_protocol_version: "1".into(),
            peer_metadata: Some(PeerMetadata::default()),
        }),
        Message::Error(ErrorMessage {
            message: "unsupported protocol version".into(),
            sender_id: None,
            target_id: Some(peer("device-a")),
        }),
        Message::Sync(sync.clone()),
        Message::Request(sync),
        Message::DocUnavailable(DocUnavailable {
            sender_id: peer("relay"),
            target_id: peer("device-a"),
            document_id: doc(),
        }),
        Message::Ephemeral(Ephemeral {
            sender_id: peer("device-a"),
            target_id: peer("relay"),
            document_id: doc(),
            count: 1_795_881_600_000,
            session_id: "s1".into(),
            data: vec![0xa0],
        }),
        Message::RemoteSubscriptionChange(RemoteSubscriptionChange {
            sender_id: peer("device-a"),
            target_id: peer("relay"),
            add: vec!["x".into()],
            remove: vec![],
        }),
        Message::RemoteHeadsChanged(RemoteHeadsChanged {
            sender_id: peer("device-a"),
            target_id: peer("relay"),
            document_id: doc(),
            new_heads: vec![(
                "x".into(),
                RemoteHeads {
                    heads: vec!["abc".into()],
                    timestamp: 7,
                },
            )],
        }),
        Message::Leave(Leave {
            sender_id: peer("device-a"),
        }),
    ]
}

#[test]
fn every_message_type_round_trips() {
    for m in samples() {
        let bytes = m.encode();
        assert_eq!(Message::decode(&bytes).unwrap(), m, "{}", m.type_name());
    }
}

#[test]
fn encoding_is_minimal_and_stable() {
    let m = Message::DocUnavailable(DocUnavailable {
        sender_id: peer("r"),
        target_id: peer("d"),
        document_id: doc(),
    });
    let bytes = m.encode();
    assert_eq!(bytes[0], 0xa4, "a minimal map(4) header");
    assert!(bytes.windows(15).any(|w| w == b"doc-unavailable"));
}

/// A tiny CBOR writer for hand-made frames (non-minimal headers, odd types).
struct Cbor(Vec<u8>);

impl Cbor {
    fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }
    fn text(self, s: &str) -> Self {
        assert!(s.len() < 256);
        let head = [0x78, s.len() as u8];
        self.raw(&head).raw(s.as_bytes())
    }
    fn bytes(self, b: &[u8]) -> Self {
        assert!(b.len() < 24);
        let head = [0x40 | b.len() as u8];
        self.raw(&head).raw(b)
    }
}

fn sync_frame(doc_value: impl FnOnce(Cbor) -> Cbor, count_extra: bool) -> Vec<u8> {
    let c = Cbor(vec![])
        .raw(&[0xb9, 0x00, if count_extra { 6 } else { 5 }])
        .text("type")
        .text("sync")
        .text("senderId")
        .text("device-a")
        .text("targetId")
        .text("relay")
        .text("documentId");
    let c = doc_value(c).text("data").bytes(&[0x42, 0, 0, 0, 0]);
    let c = if count_extra {
        c.text("futureField")
            .raw(&[0x82, 0xf7, 0xbf, 0x61, 0x61, 0x01, 0xff])
    } else {
        c
    };
    c.0
}

#[test]
fn tolerates_what_cbor_x_writes() {
    let as_text = sync_frame(|c| c.text("4Mq4E7JPY1ddRvm6PPi9qoavxeUH"), true);
    let as_bytes = sync_frame(|c| c.bytes(doc().as_bytes()), false);
    for frame in [as_text, as_bytes] {
        match Message::decode(&frame).unwrap() {
            Message::Sync(m) => assert_eq!(m.document_id, doc()),
            other => panic!("{other:?}"),
        }
    }
    // Ephemeral count as a float64, an indefinite-length map, a null sessionId elsewhere.
    let mut eph = Cbor(vec![0xbf])
        .text("type")
        .text("ephemeral")
        .text("senderId")
        .text("a")
        .text("targetId")
        .text("b")
        .text("documentId")
        .bytes(doc().as_bytes())
        .text("count")
        .raw(&[0xfb])
        .raw(&1_795_881_600_000f64.to_be_bytes())
        .text("sessionId")
        .text("s")
        .text("data")
        .bytes(&[0xa0])
        .text("unknown")
        .raw(&[0xf6]);
    eph.0.push(0xff);
    match Message::decode(&eph.0).unwrap() {
        Message::Ephemeral(e) => assert_eq!(e.count, 1_795_881_600_000),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rejects_malformed_frames_with_typed_errors() {
    let good = samples()[3].encode();
    let cases: Vec<(Vec<u8>, DecodeError)> = vec![
        (vec![], DecodeError::Malformed),
        (vec![0x01], DecodeError::NotAMap),
        ([good.clone(), vec![0]].concat(), DecodeError::TrailingBytes),
        (good[..good.len() - 1].to_vec(), DecodeError::Malformed),
        (
            Cbor(vec![0xa1]).text("type").text("nope").0,
            DecodeError::UnknownType,
        ),
        (
            Cbor(vec![0xa1]).raw(&[0x01]).text("x").0,
            DecodeError::NonTextKey,
        ),
        (
            Cbor(vec![0xa2])
                .text("type")
                .text("join")
                .text("type")
                .text("join")
                .0,
            DecodeError::DuplicateField("type"),
        ),
        (
            Cbor(vec![0xa1]).text("type").text("sync").0,
            DecodeError::MissingField("senderId"),
        ),
        (
            sync_frame(|c| c.text("not-a-doc-id"), false),
            DecodeError::BadDocumentId,
        ),
        (
            sync_frame(|c| c.bytes(&[1, 2, 3]), false),
            DecodeError::BadDocumentId,
        ),
        (
            Cbor(vec![0xbb]).raw(&u64::MAX.to_be_bytes()).0,
            DecodeError::TooManyEntries,
        ),
        (
            vec![0; MAX_FRAME_BYTES + 1],
            DecodeError::TooLarge {
                len: MAX_FRAME_BYTES + 1,
                max: MAX_FRAME_BYTES,
            },
        ),
    ];
    for (frame, expected) in cases {
        assert_eq!(Message::decode(&frame), Err(expected));
    }
    // Data as text instead of bytes; empty data.
    let text_data = Cbor(vec![0xa5])
        .text("type")
        .text("sync")
        .text("senderId")
        .text("a")
        .text("targetId")
        .text("b")
        .text("documentId")
        .bytes(doc().as_bytes())
        .text("data")
        .text("xx")
        .0;
    assert_eq!(
        Message::decode(&text_data),
        Err(DecodeError::WrongType("data"))
    );
    let mut empty = text_data[..text_data.len() - 4].to_vec();
    empty.push(0x40);
    assert_eq!(Message::decode(&empty), Err(DecodeError::Empty("data")));
}

#[test]
fn deeply_nested_unknown_values_are_skipped_without_recursion() {
    let mut frame = Cbor(vec![0xa2]).text("type").text("leave").text("x").0;
    frame.extend(std::iter::repeat_n(0x81, 100_000));
    frame.push(0x00);
    assert_eq!(
        Message::decode(&frame),
        Err(DecodeError::MissingField("senderId"))
    );
}

fn arb_peer() -> impl Strategy<Value = PeerId> {
    "[a-z0-9-]{1,40}".prop_map(|s| PeerId::new(s).unwrap())
}

fn arb_doc() -> impl Strategy<Value = CaseId> {
    any::<[u8; 16]>().prop_map(CaseId::from_bytes)
}

fn arb_data() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 1..300)
}

fn arb_strings() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec("[ -~]{0,20}", 0..4)
}

fn arb_meta() -> impl Strategy<Value = Option<PeerMetadata>> {
    proptest::option::of(
        (proptest::option::of("[a-f0-9-]{1,36}"), any::<bool>()).prop_map(|(s, e)| PeerMetadata {
            storage_id: s,
            is_ephemeral: e,
        }),
    )
}

fn arb_message() -> impl Strategy<Value = Message> {
    let sync = || {
        (arb_peer(), arb_peer(), arb_doc(), arb_data()).prop_map(|(s, t, d, data)| SyncMessage {
            sender_id: s,
            target_id: t,
            document_id: d,
            data,
        })
    };
    prop_oneof![
        (arb_peer(), arb_strings(), arb_meta()).prop_map(|(s, v, m)| Message::Join(Join {
            sender_id: s,
            supported_protocol_versions: v,
            peer_metadata: m
        })),
        (arb_peer(), arb_peer(), "[0-9]{1,3}", arb_meta()).prop_map(|(s, t, v, m)| {
            Message::Peer(Peer {
                sender_id: s,
                target_id: t,
                selected_protocol_version: v,
                peer_metadata: m,
            })
        }),
        (
            "[ -~]{0,80}",
            proptest::option::of(arb_peer()),
            proptest::option::of(arb_peer())
        )
            .prop_map(|(m, s, t)| Message::Error(ErrorMessage {
                message: m,
                sender_id: s,
                target_id: t
            })),
        sync().prop_map(Message::Sync),
        sync().prop_map(Message::Request),
        (arb_peer(), arb_peer(), arb_doc()).prop_map(|(s, t, d)| {
            Message::DocUnavailable(DocUnavailable {
                sender_id: s,
                target_id: t,
                document_id: d,
            })
        }),
        (
            arb_peer(),
            arb_peer(),
            arb_doc(),
            any::<u64>(),
            "[a-z0-9]{1,12}",
            arb_data()
        )
            .prop_map(|(s, t, d, c, sid, data)| Message::Ephemeral(Ephemeral {
                sender_id: s,
                target_id: t,
                document_id: d,
                count: c,
                session_id: sid,
                data
            })),
        (arb_peer(), arb_peer(), arb_strings(), arb_strings()).prop_map(|(s, t, a, r)| {
            Message::RemoteSubscriptionChange(RemoteSubscriptionChange {
                sender_id: s,
                target_id: t,
                add: a,
                remove: r,
            })
        }),
        (
            arb_peer(),
            arb_peer(),
            arb_doc(),
            proptest::collection::btree_map("[a-z]{1,8}", (arb_strings(), any::<u64>()), 0..3)
        )
            .prop_map(
                |(s, t, d, heads)| Message::RemoteHeadsChanged(RemoteHeadsChanged {
                    sender_id: s,
                    target_id: t,
                    document_id: d,
                    new_heads: heads
                        .into_iter()
                        .map(|(k, (heads, timestamp))| (k, RemoteHeads { heads, timestamp }))
                        .collect(),
                })
            ),
        arb_peer().prop_map(|s| Message::Leave(Leave { sender_id: s })),
    ]
}

proptest! {
    #[test]
    fn any_message_round_trips(m in arb_message()) {
        prop_assert_eq!(Message::decode(&m.encode()).unwrap(), m);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn corrupted_messages_never_panic(
        m in arb_message(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = m.encode();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = Message::decode(&bytes);
        let _ = Message::decode(&bytes[..cut.index(bytes.len() + 1)]);
    }
}
