//! Hub tests on a simulated network: clients are bare automerge peers, storage is a map, and the
//! loop runs until quiet. Every `sync` the hub emits is checked against durable storage: its heads
//! must all be stored already (the durability rule), in every test.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ROOT, ReadDoc};

use super::*;
use crate::sync::ports::Role;
use crate::sync::testkit::{TableAccess, case, principal};

struct Client {
    principal: Arc<Principal>,
    docs: HashMap<CaseId, (Automerge, sync::State)>,
    unavailable: HashSet<CaseId>,
    ephemeral: Vec<Vec<u8>>,
}

struct Sim {
    hub: Hub,
    access: Arc<TableAccess>,
    /// Durable storage: concatenated chunks per document.
    stored: HashMap<CaseId, Vec<u8>>,
    /// Appends handed to storage but not yet acknowledged.
    unacked: Vec<(DocAppend, u64, u64)>,
    auto_persist: bool,
    fail_appends: bool,
    clients: HashMap<ConnId, Client>,
    queue: VecDeque<Input>,
    loads: Vec<CaseId>,
    compactions: Vec<CaseId>,
    closed: Vec<(ConnId, String)>,
    refused: Vec<&'static str>,
    syncs_sent: usize,
}

fn hub_config(max_loaded_docs: usize) -> HubConfig {
    HubConfig {
        peer_id: PeerId::new("relay").unwrap(),
        actor: ActorId::from([0xee; 16]),
        max_loaded_docs,
        compact_after_appends: 4,
        check_content: true,
        max_doc_ops: 10_000,
        device_quota: Arc::new(DeviceQuota::new(1024 * 1024)),
    }
}

impl Sim {
    fn new(max_loaded_docs: usize) -> Self {
        let access = Arc::new(TableAccess::default());
        Self {
            hub: Hub::new(hub_config(max_loaded_docs), access.clone()),
            access,
            stored: HashMap::new(),
            unacked: Vec::new(),
            auto_persist: true,
            fail_appends: false,
            clients: HashMap::new(),
            queue: VecDeque::new(),
            loads: Vec::new(),
            compactions: Vec::new(),
            closed: Vec::new(),
            refused: Vec::new(),
            syncs_sent: 0,
        }
    }

