use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::store::MemoryStore;

#[test]
fn backoff_stays_within_the_exponential_ceiling() {
    let mut rng = StdRng::seed_from_u64(7);
    for attempt in 0..80u32 {
        let ceiling = BACKOFF_BASE
            .saturating_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
            .min(BACKOFF_CAP);
        for _ in 0..200 {
            let d = backoff(attempt, &mut rng);
            assert!(d <= ceiling, "attempt {attempt}: {d:?} > {ceiling:?}");
        }
    }
}

#[test]
fn backoff_is_capped_and_jittered() {
    let mut rng = StdRng::seed_from_u64(1);
    let late: Vec<Duration> = (0..500).map(|_| backoff(u32::MAX, &mut rng)).collect();
    assert!(late.iter().all(|d| *d <= BACKOFF_CAP));
    // Full jitter: spread over the whole range, not clustered at the cap.
    assert!(late.iter().any(|d| *d < BACKOFF_CAP / 4));
    assert!(late.iter().any(|d| *d > BACKOFF_CAP * 3 / 4));
    let first: Vec<Duration> = (0..500).map(|_| backoff(0, &mut rng)).collect();
    assert!(first.iter().all(|d| *d <= BACKOFF_BASE));
}

#[test]
fn backoff_grows_on_average_and_is_replayable() {
    let mean = |attempt: u32| {
        let mut rng = StdRng::seed_from_u64(3);
        (0..400)
            .map(|_| backoff(attempt, &mut rng).as_millis())
            .sum::<u128>()
            / 400
    };
    assert!(mean(0) < mean(3));
    assert!(mean(3) < mean(6));
    let a: Vec<_> = {
        let mut rng = StdRng::seed_from_u64(9);
        (0..10).map(|i| backoff(i, &mut rng)).collect()
    };
    let b: Vec<_> = {
        let mut rng = StdRng::seed_from_u64(9);
        (0..10).map(|i| backoff(i, &mut rng)).collect()
    };
    assert_eq!(a, b);
}

#[test]
fn relay_answers_are_interpreted() {
    assert_eq!(interpret(200, json!({"token": "t"})).unwrap()["token"], "t");
    assert!(matches!(
        interpret(403, json!({"code": "device_revoked", "wipe": true})),
        Err(NetError::Wiped)
    ));
    match interpret(400, json!({"code": "invalid_code", "message": "x"})) {
        Err(NetError::Refused { status, code }) => {
            assert_eq!((status, code.as_str()), (400, "invalid_code"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        interpret(500, Value::Null),
        Err(NetError::Refused { status: 500, .. })
    ));
}

#[test]
fn urls_are_checked_and_tokens_escaped() {
    assert_eq!(
        base_url("http://127.0.0.1:9/").unwrap(),
        "http://127.0.0.1:9"
    );
    assert!(matches!(base_url("ftp://x"), Err(NetError::BadUrl)));
    assert_eq!(percent_encode("aZ09-_.~"), "aZ09-_.~");
    assert_eq!(percent_encode("a+b/c="), "a%2Bb%2Fc%3D");
    assert!(Trust::default().rustls_config().is_ok());
}

#[test]
fn enrolment_round_trips_through_the_store() {
    let enrolment = Enrolment {
        device_id: "dev-1".parse().unwrap(),
        peer_id: PeerId::new("peer-1").unwrap(),
        user_id: "user-1".parse().unwrap(),
        role: "prw".into(),
        directory_doc_id: CaseId::random(&mut StdRng::seed_from_u64(2)),
    };
    let mut store = MemoryStore::default();
    assert!(load_enrolment(&store).unwrap().is_none());
    store
        .put_secret(ENROLMENT_SECRET, enrolment.to_json().to_string().as_bytes())
        .unwrap();
    assert_eq!(load_enrolment(&store).unwrap(), Some(enrolment.clone()));
    let (cases, loaded) = open_cases(store, &mut StdRng::seed_from_u64(4)).unwrap();
    assert_eq!(loaded, enrolment);
    assert_eq!(cases.directory_id(), Some(enrolment.directory_doc_id));
}

#[test]
fn wipe_removes_the_database_and_its_companions() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("device.sqlite3");
    for name in ["device.sqlite3", "device.sqlite3-wal", "device.sqlite3-shm"] {
        std::fs::write(dir.path().join(name), b"x").unwrap();
    }
    std::fs::write(dir.path().join("other"), b"x").unwrap();
    wipe(&db).unwrap();
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, vec!["other".to_owned()]);
    wipe(&db).unwrap();
}

