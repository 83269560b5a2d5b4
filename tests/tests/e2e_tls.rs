//! A phone syncing over `https://` and `wss://` with a relay that serves TLS itself, using a
//! certificate from the organisation's own CA (`Trust::own_ca_pem`): enrolment, token and sync
//! all verify the relay's certificate, and a device that trusts only the public roots cannot even
//! enrol with that relay.

use peerlog_core::crypto::StoreKey;
use peerlog_core::ids::CaseId;
use peerlog_core::net::{self, NetError, Syncer, Trust};
use peerlog_core::store::SqliteStore;
use peerlog_tests::device::{LiveRelay, TestDevice, wall_ms};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_syncs_over_wss_with_the_organisations_own_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let issued = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("cert");
    let cert = dir.path().join("relay.pem");
    let key = dir.path().join("relay.key");
    std::fs::write(&cert, issued.cert.pem()).expect("write cert");
    std::fs::write(&key, issued.signing_key.serialize_pem()).expect("write key");
    let relay = LiveRelay::start_tls(cert, key).await;
    assert!(relay.url().starts_with("https://127.0.0.1:"));

    relay.admin(&["team", "add", "North"]).await;
    relay
        .admin(&["user", "add", "ola", "--role", "prw", "--team", "North"])
        .await;
    let case: CaseId = relay
        .admin(&["case", "open", "--prw", "ola", "--alias", "Trane"])
        .await["caseId"]
        .as_str()
        .expect("case id")
        .parse()
        .expect("valid case id");

    // Trusting only the public roots, the relay's private certificate is refused.
    let code = relay.admin(&["enrol-code", "--user", "ola"]).await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let mut untrusting = SqliteStore::open(
        &dir.path().join("untrusting.sqlite3"),
        StoreKey::from_bytes(&[3; 32]).expect("key"),
    )
    .expect("store");
    let refused = net::enrol(&mut untrusting, &relay.url(), &code, "phone").await;
    assert!(matches!(refused, Err(NetError::Http(_))), "{refused:?}");

    // Trusting the organisation's CA: enrol, log offline, sync over wss://.
    let trust = Trust::own_ca_pem(issued.cert.pem().as_bytes()).expect("CA parses");
    let path = dir.path().join("phone.sqlite3");
    let mut store =
        SqliteStore::open(&path, StoreKey::from_bytes(&[4; 32]).expect("key")).expect("store");
    let enrolment = net::enrol_trusting(&mut store, &relay.url(), &code, "phone", &trust)
        .await
        .expect("enrols over https");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (cases, _) = net::open_cases(store, &mut rng).expect("open");
    let syncer = Syncer::new(&relay.url(), enrolment)
        .expect("syncer")
        .with_trust(trust);
    let mut phone = TestDevice {
        name: "phone".to_owned(),
        path,
        cases,
        syncer,
        rng,
    };
    // The running relay picks up the CLI's new case within about a second.
    for _ in 0..40 {
        let report = phone.sync().await.expect("sync over wss");
        assert!(report.received_frames > 0);
        if phone.cases.case_ids() == [case] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(
        phone.cases.case_ids(),
        [case],
        "the directory brought the case"
    );

    phone.log_contact(&case, wall_ms(), "Talked through the week over coffee.");
    assert_eq!(phone.cases.pending_count().expect("pending"), 1);
    let report = phone.sync().await.expect("sync over wss");
    assert_eq!(report.pending_after, 0, "{report:?}");
    assert_eq!(relay.heads(&case), phone.heads(&case));
    relay.stop().await;
}
