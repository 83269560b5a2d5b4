//! Sync client tests against a simulated relay in memory: devices and relay exchange protocol
//! messages through a queue until quiet. No sockets, no sleeps; connections can be cut anywhere.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use automerge::sync::SyncDoc;
use automerge::{Automerge, sync};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::document::test_support::{NOW, sample_case, sample_contact};
use crate::document::{CaseDoc, NewGoal};
use crate::local::LockState;
use crate::model::LifeArea;
use crate::protocol::Peer;
use crate::store::MemoryStore;

/// A minimal hub: holds documents, answers only for documents a peer may see, never announces.
struct SimRelay {
    me: PeerId,
    docs: BTreeMap<CaseId, Automerge>,
    allowed: BTreeMap<PeerId, BTreeSet<CaseId>>,
    states: BTreeMap<(PeerId, CaseId), sync::State>,
    joined: BTreeSet<PeerId>,
    /// Bytes of every frame each way, for cost comparisons.
    bytes_in: usize,
    bytes_out: usize,
}

impl SimRelay {
    fn new() -> Self {
        Self {
            me: PeerId::new("relay").unwrap(),
            docs: BTreeMap::new(),
            allowed: BTreeMap::new(),
            states: BTreeMap::new(),
            joined: BTreeSet::new(),
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    fn add_case(&mut self, doc: &CaseDoc, peers: &[&PeerId]) {
        self.docs.insert(doc.id(), doc.automerge().clone());
        for peer in peers {
            self.allowed
                .entry((*peer).clone())
                .or_default()
                .insert(doc.id());
        }
    }

    /// Publishes `peer`'s directory document listing `cases`, as a new change on top of the
    /// directory's history if it exists.
    fn publish_directory(&mut self, id: CaseId, peer: &PeerId, cases: &[(CaseId, &str, &str)]) {
        let directory = self.docs.entry(id).or_default();
        crate::directory::tests::write(directory, cases);
        self.allowed.entry(peer.clone()).or_default().insert(id);
    }

    fn disconnect(&mut self, peer: &PeerId) {
        self.joined.remove(peer);
        // The relay keeps no per-connection sync state across connections (like a fresh hub).
        self.states.retain(|(p, _), _| p != peer);
    }

    /// Handles one frame from `from`; returns frames for each peer.
    fn handle(&mut self, from: &PeerId, frame: &[u8]) -> Vec<(PeerId, Vec<u8>)> {
        self.bytes_in += frame.len();
        let mut out = Vec::new();
        match Message::decode(frame).unwrap() {
            Message::Join(join) => {
                self.joined.insert(join.sender_id.clone());
                out.push((
                    from.clone(),
                    Message::Peer(Peer {
                        sender_id: self.me.clone(),
                        target_id: join.sender_id,
                        selected_protocol_version: PROTOCOL_VERSION.to_owned(),
                        peer_metadata: None,
                    }),
                ));
            }
            Message::Sync(msg) | Message::Request(msg) => {
                let case = msg.document_id;
                let allowed = self.allowed.get(from).is_some_and(|a| a.contains(&case));
                if !allowed || !self.docs.contains_key(&case) {
                    out.push((
                        from.clone(),
                        Message::DocUnavailable(DocUnavailable {
                            sender_id: self.me.clone(),
                            target_id: from.clone(),
                            document_id: case,
                        }),
                    ));
                } else {
                    let doc = self.docs.get_mut(&case).unwrap();
                    let state = self.states.entry((from.clone(), case)).or_default();
                    doc.receive_sync_message(state, sync::Message::decode(&msg.data).unwrap())
                        .unwrap();
                    // Reply to the sender, then bring every other joined peer on this doc up to date.
                    let peers: Vec<PeerId> = self
                        .states
                        .keys()
                        .filter(|(p, c)| *c == case && self.joined.contains(p))
                        .map(|(p, _)| p.clone())
                        .collect();
                    for peer in peers {
                        let state = self.states.get_mut(&(peer.clone(), case)).unwrap();
                        if let Some(m) = self.docs[&case].generate_sync_message(state) {
                            out.push((
                                peer.clone(),
                                Message::Sync(SyncMessage {
                                    sender_id: self.me.clone(),
                                    target_id: peer,
                                    document_id: case,
                                    data: m.encode(),
                                }),
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
        out.into_iter()
            .map(|(to, m)| {
                let frame = m.encode();
                self.bytes_out += frame.len();
                (to, frame)
            })
            .collect()
    }
}

struct Device {
    peer: PeerId,
    client: SyncClient,
    cases: LocalCases<MemoryStore>,
    events: Vec<ClientEvent>,
}

impl Device {
    fn new(name: &str, rng: &mut ChaCha8Rng) -> Self {
        let peer = PeerId::new(format!("device-{name}")).unwrap();
        Self {
            client: SyncClient::new(peer.clone(), format!("store-{name}")),
            cases: LocalCases::open(MemoryStore::default(), name.parse().unwrap(), rng).unwrap(),
            peer,
            events: Vec::new(),
        }
    }
}

/// Runs one connection of `device` until nothing more is said, or until `cut_after` frames have
/// crossed (then the connection drops and everything in flight is lost).
fn session(device: &mut Device, relay: &mut SimRelay, cut_after: Option<usize>) -> bool {
    let mut to_relay: VecDeque<Vec<u8>> = VecDeque::from([device.client.connect().encode()]);
    let mut to_device: VecDeque<Vec<u8>> = VecDeque::new();
    let mut frames = 0;
    let mut cut = false;
    while !(to_relay.is_empty() && to_device.is_empty()) {
        if cut_after.is_some_and(|n| frames >= n) {
            cut = true;
            break;
        }
        frames += 1;
        assert!(frames < 10_000, "the session never went quiet");
        if let Some(frame) = to_relay.pop_front() {
            for (to, reply) in relay.handle(&device.peer, &frame) {
                if to == device.peer {
                    to_device.push_back(reply);
                }
            }
        } else if let Some(frame) = to_device.pop_front() {
            let out = device
                .client
                .handle(Message::decode(&frame).unwrap(), &mut device.cases)
                .unwrap();
            device.events.extend(out.events);
            to_relay.extend(out.send.iter().map(Message::encode));
        }
    }
    relay.disconnect(&device.peer);
    device.client.disconnect(&mut device.cases).unwrap();
    !cut
}

fn log_contact(device: &mut Device, case: CaseId, rng: &mut ChaCha8Rng) {
    device
        .cases
        .edit(&case, NOW, rng, |doc, ctx| {
            doc.log_contact(ctx, &sample_contact(NOW - 60_000))
        })
        .unwrap();
}

#[test]
fn a_weekend_offline_on_two_devices_converges_at_the_relay() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut relay = SimRelay::new();
    let (mut phone, mut tablet) = (
        Device::new("phone", &mut rng),
        Device::new("tablet", &mut rng),
    );
    let case = sample_case(&mut rng);
    relay.add_case(&case, &[&phone.peer, &tablet.peer]);

    // First sync: both devices are told of the case (by their directory) and fetch it.
    for d in [&mut phone, &mut tablet] {
        d.client.want(case.id(), &mut d.cases).unwrap();
        assert!(session(d, &mut relay, None));
        assert!(d.cases.doc(&case.id()).is_some(), "the wanted case arrived");
    }
    // The weekend: no signal.
    for _ in 0..3 {
        log_contact(&mut phone, case.id(), &mut rng);
    }
    let goal = NewGoal {
        area: LifeArea::Work,
        text: "A job".into(),
        review_on: None,
    };
    tablet
        .cases
        .edit(&case.id(), NOW, &mut rng, |doc, ctx| {
            doc.add_goal(ctx, &goal)
        })
        .unwrap();
    assert_eq!(phone.cases.pending_count().unwrap(), 3);

    // Monday: phone, tablet, then phone again to pick up the tablet's goal.
    assert!(session(&mut phone, &mut relay, None));
    assert!(session(&mut tablet, &mut relay, None));
    assert!(session(&mut phone, &mut relay, None));
    let relay_heads = relay.docs[&case.id()].get_heads();
    for d in [&phone, &tablet] {
        assert_eq!(d.cases.doc(&case.id()).unwrap().heads(), relay_heads);
        assert_eq!(
            d.cases.pending_count().unwrap(),
            0,
            "everything confirmed by the relay"
        );
    }
    assert_eq!(
        phone.cases.read(&case.id()).unwrap(),
        tablet.cases.read(&case.id()).unwrap()
    );
    assert!(
        phone
            .events
            .iter()
            .any(|e| matches!(e, ClientEvent::Confirmed { count: 3, .. }))
    );
}

#[test]
fn a_reconnect_with_nothing_new_is_cheap_thanks_to_the_kept_sync_state() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut relay = SimRelay::new();
    let mut phone = Device::new("phone", &mut rng);
    let case = sample_case(&mut rng);
    relay.add_case(&case, &[&phone.peer]);
    phone.client.want(case.id(), &mut phone.cases).unwrap();
    session(&mut phone, &mut relay, None);
    for _ in 0..200 {
        log_contact(&mut phone, case.id(), &mut rng);
    }
    session(&mut phone, &mut relay, None);

    let before = relay.bytes_in + relay.bytes_out;
    session(&mut phone, &mut relay, None);
    let with_state = relay.bytes_in + relay.bytes_out - before;

    let mut forgetful = Device::new("phone", &mut rng);
    forgetful.cases =
        LocalCases::open(MemoryStore::default(), "phone".parse().unwrap(), &mut rng).unwrap();
    forgetful
        .cases
        .receive(&case.id(), &phone.cases.doc(&case.id()).unwrap().save())
        .unwrap();
    let before = relay.bytes_in + relay.bytes_out;
    session(&mut forgetful, &mut relay, None);
    let without_state = relay.bytes_in + relay.bytes_out - before;
    println!(
        "reconnect with nothing new, 201 changes: {with_state} B with kept state, {without_state} B fresh"
    );
    assert!(
        with_state < without_state,
        "kept state: {with_state} B, fresh state: {without_state} B"
    );
}

#[test]
fn a_case_the_device_may_not_see_is_unavailable() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut relay = SimRelay::new();
    let mut phone = Device::new("phone", &mut rng);
    let foreign = sample_case(&mut rng);
    relay.add_case(&foreign, &[]);
    let unknown = CaseId::random(&mut rng);
    phone.client.want(foreign.id(), &mut phone.cases).unwrap();
    phone.client.want(unknown, &mut phone.cases).unwrap();
    session(&mut phone, &mut relay, None);
    let unavailable: BTreeSet<CaseId> = phone.client.unavailable().copied().collect();
    assert_eq!(unavailable, BTreeSet::from([foreign.id(), unknown]));
    assert!(
        phone.cases.case_ids().is_empty(),
        "nothing was created locally"
    );
}

#[test]
fn syncs_cut_at_random_points_resume_and_lose_nothing() {
    let seed = std::env::var("PEERLOG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("interrupted-sync seed: {seed} (replay with PEERLOG_SEED={seed})");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut relay = SimRelay::new();
    let mut devices = vec![Device::new("a", &mut rng), Device::new("b", &mut rng)];
    let case = sample_case(&mut rng);
    relay.add_case(&case, &[&devices[0].peer, &devices[1].peer]);
    for d in devices.iter_mut() {
        d.client.want(case.id(), &mut d.cases).unwrap();
        while !session(d, &mut relay, Some(rng.random_range(1..6))) {}
    }
    for round in 0..100 {
        let d = &mut devices[round % 2];
        for _ in 0..rng.random_range(0..4) {
            log_contact(d, case.id(), &mut rng);
        }
        session(d, &mut relay, Some(rng.random_range(0..8)));
    }
    // Signal returns for good.
    for _ in 0..2 {
        for d in devices.iter_mut() {
            assert!(session(d, &mut relay, None));
        }
    }
    let relay_doc = &relay.docs[&case.id()];
    let on_relay = CaseDoc::from_automerge(case.id(), relay_doc.clone())
        .unwrap()
        .read()
        .unwrap();
    for d in &devices {
        assert_eq!(
            d.cases.doc(&case.id()).unwrap().heads(),
            relay_doc.get_heads(),
            "seed {seed}"
        );
        assert_eq!(d.cases.pending_count().unwrap(), 0, "seed {seed}");
        for id in d.cases.read(&case.id()).unwrap().contacts.keys() {
            assert!(
                on_relay.contacts.contains_key(id),
                "seed {seed}: contact lost"
            );
        }
    }
}

#[test]
fn protocol_violations_by_the_relay_are_errors() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut phone = Device::new("phone", &mut rng);
    let case = CaseId::random(&mut rng);
    let relay = PeerId::new("relay").unwrap();
    let sync = |target: &PeerId| {
        Message::Sync(SyncMessage {
            sender_id: relay.clone(),
            target_id: target.clone(),
            document_id: case,
            data: Automerge::new()
                .generate_sync_message(&mut sync::State::new())
                .unwrap()
                .encode(),
        })
    };
    // Before the handshake.
    assert!(matches!(
        phone.client.handle(sync(&phone.peer), &mut phone.cases),
        Err(ClientError::NotJoined(_))
    ));
    let _join = phone.client.connect();
    let peer = |version: &str, target: &PeerId| {
        Message::Peer(Peer {
            sender_id: relay.clone(),
            target_id: target.clone(),
            selected_protocol_version: version.to_owned(),
            peer_metadata: None,
        })
    };
    assert!(matches!(
        phone
            .client
            .handle(peer("2", &phone.peer), &mut phone.cases),
        Err(ClientError::UnsupportedVersion)
    ));
    let other = PeerId::new("someone-else").unwrap();
    assert!(matches!(
        phone.client.handle(peer("1", &other), &mut phone.cases),
        Err(ClientError::WrongTarget)
    ));
    phone
        .client
        .handle(peer("1", &phone.peer), &mut phone.cases)
        .unwrap();
    assert!(matches!(
        phone
            .client
            .handle(peer("1", &phone.peer), &mut phone.cases),
        Err(ClientError::UnexpectedPeer)
    ));
    assert!(matches!(
        phone.client.handle(sync(&other), &mut phone.cases),
        Err(ClientError::WrongTarget)
    ));
    let garbage = Message::Sync(SyncMessage {
        sender_id: relay.clone(),
        target_id: phone.peer.clone(),
        document_id: case,
        data: vec![0xff, 0x00],
    });
    assert!(matches!(
        phone.client.handle(garbage, &mut phone.cases),
        Err(ClientError::BadSyncMessage)
    ));
    assert!(phone.cases.case_ids().is_empty());

    let error = |text: &str| Message::Error(relay_error(text, &relay, &phone.peer));
    assert!(matches!(
        phone
            .client
            .handle(error("too many messages"), &mut phone.cases),
        Err(ClientError::RelayError)
    ));
    match phone.client.handle(
        error("changes refused: `prw` is written by the relay only"),
        &mut phone.cases,
    ) {
        Err(ClientError::ChangesRefused { reason }) => {
            assert_eq!(reason, "`prw` is written by the relay only");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn relay_error(text: &str, relay: &PeerId, me: &PeerId) -> crate::protocol::ErrorMessage {
    crate::protocol::ErrorMessage {
        message: text.to_owned(),
        sender_id: Some(relay.clone()),
        target_id: Some(me.clone()),
    }
}

#[test]
fn the_directory_brings_new_cases_and_takes_away_reassigned_ones() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let mut relay = SimRelay::new();
    let mut phone = Device::new("phone", &mut rng);
    let (first, second) = (sample_case(&mut rng), sample_case(&mut rng));
    relay.add_case(&first, &[&phone.peer]);
    relay.add_case(&second, &[&phone.peer]);
    let directory_id = CaseId::random(&mut rng);
    relay.publish_directory(
        directory_id,
        &phone.peer,
        &[
            (first.id(), "active", "readWrite"),
            (second.id(), "active", "readWrite"),
        ],
    );

    phone.cases.set_directory_id(directory_id).unwrap();
    assert!(session(&mut phone, &mut relay, None));
    let mut held = phone.cases.case_ids();
    held.sort();
    let mut expected = vec![first.id(), second.id()];
    expected.sort();
    assert_eq!(
        held, expected,
        "both listed cases arrived in the first session"
    );
    assert_eq!(
        phone.cases.directory().unwrap().lost_phone.lock_after_days,
        7
    );

    // The coordinator reassigns the second case to someone else.
    log_contact(&mut phone, second.id(), &mut rng);
    relay.publish_directory(
        directory_id,
        &phone.peer,
        &[(first.id(), "active", "readWrite")],
    );
    relay
        .allowed
        .get_mut(&phone.peer)
        .unwrap()
        .remove(&second.id());
    assert!(session(&mut phone, &mut relay, None));
    assert_eq!(phone.cases.case_ids(), vec![first.id()]);
    assert!(
        phone.events.contains(&ClientEvent::CaseRemoved {
            case: second.id(),
            dropped: 1
        }),
        "the relay no longer takes the case (as after erasure or the handover period): its \
         unsynced contact is dropped, and the app is told"
    );
    assert!(
        phone
            .cases
            .store()
            .load_case(&second.id())
            .unwrap()
            .is_none(),
        "history gone too"
    );

    // The phone keeps its directory across restarts.
    let store = phone.cases.into_store();
    let reopened = LocalCases::open(store, "phone".parse().unwrap(), &mut rng).unwrap();
    assert_eq!(reopened.directory_id(), Some(directory_id));
    assert_eq!(reopened.directory().unwrap().cases.len(), 1);
}

#[test]
fn a_phone_that_stops_syncing_locks_then_must_wipe() {
    const DAY: i64 = 24 * 3_600_000;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut relay = SimRelay::new();
    let mut phone = Device::new("phone", &mut rng);
    let case = sample_case(&mut rng);
    relay.add_case(&case, &[&phone.peer]);
    let directory_id = CaseId::random(&mut rng);
    relay.publish_directory(
        directory_id,
        &phone.peer,
        &[(case.id(), "active", "readWrite")],
    );
    phone.cases.set_directory_id(directory_id).unwrap();
    session(&mut phone, &mut relay, None);
    phone.cases.record_sync(NOW).unwrap();

    // The directory says: lock after 7 days, wipe after 21.
    assert_eq!(
        phone.cases.apply_lost_phone_policy(NOW + 6 * DAY).unwrap(),
        LockState::Open
    );
    assert!(phone.cases.read(&case.id()).is_ok());
    assert_eq!(
        phone.cases.apply_lost_phone_policy(NOW + 7 * DAY).unwrap(),
        LockState::Locked
    );
    assert!(matches!(
        phone.cases.read(&case.id()),
        Err(LocalError::Locked)
    ));
    assert!(phone.cases.read_all().is_empty());
    assert!(matches!(
        phone.cases.edit(&case.id(), NOW, &mut rng, |doc, ctx| doc
            .log_contact(ctx, &sample_contact(NOW))),
        Err(LocalError::Locked)
    ));
    // A successful sync unlocks.
    phone.cases.record_sync(NOW + 8 * DAY).unwrap();
    assert!(phone.cases.read(&case.id()).is_ok());
    assert_eq!(
        phone.cases.apply_lost_phone_policy(NOW + 29 * DAY).unwrap(),
        LockState::MustWipe
    );
}

#[test]
fn a_case_the_user_may_only_read_refuses_edits_on_the_device() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let mut relay = SimRelay::new();
    let mut laptop = Device::new("coordinator-laptop", &mut rng);
    let team_case = sample_case(&mut rng);
    relay.add_case(&team_case, &[&laptop.peer]);
    let directory_id = CaseId::random(&mut rng);
    relay.publish_directory(
        directory_id,
        &laptop.peer,
        &[(team_case.id(), "active", "read")],
    );
    laptop.cases.set_directory_id(directory_id).unwrap();
    assert!(session(&mut laptop, &mut relay, None));
    assert!(laptop.cases.doc(&team_case.id()).is_some());
    let heads = laptop.cases.doc(&team_case.id()).unwrap().heads();

    let refused = laptop
        .cases
        .edit(&team_case.id(), NOW, &mut rng, |doc, ctx| {
            doc.log_contact(ctx, &sample_contact(NOW - 60_000))
        });
    assert!(matches!(refused, Err(LocalError::ReadOnly)), "{refused:?}");
    assert_eq!(laptop.cases.pending_count().unwrap(), 0);
    assert_eq!(laptop.cases.doc(&team_case.id()).unwrap().heads(), heads);
}

#[test]
fn a_case_reassigned_while_the_phone_holds_unsynced_contacts_hands_them_over_first() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let mut relay = SimRelay::new();
    let mut phone = Device::new("phone", &mut rng);
    let case = sample_case(&mut rng);
    relay.add_case(&case, &[&phone.peer]);
    let directory_id = CaseId::random(&mut rng);
    relay.publish_directory(
        directory_id,
        &phone.peer,
        &[(case.id(), "active", "readWrite")],
    );
    phone.cases.set_directory_id(directory_id).unwrap();
    assert!(session(&mut phone, &mut relay, None));

    // Saturday, offline: two contacts. Monday morning the coordinator reassigns the case; the
    // relay still takes the former PRW's changes (the handover grace period).
    log_contact(&mut phone, case.id(), &mut rng);
    log_contact(&mut phone, case.id(), &mut rng);
    let weekend: Vec<_> = phone
        .cases
        .read(&case.id())
        .unwrap()
        .contacts
        .into_keys()
        .collect();
    relay.publish_directory(directory_id, &phone.peer, &[]);
    phone.events.clear();

    assert!(session(&mut phone, &mut relay, None));
    let at_relay = CaseDoc::from_automerge(case.id(), relay.docs[&case.id()].clone())
        .unwrap()
        .read()
        .unwrap();
    for id in &weekend {
        assert!(
            at_relay.contacts.contains_key(id),
            "every weekend contact reached the relay"
        );
    }
    assert!(phone.events.contains(&ClientEvent::HandingOver {
        case: case.id(),
        pending: 2
    }));
    assert!(phone.events.contains(&ClientEvent::CaseRemoved {
        case: case.id(),
        dropped: 0
    }));
    assert!(
        phone.cases.case_ids().is_empty(),
        "then the phone lets the case go"
    );
    assert_eq!(phone.cases.pending_count().unwrap(), 0);
}

#[test]
fn a_handed_over_case_takes_no_new_edits() {
    let mut rng = ChaCha8Rng::seed_from_u64(22);
    let mut relay = SimRelay::new();
    let mut phone = Device::new("phone", &mut rng);
    let case = sample_case(&mut rng);
    let other = sample_case(&mut rng);
    relay.add_case(&case, &[&phone.peer]);
    relay.add_case(&other, &[&phone.peer]);
    let directory_id = CaseId::random(&mut rng);
    relay.publish_directory(
        directory_id,
        &phone.peer,
        &[
            (case.id(), "active", "readWrite"),
            (other.id(), "active", "readWrite"),
        ],
    );
    phone.cases.set_directory_id(directory_id).unwrap();
    assert!(session(&mut phone, &mut relay, None));
    log_contact(&mut phone, case.id(), &mut rng);
    // The directory moves on while the relay cannot take the changes yet (a cut connection
    // right after the directory arrived).
    relay.publish_directory(
        directory_id,
        &phone.peer,
        &[(other.id(), "active", "readWrite")],
    );
    let mut directory = relay.docs[&directory_id].clone();
    let (mut theirs, mut ours) = (sync::State::new(), sync::State::new());
    for _ in 0..10 {
        let to_phone = directory.generate_sync_message(&mut theirs);
        let to_relay = phone.cases.generate_sync_message(&directory_id, &mut ours);
        if to_phone.is_none() && to_relay.is_none() {
            break;
        }
        if let Some(m) = to_phone {
            phone
                .cases
                .receive_sync_message(&directory_id, &mut ours, m)
                .unwrap();
        }
        if let Some(m) = to_relay {
            directory.receive_sync_message(&mut theirs, m).unwrap();
        }
    }
    assert!(phone.cases.is_handing_over(&case.id()));
    let refused = phone.cases.edit(&case.id(), NOW, &mut rng, |doc, ctx| {
        doc.log_contact(ctx, &sample_contact(NOW - 60_000))
    });
    assert!(
        matches!(refused, Err(LocalError::HandingOver)),
        "{refused:?}"
    );
    assert_eq!(
        phone.cases.pending_for(&case.id()).unwrap(),
        1,
        "the first one waits"
    );
}