#[test]
fn a_retry_policy_scales_the_same_schedule() {
    let fast = RetryPolicy {
        max_attempts: 5,
        base: Duration::from_millis(5),
        cap: Duration::from_millis(40),
    };
    let mut rng = StdRng::seed_from_u64(3);
    for attempt in 0..20 {
        let ceiling = (5u64 << attempt.min(10)).min(40);
        let d = fast.delay(attempt, &mut rng);
        assert!(d <= Duration::from_millis(ceiling), "{attempt}: {d:?}");
    }
    // The default policy is `backoff`'s schedule.
    let mut a = StdRng::seed_from_u64(9);
    let mut b = StdRng::seed_from_u64(9);
    for attempt in 0..12 {
        assert_eq!(
            backoff(attempt, &mut a),
            RetryPolicy::default().delay(attempt, &mut b)
        );
    }
}

#[test]
fn only_passing_failures_are_retried() {
    let refused = |status| NetError::Refused {
        status,
        code: "x".to_owned(),
    };
    for e in [
        NetError::Closed,
        NetError::Timeout,
        NetError::Task,
        refused(429),
        refused(503),
    ] {
        assert!(e.is_retryable(), "{e}");
    }
    for e in [
        NetError::Wiped,
        NetError::NotEnrolled,
        NetError::BadUrl,
        NetError::Unauthorized,
        NetError::BadCertificate,
        refused(401),
        refused(403),
        refused(400),
    ] {
        assert!(!e.is_retryable(), "{e}");
    }
}

#[test]
fn the_retry_time_is_bounded_by_the_ceilings() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.ceiling(0), BACKOFF_BASE);
    assert_eq!(policy.ceiling(3), BACKOFF_BASE * 8);
    assert_eq!(policy.ceiling(40), BACKOFF_CAP);
    assert_eq!(policy.ceiling(u32::MAX), BACKOFF_CAP);
    // 8 attempts, 7 waits: 0.5 + 1 + 2 + 4 + 8 + 16 + 32 s.
    assert_eq!(policy.max_total_delay(), Duration::from_millis(63_500));
    let one = RetryPolicy {
        max_attempts: 1,
        ..policy
    };
    assert_eq!(one.max_total_delay(), Duration::ZERO);
    let many = RetryPolicy {
        max_attempts: u32::MAX,
        ..policy
    };
    assert!(many.max_total_delay() >= BACKOFF_CAP);
    let mut rng = StdRng::seed_from_u64(5);
    for attempt in 0..70 {
        assert!(policy.delay(attempt, &mut rng) <= policy.ceiling(attempt));
    }
}

/// A device enrolled at `relay` (never contacted at enrolment), with its key in a memory store.
fn enrolled_device(relay: &str) -> (Syncer, LocalCases<MemoryStore>) {
    let mut rng = StdRng::seed_from_u64(11);
    let enrolment = Enrolment {
        device_id: "dev-r".parse().unwrap(),
        peer_id: PeerId::new("peer-r").unwrap(),
        user_id: "user-r".parse().unwrap(),
        role: "prw".into(),
        directory_doc_id: CaseId::random(&mut rng),
    };
    let mut store = MemoryStore::default();
    store
        .put_secret(DEVICE_KEY_SECRET, &DeviceKey::generate_pkcs8().unwrap())
        .unwrap();
    store
        .put_secret(ENROLMENT_SECRET, enrolment.to_json().to_string().as_bytes())
        .unwrap();
    let (cases, enrolment) = open_cases(store, &mut rng).unwrap();
    (Syncer::new(relay, enrolment).unwrap(), cases)
}

/// Answers each HTTP request on 127.0.0.1 with the next `(status, JSON body)`; the last answer
/// repeats. Returns the base URL and the count of requests served.
async fn canned_relay(
    answers: Vec<(u16, &'static str)>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = std::sync::Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            // Read the request head and its body (Content-Length).
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = socket.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let n = count.fetch_add(1, Ordering::SeqCst);
            let (status, body) = answers[n.min(answers.len() - 1)];
            let response = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    (url, served)
}

fn fast_policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base: Duration::from_millis(100),
        cap: Duration::from_millis(800),
    }
}

/// Runs the retry loop without waiting; returns its result and the waits it asked for.
async fn retry_recording_waits<S: Store>(
    syncer: &mut Syncer,
    cases: &mut LocalCases<S>,
    max_attempts: u32,
    rng: &mut StdRng,
) -> (Result<SyncReport, NetError>, Vec<Duration>) {
    let mut waits = Vec::new();
    let result = syncer
        .sync_retrying_with(
            cases,
            || 1_000,
            fast_policy(max_attempts),
            rng,
            |d| {
                waits.push(d);
                std::future::ready(())
            },
        )
        .await;
    (result, waits)
}

