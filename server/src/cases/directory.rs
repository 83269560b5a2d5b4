//! Per-user directory documents: read-only Automerge documents, written only by the relay,
//! listing the cases a user may see and the organisation settings devices need offline.
//!
//! Shape (schema 1, camelCase, snapshot-tested below):
//! ```text
//! { schema: 1, kind: "directory", userId, role,
//!   cases: { <caseId>: { status, team, prw, access: "readWrite" | "read" } },
//!   settings: { timeZone, officeHours: {days, from, to}, thresholds: {...},
//!               lostPhone: {lockAfterDays, wipeAfterDays} } }
//! ```
//! The directory deliberately holds **no alias**: Automerge keeps every value ever written in a
//! document's history, so an alias written here would outlive the case's erasure in every
//! directory that ever listed it. Devices read the alias from the case document itself, which
//! erasure deletes whole. Case ids, statuses and opaque user/team ids are not personal data.
//!
//! Updates are diffs: [`write_json`] changes only the keys whose values differ, so an unchanged
//! directory costs nothing and a status change is one operation.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{Automerge, AutomergeError, ObjId, ObjType, ReadDoc, ScalarValue, Value};
use peerlog_core::ids::UserId;
use serde_json::{Map, Value as Json, json};

use crate::auth::crypto::sha256;
use crate::cases::access::AccessSnapshot;
use crate::db::identity::role_code;
use crate::db::org::SettingsDto;
use crate::sync::ports::Access;

/// The directory a user should have now, as JSON; `None` for an unknown user.
pub fn desired(
    snap: &AccessSnapshot,
    settings: &SettingsDto,
    user: &UserId,
    now: i64,
) -> Option<Json> {
    let grant = snap.user(user)?;
    let mut cases = Map::new();
    for (case, access) in snap.visible_cases(user, now) {
        cases.insert(
            case.id.to_string(),
            json!({
                "status": case.status.code(),
                "team": case.team.as_str(),
                "prw": case.prw.as_str(),
                "access": if access == Access::ReadWrite { "readWrite" } else { "read" },
            }),
        );
    }
    Some(json!({
        "schema": 1,
        "kind": "directory",
        "userId": user.as_str(),
        "role": role_code(grant.role),
        "cases": cases,
        "settings": serde_json::to_value(settings).unwrap_or(Json::Null),
    }))
}

/// A digest of a directory's content, to skip writes that would change nothing.
pub fn digest(directory: &Json) -> [u8; 32] {
    sha256(&serde_json::to_vec(directory).unwrap_or_default())
}

/// Makes the document's root equal `desired` (an object) with as few operations as possible,
/// in one change.
pub fn write_json(doc: &mut Automerge, desired: &Json) -> Result<(), AutomergeError> {
    let Json::Object(map) = desired else {
        return Ok(());
    };
    doc.transact_with::<_, _, AutomergeError, _>(
        |_| CommitOptions::default().with_message("directory"),
        |tx| sync_map(tx, &automerge::ROOT, map),
    )
    .map(|_| ())
    .map_err(|failure| failure.error)
}

fn scalar(v: &Json) -> ScalarValue {
    match v {
        Json::Bool(b) => ScalarValue::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => ScalarValue::Int(i),
            None => ScalarValue::F64(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => ScalarValue::Str(s.as_str().into()),
        _ => ScalarValue::Null,
    }
}

fn sync_map<T: Transactable + ReadDoc>(
    tx: &mut T,
    obj: &ObjId,
    desired: &Map<String, Json>,
) -> Result<(), AutomergeError> {
    let existing: Vec<String> = tx.keys(obj).collect();
    for key in existing {
        if !desired.contains_key(&key) {
            tx.delete(obj, key.as_str())?;
        }
    }
    for (key, value) in desired {
        let current = tx.get(obj, key.as_str())?;
        match value {
            Json::Object(child) => {
                let id = match current {
                    Some((Value::Object(ObjType::Map), id)) => id,
                    _ => tx.put_object(obj, key.as_str(), ObjType::Map)?,
                };
                sync_map(tx, &id, child)?;
            }
            Json::Array(items) => {
                let same = match &current {
                    Some((Value::Object(ObjType::List), id)) => {
                        to_json_obj(tx, id, ObjType::List) == *value
                    }
                    _ => false,
                };
                if !same {
                    let list = tx.put_object(obj, key.as_str(), ObjType::List)?;
                    for (i, item) in items.iter().enumerate() {
                        tx.insert(&list, i, scalar(item))?;
                    }
                }
            }
            other => {
                let want = scalar(other);
                let same = matches!(&current, Some((Value::Scalar(v), _)) if v.as_ref() == &want);
                if !same {
                    tx.put(obj, key.as_str(), want)?;
                }
            }
        }
    }
    Ok(())
}

/// Reads a whole document back as JSON (for tests, `peerlog check` and tools).
pub fn to_json<R: ReadDoc>(doc: &R) -> Json {
    to_json_obj(doc, &automerge::ROOT, ObjType::Map)
}

fn value_json<R: ReadDoc>(doc: &R, value: Value<'_>, id: ObjId) -> Json {
    match value {
        Value::Object(kind) => to_json_obj(doc, &id, kind),
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Int(i) => json!(i),
            ScalarValue::Uint(u) => json!(u),
            ScalarValue::F64(f) => json!(f),
            ScalarValue::Str(s) => json!(s.as_str()),
            ScalarValue::Boolean(b) => json!(b),
            ScalarValue::Timestamp(t) => json!(t),
            _ => Json::Null,
        },
    }
}

fn to_json_obj<R: ReadDoc>(doc: &R, obj: &ObjId, kind: ObjType) -> Json {
    match kind {
        ObjType::Map | ObjType::Table => {
            let mut out = Map::new();
            for key in doc.keys(obj) {
                if let Ok(Some((value, id))) = doc.get(obj, key.as_str()) {
                    out.insert(key.clone(), value_json(doc, value, id));
                }
            }
            Json::Object(out)
        }
        ObjType::List => Json::Array(
            (0..doc.length(obj))
                .filter_map(|i| doc.get(obj, i).ok().flatten())
                .map(|(value, id)| value_json(doc, value, id))
                .collect(),
        ),
        ObjType::Text => json!(doc.text(obj).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writing_json_round_trips_and_rewrites_only_changes() {
        let mut doc = Automerge::new();
        let first = json!({
            "schema": 1,
            "cases": {"a": {"status": "active"}, "b": {"status": "active"}},
            "settings": {"days": [1, 2, 3], "share": 0.5, "tz": "Europe/Oslo", "on": true}
        });
        write_json(&mut doc, &first).unwrap();
        assert_eq!(to_json(&doc), first);
        let changes = doc.get_changes(&[]).len();

        write_json(&mut doc, &first).unwrap();
        assert_eq!(
            doc.get_changes(&[]).len(),
            changes,
            "no change, no new change"
        );

        let second = json!({
            "schema": 1,
            "cases": {"a": {"status": "closed"}},
            "settings": {"days": [1, 2], "share": 0.5, "tz": "Europe/Oslo", "on": true}
        });
        let heads = doc.get_heads();
        write_json(&mut doc, &second).unwrap();
        assert_eq!(to_json(&doc), second);
        assert_eq!(doc.get_changes(&heads).len(), 1, "one change per update");
    }
}