    /// Stores a document with one change `{"title": title}`; returns it.
    fn seed(&mut self, doc: CaseId, title: &str) -> Automerge {
        let mut am = Automerge::new().with_actor(ActorId::from([0x11; 16]));
        am.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "title", title)?;
            Ok(())
        })
        .unwrap();
        self.stored.insert(doc, am.save());
        am
    }

    fn connect(&mut self, conn: ConnId, role: Role, device: &str) -> Arc<Principal> {
        let p = Arc::new(principal("user-1", role, device));
        self.hub.handle(Input::Connected {
            conn,
            principal: p.clone(),
            peer_id: PeerId::new(p.peer_id()).unwrap(),
        });
        self.clients.insert(
            conn,
            Client {
                principal: p.clone(),
                docs: HashMap::new(),
                unavailable: HashSet::new(),
                ephemeral: Vec::new(),
            },
        );
        p
    }

    fn grant(&mut self, conn: ConnId, doc: CaseId, access: Access) {
        let p = self.clients[&conn].principal.clone();
        self.access.grant(&p, doc, access);
    }

    /// The client starts (or continues) syncing a document.
    fn open(&mut self, conn: ConnId, doc: CaseId) {
        let client = self.clients.get_mut(&conn).unwrap();
        let (am, state) = client.docs.entry(doc).or_insert_with(|| {
            (
                Automerge::new().with_actor(ActorId::from([conn as u8; 16])),
                sync::State::new(),
            )
        });
        if let Some(message) = am.generate_sync_message(state) {
            self.queue.push_back(Input::Sync { conn, doc, message });
        }
    }

    fn edit(&mut self, conn: ConnId, doc: CaseId, key: &str, value: &str) {
        let (am, _) = self
            .clients
            .get_mut(&conn)
            .unwrap()
            .docs
            .get_mut(&doc)
            .unwrap();
        am.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, key, value)?;
            Ok(())
        })
        .unwrap();
        self.open(conn, doc);
    }

    fn value(&self, conn: ConnId, doc: CaseId, key: &str) -> Option<String> {
        let (am, _) = self.clients[&conn].docs.get(&doc)?;
        am.get(ROOT, key)
            .unwrap()
            .map(|(v, _)| v.into_string().unwrap())
    }

    fn stored_doc(&self, doc: CaseId) -> Automerge {
        Automerge::load(self.stored.get(&doc).map(Vec::as_slice).unwrap_or(&[])).unwrap()
    }

    fn persist_all(&mut self) {
        let acks: Vec<_> = std::mem::take(&mut self.unacked)
            .into_iter()
            .map(|(append, generation, seq)| {
                if !self.fail_appends {
                    self.stored
                        .entry(append.doc)
                        .or_default()
                        .extend_from_slice(&append.changes);
                }
                (append.doc, generation, seq)
            })
            .collect();
        if !acks.is_empty() {
            self.queue.push_back(Input::Persisted {
                appends: acks,
                ok: !self.fail_appends,
            });
        }
    }

    fn run(&mut self) {
        for _ in 0..10_000 {
            let Some(input) = self.queue.pop_front() else {
                if self.auto_persist && !self.unacked.is_empty() {
                    self.persist_all();
                    continue;
                }
                return;
            };
            self.hub.handle(input);
            for effect in self.hub.take_effects() {
                self.execute(effect);
            }
        }
        panic!("the simulation did not settle");
    }

    fn execute(&mut self, effect: Effect) {
        match effect {
            Effect::Send { conn, message } => self.deliver(conn, message),
            Effect::Close { conn, reason } => self.closed.push((conn, reason.into_owned())),
            Effect::Refused { code, .. } => self.refused.push(code),
            Effect::Load { doc } => {
                self.loads.push(doc);
                let result = match self.stored.get(&doc) {
                    None => Ok(None),
                    Some(bytes) => Ok(Some(Box::new(Automerge::load(bytes).unwrap()))),
                };
                self.queue.push_back(Input::Loaded { doc, result });
            }
            Effect::Append {
                append,
                generation,
                seq,
            } => self.unacked.push((append, generation, seq)),
            Effect::Compact { doc, snapshot } => {
                // Everything in the snapshot must already be durable or queued before it.
                self.compactions.push(doc);
                self.stored.insert(doc, snapshot);
            }
        }
    }

    fn deliver(&mut self, conn: ConnId, message: Message) {
        let client = self.clients.get_mut(&conn).expect("sent to a known client");
        match message {
            Message::Sync(m) => {
                assert_eq!(m.target_id.as_str(), client.principal.peer_id());
                let decoded = sync::Message::decode(&m.data).unwrap();
                // The durability rule: every head we announce is already stored.
                let stored = Automerge::load(
                    self.stored
                        .get(&m.document_id)
                        .map(Vec::as_slice)
                        .unwrap_or(&[]),
                )
                .unwrap();
                for head in &decoded.heads {
                    assert!(
                        stored.get_change_by_hash(head).is_some(),
                        "the hub sent heads that are not durable yet"
                    );
                }
                self.syncs_sent += 1;
                let (am, state) = client.docs.get_mut(&m.document_id).expect("doc opened");
                am.receive_sync_message(state, decoded).unwrap();
                if let Some(reply) = am.generate_sync_message(state) {
                    self.queue.push_back(Input::Sync {
                        conn,
                        doc: m.document_id,
                        message: reply,
                    });
                }
            }
            Message::DocUnavailable(m) => {
                client.unavailable.insert(m.document_id);
            }
            Message::Ephemeral(m) => client.ephemeral.push(m.data),
            other => panic!("unexpected {}", other.type_name()),
        }
    }
}

