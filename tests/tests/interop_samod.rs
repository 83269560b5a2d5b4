//! Conformance with a second, independent implementation of the automerge-repo protocol: the
//! Rust `samod` 0.16 `Repo`, dialing the relay's `GET /sync` over a real WebSocket as a phone
//! would. It finds its case, writes a contact the relay stores, receives a relay-side change, and
//! gets nothing for a case it was not granted.

use std::sync::Arc;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc};
use futures_util::future::BoxFuture;
use futures_util::{SinkExt, StreamExt};
use peerlog_core::ids::CaseId;
use peerlog_server::sync::SyncConfig;
use peerlog_server::sync::ports::{Access, Role};
use peerlog_tests::relay_harness::{Relay, principal};
use samod::{BackoffConfig, DialError, Dialer, Repo, Transport, Url};
use tokio_tungstenite::tungstenite::Message as Frame;

/// Opens a tokio-tungstenite WebSocket to the relay and hands samod its binary frames.
struct WsDialer {
    url: String,
}

#[derive(Debug)]
struct WsError(String);

impl std::fmt::Display for WsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WsError {}

impl Dialer for WsDialer {
    type Error = WsError;

    fn url(&self) -> Url {
        Url::parse(&self.url).expect("a valid relay URL")
    }

    fn connect(&self) -> BoxFuture<'static, Result<Transport, DialError<WsError>>> {
        let url = self.url.clone();
        Box::pin(async move {
            let (ws, _) = tokio_tungstenite::connect_async(url)
                .await
                .map_err(|e| DialError::transient(WsError(e.to_string())))?;
            let (sink, stream) = ws.split();
            let stream = stream.filter_map(|frame| async move {
                match frame {
                    Ok(Frame::Binary(bytes)) => Some(Ok(bytes.to_vec())),
                    Ok(Frame::Close(_)) => None,
                    Ok(_) => None,
                    Err(e) => Some(Err(WsError(e.to_string()))),
                }
            });
            let sink = sink.sink_map_err(|e| WsError(e.to_string())).with(
                |bytes: Vec<u8>| async move { Ok::<_, WsError>(Frame::Binary(bytes.into())) },
            );
            Ok(Transport::new(Box::pin(stream), Box::pin(sink)))
        })
    }
}

fn string_at(am: &automerge::Automerge, obj: &automerge::ObjId, key: &str) -> Option<String> {
    match am.get(obj, key).ok()?? {
        (automerge::Value::Scalar(s), _) => s.as_str().map(str::to_owned),
        _ => None,
    }
}

/// Polls `check` every 50 ms for up to 10 s.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_samod_repo_syncs_its_case_through_the_relay() {
    let relay = Relay::start(SyncConfig::default()).await;
    let case = CaseId::from_bytes(*b"peerlog-samod-01");
    let foreign = CaseId::from_bytes(*b"peerlog-samod-02");
    relay.seed_case(case, "assigned").await;
    relay.seed_case(foreign, "someone else's").await;
    let prw = principal("prw-ola", Role::Prw, "ola-samod");
    relay.grants.grant(&prw, case, Access::ReadWrite);

    let repo = Repo::build_tokio()
        .with_peer_id(samod::PeerId::from(prw.peer_id().as_str()))
        .load()
        .await;
    let dialer = repo
        .dial(
            BackoffConfig::default(),
            Arc::new(WsDialer {
                url: relay.url_with_token(&relay.token_for(&prw)),
            }),
        )
        .expect("repo running");
    let server = tokio::time::timeout(Duration::from_secs(10), dialer.established())
        .await
        .expect("handshake in time")
        .expect("handshake");
    assert_eq!(server.peer_id.to_string(), relay.service.peer_id());

    // Its case: found, with the relay's content.
    let doc_id: samod::DocumentId = case.to_string().parse().expect("same id format");
    let handle = tokio::time::timeout(Duration::from_secs(10), repo.find(doc_id))
        .await
        .expect("find in time")
        .expect("repo running")
        .expect("the assigned case is found");
    let title = handle.with_document(|am| string_at(am, &ROOT, "title"));
    assert_eq!(title.as_deref(), Some("assigned"));

    // A contact written by samod reaches the relay's storage.
    let heads = handle.with_document(|am| {
        am.transact::<_, _, automerge::AutomergeError>(|tx| {
            let (_, contacts) = tx.get(ROOT, "contacts")?.expect("contacts map");
            let contact = tx.put_object(&contacts, "5a30d0005a30d000", ObjType::Map)?;
            tx.put(&contact, "note", "Walk by the river.")?;
            Ok(())
        })
        .expect("local write");
        am.get_heads()
    });
    eventually("the relay's storage has samod's change", async || {
        relay
            .storage
            .doc(&case)
            .is_some_and(|stored| heads.iter().all(|h| stored.get_change_by_hash(h).is_some()))
    })
    .await;
    let stored = relay.storage.doc(&case).expect("stored durably");
    let (_, contacts) = stored.get(ROOT, "contacts").unwrap().unwrap();
    let (_, contact) = stored.get(&contacts, "5a30d0005a30d000").unwrap().unwrap();
    assert_eq!(
        string_at(&stored, &contact, "note").as_deref(),
        Some("Walk by the river.")
    );

    // A change made on the relay reaches samod's open document.
    relay
        .write(case, |am| {
            am.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.put(ROOT, "status", "closed")?;
                Ok(())
            })
            .expect("relay write");
        })
        .await;
    eventually("samod sees the relay's change", async || {
        handle
            .with_document(|am| string_at(am, &ROOT, "status"))
            .as_deref()
            == Some("closed")
    })
    .await;

    // A case it was not granted is unavailable, like a missing id.
    let foreign_id: samod::DocumentId = foreign.to_string().parse().expect("same id format");
    let found = tokio::time::timeout(Duration::from_secs(10), repo.find(foreign_id))
        .await
        .expect("an answer in time")
        .expect("repo running");
    assert!(found.is_none(), "a foreign case must not be served");

    repo.stop().await;
}