#[tokio::test]
async fn retries_stop_after_max_attempts_with_the_backoff_schedule() {
    // Nothing listens on this port: every attempt fails to connect (a retryable failure).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (mut syncer, mut cases) = enrolled_device(&format!("http://127.0.0.1:{port}"));
    let policy = fast_policy(5);
    let (result, waits) = retry_recording_waits(
        &mut syncer,
        &mut cases,
        policy.max_attempts,
        &mut StdRng::seed_from_u64(21),
    )
    .await;
    assert!(matches!(&result, Err(e) if e.is_retryable()), "{result:?}");
    // Five attempts, four waits, drawn from the policy's schedule with the same randomness.
    let mut rng = StdRng::seed_from_u64(21);
    let expected: Vec<Duration> = (0..4).map(|a| policy.delay(a, &mut rng)).collect();
    assert_eq!(waits, expected);
    assert!(waits.iter().sum::<Duration>() <= policy.max_total_delay());
}

#[tokio::test]
async fn retries_stop_at_once_on_a_wipe_order() {
    // The relay is restarting twice (503), then answers that this device was revoked.
    let (url, served) = canned_relay(vec![
        (503, r#"{"code":"unavailable"}"#),
        (503, r#"{"code":"unavailable"}"#),
        (403, r#"{"code":"device_revoked","wipe":true}"#),
        (500, r#"{"code":"must_not_be_asked"}"#),
    ])
    .await;
    let (mut syncer, mut cases) = enrolled_device(&url);
    let (result, waits) =
        retry_recording_waits(&mut syncer, &mut cases, 10, &mut StdRng::seed_from_u64(3)).await;
    let waits = waits.len();
    assert!(matches!(result, Err(NetError::Wiped)), "{result:?}");
    assert_eq!(waits, 2);
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn refusals_and_local_failures_are_not_retried() {
    let (url, served) = canned_relay(vec![(403, r#"{"code":"bad_signature"}"#)]).await;
    let (mut syncer, mut cases) = enrolled_device(&url);
    let (result, waits) =
        retry_recording_waits(&mut syncer, &mut cases, 10, &mut StdRng::seed_from_u64(3)).await;
    let waits = waits.len();
    assert!(
        matches!(&result, Err(NetError::Refused { status: 403, code }) if code == "bad_signature"),
        "{result:?}"
    );
    assert_eq!(
        (waits, served.load(std::sync::atomic::Ordering::SeqCst)),
        (0, 1)
    );

    // No device key in the store: nothing to retry, and the relay is never asked.
    let (url, served) = canned_relay(vec![(500, "{}")]).await;
    let (mut syncer, _) = enrolled_device(&url);
    let mut rng = StdRng::seed_from_u64(4);
    let mut bare =
        LocalCases::open(MemoryStore::default(), "dev-r".parse().unwrap(), &mut rng).unwrap();
    let (result, bare_waits) = retry_recording_waits(&mut syncer, &mut bare, 10, &mut rng).await;
    let waits = bare_waits.len();
    assert!(matches!(result, Err(NetError::NotEnrolled)), "{result:?}");
    assert_eq!(
        (waits, served.load(std::sync::atomic::Ordering::SeqCst)),
        (0, 0)
    );
}

#[test]
fn the_heads_a_sync_message_announces_are_read_without_decoding_it() {
    use automerge::sync::SyncDoc as _;
    use automerge::transaction::Transactable as _;
    let mut doc = automerge::Automerge::new();
    let empty = doc
        .generate_sync_message(&mut automerge::sync::State::new())
        .unwrap()
        .encode();
    assert_eq!(announced_heads(&empty), Some(&[0u8][..]));
    for n in 0..3 {
        let mut tx = doc.transaction();
        tx.put(automerge::ROOT, "n", n as i64).unwrap();
        tx.commit();
    }
    let mut other = automerge::Automerge::new();
    let mut tx = other.transaction();
    tx.put(automerge::ROOT, "m", 1).unwrap();
    tx.commit();
    doc.merge(&mut other).unwrap();
    let mut heads = doc.get_heads();
    heads.sort();
    assert_eq!(heads.len(), 2);
    let mut state = automerge::sync::State::new();
    let message = doc.generate_sync_message(&mut state).unwrap();
    let bytes = message.encode();
    let mut expected = vec![2u8];
    for h in &heads {
        expected.extend_from_slice(&h.0);
    }
    assert_eq!(announced_heads(&bytes), Some(expected.as_slice()));
    // Not a sync message, or cut short.
    assert_eq!(announced_heads(&[]), None);
    assert_eq!(announced_heads(&[0x00, 0x00]), None);
    assert_eq!(announced_heads(&bytes[..20]), None);
    assert_eq!(announced_heads(&[0x42, 0xff, 0xff]), None);
    assert_eq!(
        announced_heads(&[
            0x42, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
        ]),
        None
    );
}
