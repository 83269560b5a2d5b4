//! The one conversion into `ApiError`: every kind of core failure lands on the variant that
//! names what the app can do, and no message repeats what the user typed.

use peerlog_core::client::ClientError;
use peerlog_core::crypto::CryptoError;
use peerlog_core::document::{DocumentError, EditError, Invalid, NewContact, Problem};
use peerlog_core::ids::CaseId;
use peerlog_core::local::LocalError;
use peerlog_core::model::{Boundaries, ContactMode, Initiator, ServiceUser};
use peerlog_core::net::NetError;
use peerlog_core::store::StoreError;
use peerlog_core::{CaseDoc, EditCtx, NewCase};
use rand::SeedableRng as _;

use super::ApiError;

fn refused(status: u16, code: &str) -> NetError {
    NetError::Refused {
        status,
        code: code.to_owned(),
    }
}

fn is_network(e: &ApiError) -> bool {
    matches!(e, ApiError::Network { .. })
}

#[test]
fn invalid_input_names_the_field_and_the_problem() {
    let e: ApiError = LocalError::Edit(EditError::Invalid(Invalid {
        field: "minutes",
        problem: Problem::OutOfRange,
    }))
    .into();
    assert_eq!(
        e,
        ApiError::InvalidInput {
            field: "minutes".to_owned(),
            problem: "is out of range".to_owned()
        }
    );
    let key: ApiError = CryptoError::KeyLength { len: 3 }.into();
    assert!(matches!(key, ApiError::InvalidInput { field, .. } if field == "key"));
    let url: ApiError = NetError::BadUrl.into();
    assert!(matches!(url, ApiError::InvalidInput { field, .. } if field == "relayUrl"));
    let code: ApiError = refused(400, "invalid_code").into();
    assert!(matches!(code, ApiError::InvalidInput { field, .. } if field == "code"));
    let closed: ApiError = EditError::CaseClosed.into();
    assert!(matches!(closed, ApiError::InvalidInput { field, .. } if field == "caseId"));
}

#[test]
fn missing_records_are_not_found() {
    assert_eq!(
        ApiError::from(LocalError::UnknownCase),
        ApiError::NotFound {
            what: "case".to_owned()
        }
    );
    assert_eq!(
        ApiError::from(EditError::NotFound { what: "goal" }),
        ApiError::NotFound {
            what: "goal".to_owned()
        }
    );
    assert_eq!(
        ApiError::from(EditError::ContactDeleted),
        ApiError::NotFound {
            what: "contact".to_owned()
        }
    );
}

#[test]
fn enrolment_problems_ask_for_a_new_code() {
    for e in [
        NetError::NotEnrolled,
        refused(401, "unauthorized"),
        refused(401, "invalid_signature"),
        NetError::Store(StoreError::WrongKey),
    ] {
        assert_eq!(ApiError::from(e), ApiError::NeedsReenrolment);
    }
    assert_eq!(
        ApiError::from(StoreError::WrongKey),
        ApiError::NeedsReenrolment,
        "a key that no longer opens the store: start afresh"
    );
}

#[test]
fn wipe_orders_and_lock_state_map_to_their_own_variants() {
    assert_eq!(
        ApiError::from(NetError::Wiped),
        ApiError::WipedByOrganisation
    );
    assert_eq!(
        ApiError::from(refused(403, "device_revoked")),
        ApiError::WipedByOrganisation
    );
    assert_eq!(ApiError::from(LocalError::Locked), ApiError::Locked);
    assert_eq!(
        ApiError::from(NetError::Local(LocalError::Locked)),
        ApiError::Locked
    );
    assert_eq!(
        ApiError::from(NetError::Client(ClientError::Local(LocalError::Locked))),
        ApiError::Locked
    );
}

#[test]
fn connection_trouble_is_retry_later() {
    for e in [
        NetError::Timeout,
        NetError::Closed,
        NetError::BadFrame,
        NetError::Unauthorized,
        NetError::BadResponse("token"),
        refused(429, "rate_limited"),
        refused(500, "internal"),
        refused(502, "unknown"),
        NetError::Client(ClientError::RelayError),
    ] {
        let mapped = ApiError::from(e);
        assert!(is_network(&mapped), "{mapped:?}");
    }
}

#[test]
fn storage_and_bugs_are_told_apart() {
    assert!(matches!(
        ApiError::from(StoreError::Corrupt { what: "case" }),
        ApiError::Storage { reason } if reason.contains("corrupt")
    ));
    assert!(matches!(
        ApiError::from(StoreError::NewerSchema {
            found: 9,
            supported: 2
        }),
        ApiError::Storage { .. }
    ));
    assert!(matches!(
        ApiError::from(LocalError::Load(DocumentError::IdMismatch)),
        ApiError::Storage { .. }
    ));
    assert!(matches!(
        ApiError::from(CryptoError::Unauthentic),
        ApiError::Storage { .. }
    ));
    assert!(matches!(
        ApiError::from(NetError::Task),
        ApiError::Internal { .. }
    ));
    assert!(matches!(
        ApiError::from(refused(400, "bad_request")),
        ApiError::Internal { .. }
    ));
    assert!(matches!(
        ApiError::from(CryptoError::Random),
        ApiError::Internal { .. }
    ));
}

#[test]
fn a_refused_edit_does_not_echo_the_input() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let relay = "relay".parse().unwrap();
    let now = 1_795_881_600_000;
    let mut doc = CaseDoc::create(
        NewCase {
            id: CaseId::random(&mut rng),
            team: "team".parse().unwrap(),
            prw: "prw".parse().unwrap(),
            service_user: ServiceUser {
                alias: "Fjellrev".into(),
                birth_year: None,
                interests: vec![],
                background: vec![],
            },
            started_on: jiff::civil::date(2026, 9, 1),
            planned_end: jiff::civil::date(2028, 9, 1),
            boundaries: Boundaries::default(),
        },
        automerge_actor(),
        &mut EditCtx {
            now,
            device: &relay,
            rng: &mut rng,
        },
    )
    .unwrap();
    let secret = "Kari-Nordmann-private ".repeat(200);
    let err = doc
        .log_contact(
            &mut EditCtx {
                now,
                device: &relay,
                rng: &mut rng,
            },
            &NewContact {
                at: now - 3_600_000,
                tz_offset_min: 60,
                minutes: 30,
                mode: ContactMode::Phone,
                initiated_by: Initiator::Prw,
                topics: vec![],
                support_types: vec![],
                note: secret,
                flag_for_guidance: false,
            },
        )
        .unwrap_err();
    let api = ApiError::from(err);
    assert!(matches!(&api, ApiError::InvalidInput { field, .. } if field == "note"));
    for text in [api.to_string(), format!("{api:?}")] {
        assert!(!text.contains("Kari"), "{text}");
    }
}

fn automerge_actor() -> automerge::ActorId {
    automerge::ActorId::from([7u8; 16].as_slice())
}