#[test]
fn a_prw_edit_reaches_a_reading_coordinator_and_storage() {
    let mut sim = Sim::new(10);
    let doc = case(1);
    sim.seed(doc, "case");
    sim.connect(1, Role::Prw, "phone");
    sim.connect(2, Role::Coordinator, "laptop");
    sim.grant(1, doc, Access::ReadWrite);
    sim.grant(2, doc, Access::Read);
    sim.open(1, doc);
    sim.open(2, doc);
    sim.run();
    assert_eq!(sim.value(2, doc, "title").as_deref(), Some("case"));

    sim.edit(1, doc, "contact", "met at the café");
    sim.run();
    assert_eq!(
        sim.value(2, doc, "contact").as_deref(),
        Some("met at the café")
    );
    let stored = sim.stored_doc(doc);
    assert_eq!(
        stored.get_heads(),
        sim.clients[&1].docs[&doc].0.get_heads(),
        "the relay stored the PRW's change"
    );
    assert_eq!(
        sim.loads,
        vec![doc],
        "loaded once, then served from the cache"
    );
}

#[test]
fn nothing_showing_a_change_is_sent_before_it_is_durable() {
    let mut sim = Sim::new(10);
    let doc = case(1);
    sim.seed(doc, "case");
    sim.connect(1, Role::Prw, "phone");
    sim.connect(2, Role::Prw, "tablet");
    sim.grant(1, doc, Access::ReadWrite);
    sim.grant(2, doc, Access::ReadWrite);
    sim.open(1, doc);
    sim.open(2, doc);
    sim.run();

    sim.auto_persist = false;
    let before = sim.syncs_sent;
    sim.edit(1, doc, "contact", "phone call");
    sim.run();
    assert_eq!(sim.unacked.len(), 1, "the change went to storage");
    assert_eq!(
        sim.syncs_sent, before,
        "no reply to anyone while not durable"
    );
    assert_eq!(sim.value(2, doc, "contact"), None);

    // More changes while the first commit is open: still silent.
    sim.edit(1, doc, "contact2", "meeting");
    sim.run();
    assert_eq!(sim.syncs_sent, before);

    sim.persist_all();
    sim.run();
    assert!(sim.syncs_sent > before);
    assert_eq!(sim.value(2, doc, "contact2").as_deref(), Some("meeting"));
    let phone = &sim.clients[&1].docs[&doc];
    assert_eq!(
        phone.1.shared_heads,
        phone.0.get_heads(),
        "the phone knows the relay has everything"
    );
}

#[test]
fn unknown_and_foreign_documents_get_the_same_doc_unavailable() {
    let mut sim = Sim::new(10);
    let foreign = case(1);
    let unknown = case(2);
    sim.seed(foreign, "someone else's case");
    sim.connect(1, Role::Prw, "phone");
    sim.grant(1, unknown, Access::ReadWrite);
    sim.open(1, foreign);
    sim.open(1, unknown);
    sim.run();
    let c = &sim.clients[&1];
    assert!(c.unavailable.contains(&foreign) && c.unavailable.contains(&unknown));
    assert_eq!(
        sim.value(1, foreign, "title"),
        None,
        "no content of a foreign case"
    );
    assert_eq!(sim.loads, vec![unknown], "a denied id is never even loaded");
    assert!(
        !sim.stored.contains_key(&unknown),
        "devices cannot create documents"
    );
}

#[test]
fn a_device_pushing_a_new_document_is_refused() {
    let mut sim = Sim::new(10);
    let doc = case(3);
    sim.connect(1, Role::Prw, "phone");
    sim.grant(1, doc, Access::ReadWrite);
    sim.open(1, doc);
    sim.edit(1, doc, "title", "made on the phone");
    sim.run();
    assert!(sim.clients[&1].unavailable.contains(&doc));
    assert!(!sim.stored.contains_key(&doc));
    assert_eq!(sim.hub.loaded(), 0);
}

