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
    assert!(tls_config().is_ok());
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
