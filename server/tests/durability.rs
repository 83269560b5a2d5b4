//! Durability across `kill -9`: a device syncs a batch of contacts until the relay's heads contain
//! them (the relay fsyncs before it sends heads), the relay process is killed with SIGKILL at once,
//! the device's local data is thrown away, the relay restarts on the same data directory, and a
//! fresh copy of the device must find every acknowledged contact.
//!
//! Cycles: `PEERLOG_DURABILITY_CYCLES` (default 20; `scripts/soak-durability.sh` runs 500).
//! Seed: printed; replay with `PEERLOG_SEED=<seed>`.

mod common;

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{cli, raw, token_for};
use futures_util::{SinkExt, StreamExt};
use peerlog_core::client::SyncClient;
use peerlog_core::document::NewContact;
use peerlog_core::ids::{CaseId, EntryId};
use peerlog_core::local::LocalCases;
use peerlog_core::model::{ContactMode, Initiator, LifeArea};
use peerlog_core::protocol::{Message, PeerId};
use peerlog_core::store::MemoryStore;
use peerlog_server::auth::crypto::DeviceKeyPair;
use peerlog_server::auth::secrets;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message as Frame;

/// The relay as a child process, killed (SIGKILL) when dropped.
struct RelayProcess {
    child: Child,
    addr: SocketAddr,
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_relay(data: &Path) -> RelayProcess {
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

/// One WebSocket session of the device, until `done` holds (or the time runs out: `false`).
async fn sync_until(
    addr: SocketAddr,
    token: &str,
    client: &mut SyncClient,
    cases: &mut LocalCases<MemoryStore>,
    done: impl Fn(&LocalCases<MemoryStore>) -> bool,
) -> bool {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/sync?token={token}"))
        .await
        .unwrap();
    ws.send(Frame::Binary(client.connect().encode().into()))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut reached = false;
    while !reached {
        let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, ws.next()).await else {
            break;
        };
        let Frame::Binary(bytes) = frame else {
            continue;
        };
        let out = client
            .handle(Message::decode(&bytes).unwrap(), cases)
            .unwrap();
        for message in out.send {
            ws.send(Frame::Binary(message.encode().into()))
                .await
                .unwrap();
        }
        reached = done(cases);
    }
    client.disconnect(cases).unwrap();
    let _ = ws.close(None).await;
    reached
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_sigkill_of_the_relay() {
    let cycles: usize = std::env::var("PEERLOG_DURABILITY_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("PEERLOG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    println!("durability seed: {seed} (replay with PEERLOG_SEED={seed}), {cycles} cycles");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);

    // An organisation with one PRW and one case, set up by the CLI before the relay starts.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_c = data.clone();
    let (case, code) = tokio::task::spawn_blocking(move || {
        cli(&data_c, &["admin", "init"]);
        cli(&data_c, &["admin", "team", "add", "North"]);
        cli(
            &data_c,
            &[
                "admin", "user", "add", "ola", "--role", "prw", "--team", "North",
            ],
        );
        let opened = cli(
            &data_c,
            &[
                "admin",
                "case",
                "open",
                "--prw",
                "ola",
                "--alias",
                "Lundefugl",
            ],
        );
        let code = cli(&data_c, &["admin", "enrol-code", "--user", "ola"]);
        (
            opened["caseId"]
                .as_str()
                .unwrap()
                .parse::<CaseId>()
                .unwrap(),
            code["code"].as_str().unwrap().to_owned(),
        )
    })
    .await
    .unwrap();

    let mut relay = start_relay(&data).await;
    let key = DeviceKeyPair::generate().unwrap();
    let (status, enrolled) = common::post_socket(
        relay.addr,
        "/api/v1/enrol",
        json!({"code": code, "publicKey": secrets::encode_base64(&key.public_key())}),
    )
    .await;
    assert_eq!(status, 200, "{enrolled}");
    let device = enrolled["deviceId"].as_str().unwrap().to_owned();
    let peer = PeerId::new(enrolled["peerId"].as_str().unwrap()).unwrap();

    let fresh_device = |rng: &mut ChaCha8Rng| {
        let cases =
            LocalCases::open(MemoryStore::default(), "phone".parse().unwrap(), rng).unwrap();
        (
            cases,
            SyncClient::new(peer.clone(), format!("store-{}", rng.random::<u32>())),
        )
    };
    let token = |addr| {
        let (device, key) = (device.clone(), &key);
        async move {
            let (status, body) = token_for(addr, &device, key).await;
            assert_eq!(status, 200, "{body}");
            body["token"].as_str().unwrap().to_owned()
        }
    };
    let has_all = |expected: BTreeSet<EntryId>| {
        move |cases: &LocalCases<MemoryStore>| {
            cases
                .read(&case)
                .is_ok_and(|c| expected.iter().all(|id| c.contacts.contains_key(id)))
        }
    };

    let (mut cases, mut client) = fresh_device(&mut rng);
    client.want(case, &mut cases).unwrap();
    assert!(
        sync_until(
            relay.addr,
            &token(relay.addr).await,
            &mut client,
            &mut cases,
            has_all(BTreeSet::new())
        )
        .await,
        "the device fetches its case"
    );

    let mut acknowledged: BTreeSet<EntryId> = BTreeSet::new();
    for cycle in 0..cycles {
        let now = peerlog_server::clock::now_ms();
        for n in 0..rng.random_range(1..8) {
            let contact = NewContact {
                at: now - 60_000,
                tz_offset_min: 60,
                minutes: rng.random_range(5..90),
                mode: ContactMode::Phone,
                initiated_by: Initiator::ServiceUser,
                topics: vec![LifeArea::Network],
                support_types: vec![],
                note: format!("cycle {cycle} contact {n}"),
                flag_for_guidance: false,
            };
            let id = cases
                .edit(&case, now, &mut rng, |doc, ctx| {
                    doc.log_contact(ctx, &contact)
                })
                .unwrap();
            acknowledged.insert(id);
        }
        // Sync until the relay's heads contain every local change...
        let synced = sync_until(
            relay.addr,
            &token(relay.addr).await,
            &mut client,
            &mut cases,
            |c| c.pending_count().unwrap() == 0,
        )
        .await;
        assert!(
            synced,
            "cycle {cycle} (seed {seed}): the relay never confirmed the batch"
        );

        // ...then kill the relay at once, lose the phone's data, and restart the relay.
        drop(relay);
        relay = start_relay(&data).await;
        (cases, client) = fresh_device(&mut rng);
        client.want(case, &mut cases).unwrap();
        let recovered = sync_until(
            relay.addr,
            &token(relay.addr).await,
            &mut client,
            &mut cases,
            has_all(acknowledged.clone()),
        )
        .await;
        let held = cases.read(&case).map(|c| c.contacts.len()).unwrap_or(0);
        assert!(
            recovered,
            "cycle {cycle} (seed {seed}): {} acknowledged contacts, the restarted relay had {held}",
            acknowledged.len()
        );
    }
    println!(
        "{cycles} SIGKILL cycles: all {} acknowledged contacts survived",
        acknowledged.len()
    );
}