#[test]
fn a_reader_cannot_write() {
    let mut sim = Sim::new(10);
    let doc = case(1);
    sim.seed(doc, "case");
    sim.connect(1, Role::Prw, "phone");
    sim.connect(2, Role::Coordinator, "laptop");
    sim.grant(1, doc, Access::ReadWrite);
    sim.grant(2, doc, Access::Read);
    sim.open(1, doc);
    sim.open(2, doc);
    sim.run();
    sim.edit(2, doc, "title", "overwritten by a reader");
    sim.run();
    assert_eq!(sim.value(1, doc, "title").as_deref(), Some("case"));
    let stored = sim.stored_doc(doc);
    let (title, _) = stored.get(ROOT, "title").unwrap().unwrap();
    assert_eq!(title.into_string().unwrap(), "case");
    assert!(sim.closed.is_empty(), "ignored, not an error");
}

#[test]
fn evicted_documents_reload_and_keep_their_peers_in_sync() {
    let mut sim = Sim::new(1);
    let (a, b) = (case(1), case(2));
    sim.seed(a, "a");
    sim.seed(b, "b");
    sim.connect(1, Role::Prw, "phone");
    sim.connect(2, Role::Prw, "tablet");
    for doc in [a, b] {
        sim.grant(1, doc, Access::ReadWrite);
        sim.grant(2, doc, Access::ReadWrite);
    }
    sim.open(1, a);
    sim.open(2, a);
    sim.run();
    sim.open(1, b);
    sim.run();
    assert_eq!(sim.hub.loaded(), 1, "the cache holds one document");

    // `a` was evicted; the phone edits it, the tablet (idle on it) still gets the change.
    sim.edit(1, a, "contact", "evening call");
    sim.run();
    assert_eq!(sim.value(2, a, "contact").as_deref(), Some("evening call"));
    assert_eq!(sim.hub.loaded(), 1);
    assert!(sim.loads.iter().filter(|d| **d == a).count() >= 2);
}

#[test]
fn a_document_with_new_changes_is_stored_as_one_snapshot_when_evicted() {
    let mut sim = Sim::new(1);
    let (a, b) = (case(1), case(2));
    sim.seed(a, "a");
    sim.seed(b, "b");
    sim.connect(1, Role::Prw, "phone");
    sim.grant(1, a, Access::ReadWrite);
    sim.grant(1, b, Access::ReadWrite);
    sim.open(1, a);
    sim.run();
    sim.edit(1, a, "contact", "first visit");
    sim.run();
    assert!(
        sim.compactions.is_empty(),
        "one append is below the threshold"
    );

    sim.open(1, b);
    sim.run();
    assert_eq!(
        sim.compactions,
        vec![a],
        "evicted with an append since its snapshot"
    );
    let stored = Automerge::load(&sim.stored[&a]).unwrap();
    let (contact, _) = stored.get(ROOT, "contact").unwrap().unwrap();
    assert_eq!(contact.into_string().unwrap(), "first visit");

    // `b` had nothing new: evicting it writes nothing.
    sim.open(1, a);
    sim.run();
    assert_eq!(sim.compactions, vec![a]);
}

#[test]
fn server_updates_create_documents_and_reach_attached_peers_after_commit() {
    let mut sim = Sim::new(10);
    let doc = case(5);
    sim.connect(1, Role::Prw, "phone");
    sim.grant(1, doc, Access::ReadWrite);

    let done = Arc::new(std::sync::Mutex::new(Vec::new()));
    let d = done.clone();
    sim.auto_persist = false;
    sim.queue.push_back(Input::Update {
        doc,
        run: Box::new(|am| {
            am.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.put(ROOT, "title", "opened by the coordinator")?;
                Ok(())
            })
            .unwrap();
        }),
        done: Box::new(move |r| d.lock().unwrap().push(r)),
    });
    sim.run();
    assert!(
        done.lock().unwrap().is_empty(),
        "not reported before durable"
    );
    sim.persist_all();
    sim.run();
    assert_eq!(*done.lock().unwrap(), vec![Ok(())]);

    sim.auto_persist = true;
    sim.open(1, doc);
    sim.run();
    assert_eq!(
        sim.value(1, doc, "title").as_deref(),
        Some("opened by the coordinator")
    );

    // A later server write is pushed to the attached phone without it asking.
    sim.queue.push_back(Input::Update {
        doc,
        run: Box::new(|am| {
            am.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.put(ROOT, "status", "closed")?;
                Ok(())
            })
            .unwrap();
        }),
        done: Box::new(|r| assert_eq!(r, Ok(()))),
    });
    sim.run();
    assert_eq!(sim.value(1, doc, "status").as_deref(), Some("closed"));
}

#[test]
fn access_changes_apply_to_open_connections() {
    let mut sim = Sim::new(10);
    let doc = case(1);
    sim.seed(doc, "case");
    sim.connect(1, Role::Prw, "phone");
    sim.connect(2, Role::Prw, "old-prw");
    sim.grant(1, doc, Access::ReadWrite);
    sim.grant(2, doc, Access::ReadWrite);
    sim.open(1, doc);
    sim.open(2, doc);
    sim.run();

    // The case is reassigned away from the old PRW.
    sim.grant(2, doc, Access::None);
    sim.queue.push_back(Input::AccessChanged);
    sim.run();
    assert!(sim.clients[&2].unavailable.contains(&doc));
    sim.edit(1, doc, "contact", "after reassignment");
    sim.run();
    assert_eq!(sim.value(2, doc, "contact"), None, "no more updates");

    // And its writes are refused from now on.
    sim.edit(2, doc, "title", "late write");
    sim.run();
    assert_eq!(sim.value(1, doc, "title").as_deref(), Some("case"));
}

#[test]
fn an_access_change_drops_documents_nobody_is_attached_to() {
    let mut sim = Sim::new(10);
    let (kept, erased) = (case(1), case(2));
    sim.seed(kept, "kept");
    sim.seed(erased, "erased");
    sim.connect(1, Role::Prw, "phone");
    sim.grant(1, kept, Access::ReadWrite);
    sim.grant(1, erased, Access::ReadWrite);
    sim.open(1, kept);
    sim.open(1, erased);
    sim.run();
    assert_eq!(sim.hub.loaded(), 2);

    // The second case is erased: nobody may access it any more.
    sim.grant(1, erased, Access::None);
    sim.queue.push_back(Input::AccessChanged);
    sim.run();
    assert!(sim.clients[&1].unavailable.contains(&erased));
    assert_eq!(
        sim.hub.loaded(),
        1,
        "only the attached case stays in memory"
    );
    sim.edit(1, kept, "contact", "still syncing");
    sim.run();
    assert_eq!(sim.hub.loaded(), 1);
}

#[test]
fn a_failed_commit_closes_writers_and_reports_nothing_stored() {
    let mut sim = Sim::new(10);
    let doc = case(1);
    sim.seed(doc, "case");
    sim.connect(1, Role::Prw, "phone");
    sim.grant(1, doc, Access::ReadWrite);
    sim.open(1, doc);
    sim.run();
    let before = sim.syncs_sent;
    sim.fail_appends = true;
    sim.edit(1, doc, "contact", "lost?");
    sim.run();
    assert_eq!(sim.syncs_sent, before);
    assert_eq!(sim.closed, vec![(1, "relay storage failed".to_owned())]);
    assert_eq!(sim.hub.loaded(), 0, "the undurable state was dropped");
}

#[test]
fn ephemeral_messages_reach_only_other_peers_of_the_document() {
    let mut sim = Sim::new(10);
    let doc = case(1);
    sim.seed(doc, "case");
    for (conn, device) in [(1, "a"), (2, "b"), (3, "c")] {
        sim.connect(conn, Role::Prw, device);
        sim.grant(conn, doc, Access::ReadWrite);
    }
    sim.open(1, doc);
    sim.open(2, doc);
    sim.run();
    let ephemeral = |sender: &str| Ephemeral {
        sender_id: PeerId::new(format!("device-{sender}")).unwrap(),
        target_id: PeerId::new("relay").unwrap(),
        document_id: doc,
        count: 1,
        session_id: "s".into(),
        data: vec![0xa0],
    };
    sim.queue.push_back(Input::Ephemeral {
        conn: 1,
        message: ephemeral("a"),
    });
    // Connection 3 never opened the document: its broadcast is dropped.
    sim.queue.push_back(Input::Ephemeral {
        conn: 3,
        message: ephemeral("c"),
    });
    sim.run();
    assert_eq!(sim.clients[&2].ephemeral.len(), 1);
    assert!(sim.clients[&1].ephemeral.is_empty());
    assert!(sim.clients[&3].ephemeral.is_empty());
}

#[test]
fn many_devices_converge_through_the_hub() {
    let mut sim = Sim::new(2);
    let docs = [case(1), case(2), case(3)];
    for (i, doc) in docs.iter().enumerate() {
        sim.seed(*doc, &format!("case {i}"));
    }
    for conn in 1..=6u64 {
        sim.connect(conn, Role::Prw, &format!("dev{conn}"));
        for doc in docs {
            sim.grant(conn, doc, Access::ReadWrite);
        }
    }
    for round in 0..3 {
        for conn in 1..=6u64 {
            for doc in docs {
                sim.open(conn, doc);
                sim.run();
                sim.edit(conn, doc, &format!("k{conn}-{round}"), "v");
            }
        }
        sim.run();
    }
    for doc in docs {
        let heads = sim.stored_doc(doc).get_heads();
        for conn in 1..=6u64 {
            assert_eq!(sim.clients[&conn].docs[&doc].0.get_heads(), heads);
        }
        assert_eq!(sim.stored_doc(doc).length(ROOT), 1 + 6 * 3);
    }
    assert!(sim.hub.loaded() <= 2);
}

#[test]
fn refused_changes_are_neither_stored_nor_sent_and_the_writer_is_told_why() {
    let mut sim = Sim::new(10);
    let doc = case(1);
    sim.seed(doc, "plan");
    let writer = 1;
    let reader = 2;
    sim.connect(writer, Role::Prw, "phone-1");
    sim.connect(reader, Role::Coordinator, "laptop-1");
    sim.grant(writer, doc, Access::ReadWrite);
    sim.grant(reader, doc, Access::Read);
    sim.open(writer, doc);
    sim.open(reader, doc);
    sim.run();
    sim.access.refuse_root_key("poison");

    sim.edit(writer, doc, "poison", "x");
    sim.run();
    assert_eq!(sim.refused, vec!["test-refusal"]);
    let (closed, reason) = sim.closed.last().cloned().expect("the writer is closed");
    assert_eq!(closed, writer);
    assert!(reason.starts_with("changes refused: "), "{reason}");
    assert!(
        sim.stored_doc(doc).get(ROOT, "poison").unwrap().is_none(),
        "not stored"
    );
    assert_eq!(sim.value(reader, doc, "poison"), None, "not sent");

    // The document goes on: a later honest write from another device is kept and sent.
    let other = 3;
    sim.connect(other, Role::Prw, "tablet-1");
    sim.grant(other, doc, Access::ReadWrite);
    sim.open(other, doc);
    sim.run();
    sim.edit(other, doc, "title", "plan, week 2");
    sim.run();
    assert_eq!(
        sim.value(reader, doc, "title").as_deref(),
        Some("plan, week 2")
    );
    assert_eq!(sim.value(other, doc, "poison"), None);
}

#[test]
fn a_document_over_its_operation_quota_refuses_more() {
    let mut sim = Sim::new(10);
    let doc = case(2);
    sim.seed(doc, "plan");
    sim.connect(1, Role::Prw, "phone-1");
    sim.grant(1, doc, Access::ReadWrite);
    sim.open(1, doc);
    sim.run();
    let big = "x".repeat(20_000);
    let (am, _) = sim.clients.get_mut(&1).unwrap().docs.get_mut(&doc).unwrap();
    am.transact::<_, _, automerge::AutomergeError>(|tx| {
        let text = tx.put_object(ROOT, "text", automerge::ObjType::Text)?;
        tx.splice_text(&text, 0, 0, &big)?;
        Ok(())
    })
    .unwrap();
    sim.open(1, doc);
    sim.run();
    assert_eq!(sim.refused, vec!["quota"]);
    assert!(sim.stored_doc(doc).get(ROOT, "text").unwrap().is_none());
}
