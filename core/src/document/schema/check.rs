//! The door check: whether a batch of changes a device made may be kept in a case document.
//!
//! Access decides which documents a device may touch; this decides what its changes may contain
//! (DESIGN.md "Content is checked at the door"). It looks at every operation of the changes, not
//! only at the values that win: an object written and then hidden by a later change still sits in
//! the document's history, and a merge can make it visible again.
//!
//! What a device may do:
//! - write inside `contacts`, `plan` and `boundaries`, with the types [`ROOT`] gives each field
//!   (a string field takes Automerge Text or a plain string alike: stock clients write Text by
//!   default); fields a newer app version added are accepted inside known entries as scalars;
//! - never write `schema`, `caseId`, `team`, `prw`, `status`, `startedOn`, `plannedEnd`,
//!   `closedReason` or `serviceUser` (the relay's own records), nor replace or remove the maps that
//!   hold entries, nor add root keys, nor nest deeper than the schema does, nor use counters.
//!
//! Every object an operation names is resolved to its place in the schema by walking at most
//! [`MAX_DEPTH`] parents, so a hostile document of any depth costs a bounded walk, never a
//! recursion. Refusals name a schema field, never a value or a key the device chose.

use std::collections::HashMap;

use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::{Automerge, Change, ObjType, Prop, ReadDoc, ScalarValue};

use super::keys;
use crate::document::validate::{EARLIEST_CONTACT_MS, LATEST_CONTACT_MS};

/// The deepest object the case schema has, counting the root as 0 (`plan.goals.<id>.steps.<id>`
/// is 5); anything deeper is refused before its shape is looked at.
pub const MAX_DEPTH: usize = 6;

/// Longest entry key (ids are 16 hex digits; other clients' ids up to this).
const ENTRY_KEY_MAX_BYTES: usize = 64;

/// Longest string scalar: a note at its 2,000-character limit in four-byte characters, twice.
const STRING_MAX_BYTES: usize = 16 * 1024;

/// Why a device's changes are refused. Names a schema field, never content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("`{0}` holds a key the case schema does not know")]
    UnknownKey(&'static str),
    #[error("`{0}` is written by the relay only")]
    RelayOwned(&'static str),
    #[error("`{0}` may not be replaced or removed by a device")]
    Structure(&'static str),
    #[error("`{0}` has the wrong type")]
    WrongType(&'static str),
    #[error("`{0}` is out of range")]
    OutOfRange(&'static str),
    #[error("`{0}` has a malformed entry id")]
    BadEntryKey(&'static str),
    #[error("the changes nest objects deeper than the case schema")]
    TooDeep,
    #[error("the changes use counters, which the case schema has none of")]
    Counter,
    #[error("the changes name an object the document does not hold")]
    UnknownObject,
}

impl Refusal {
    /// A short stable code for metrics and the access log.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::UnknownKey(_) => "unknown-key",
            Refusal::RelayOwned(_) => "relay-owned",
            Refusal::Structure(_) => "structure",
            Refusal::WrongType(_) => "wrong-type",
            Refusal::OutOfRange(_) => "out-of-range",
            Refusal::BadEntryKey(_) => "bad-entry-key",
            Refusal::TooDeep => "too-deep",
            Refusal::Counter => "counter",
            Refusal::UnknownObject => "unknown-object",
        }
    }
}

/// What the checked changes hold, for quotas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checked {
    pub changes: usize,
    pub ops: usize,
    pub bytes: usize,
}

/// The shape of one place in a case document.
#[derive(Debug)]
pub enum Shape {
    /// A map with known fields. Other keys may hold scalars (fields a newer version added).
    Record(&'static str, &'static [Field]),
    /// A map keyed by entry ids, every value of the inner shape; `removable` if a device may
    /// delete an entry (otherwise entries are tombstoned or given a status).
    Entries {
        name: &'static str,
        inner: &'static Shape,
        removable: bool,
    },
    /// A list whose items have the inner shape.
    List(&'static str, &'static Shape),
    /// Automerge Text or a plain string: text two people may edit (goal texts, the use-plan).
    Text(&'static str),
    /// A plain string one person writes (codes, dates, notes); Automerge Text is accepted as
    /// well, because the stock JavaScript client writes every string as Text by default.
    Str(&'static str),
    /// An integer (int, uint or a whole float, as JavaScript writes numbers).
    Int(&'static str),
    /// A point in time in ms: an integer or a timestamp between 2000 and 2200.
    Time(&'static str),
    Bool(&'static str),
}

/// One known key of a [`Shape::Record`].
#[derive(Debug)]
pub struct Field {
    pub key: &'static str,
    pub shape: Shape,
    /// Only the relay writes it (meaningful at the root, where devices may also not replace
    /// containers).
    pub relay_only: bool,
}

const fn field(key: &'static str, shape: Shape) -> Field {
    Field {
        key,
        shape,
        relay_only: false,
    }
}

const fn relay(key: &'static str, shape: Shape) -> Field {
    Field {
        key,
        shape,
        relay_only: true,
    }
}

static STRINGS: Shape = Shape::Str("list item");
static DAYS: Shape = Shape::Int("boundaries.windows.days");

static WINDOW_FIELDS: [Field; 3] = [
    field(keys::DAYS, Shape::List("boundaries.windows.days", &DAYS)),
    field(keys::FROM, Shape::Str("boundaries.windows.from")),
    field(keys::TO, Shape::Str("boundaries.windows.to")),
];
static WINDOW: Shape = Shape::Record("boundaries.windows", &WINDOW_FIELDS);

static CONTACT_FIELDS: [Field; 12] = [
    field(keys::AT, Shape::Time("contacts.at")),
    field(keys::TZ_OFFSET_MIN, Shape::Int("contacts.tzOffsetMin")),
    field(keys::MINUTES, Shape::Int("contacts.minutes")),
    field(keys::MODE, Shape::Str("contacts.mode")),
    field(keys::INITIATED_BY, Shape::Str("contacts.initiatedBy")),
    field(keys::TOPICS, Shape::List("contacts.topics", &STRINGS)),
    field(
        keys::SUPPORT_TYPE,
        Shape::List("contacts.supportType", &STRINGS),
    ),
    field(keys::NOTE, Shape::Text("contacts.note")),
    field(
        keys::FLAG_FOR_GUIDANCE,
        Shape::Bool("contacts.flagForGuidance"),
    ),
    field(keys::LOGGED_BY, Shape::Str("contacts.loggedBy")),
    field(keys::LOGGED_AT, Shape::Time("contacts.loggedAt")),
    field(keys::DELETED, Shape::Bool("contacts.deleted")),
];
static CONTACT: Shape = Shape::Record("contacts", &CONTACT_FIELDS);

static STEP_FIELDS: [Field; 2] = [
    field(keys::TEXT, Shape::Text("plan.goals.steps.text")),
    field(keys::DONE, Shape::Bool("plan.goals.steps.done")),
];
static STEP: Shape = Shape::Record("plan.goals.steps", &STEP_FIELDS);

static GOAL_FIELDS: [Field; 6] = [
    field(keys::AREA, Shape::Str("plan.goals.area")),
    field(keys::TEXT, Shape::Text("plan.goals.text")),
    field(keys::STEPS, entries("plan.goals.steps", &STEP, true)),
    field(keys::STATUS, Shape::Str("plan.goals.status")),
    field(keys::CREATED_AT, Shape::Time("plan.goals.createdAt")),
    field(keys::REVIEW_ON, Shape::Str("plan.goals.reviewOn")),
];
static GOAL: Shape = Shape::Record("plan.goals", &GOAL_FIELDS);

static AGREEMENT_FIELDS: [Field; 2] = [
    field(keys::TEXT, Shape::Text("plan.agreements.text")),
    field(keys::SINCE, Shape::Str("plan.agreements.since")),
];
static AGREEMENT: Shape = Shape::Record("plan.agreements", &AGREEMENT_FIELDS);

static PLAN_FIELDS: [Field; 3] = [
    // Goals are never removed (they are dropped: a status).
    field(keys::GOALS, entries("plan.goals", &GOAL, false)),
    field(
        keys::AGREEMENTS,
        entries("plan.agreements", &AGREEMENT, true),
    ),
    field(keys::USE_PLAN, Shape::Text("plan.usePlan")),
];

static BOUNDARY_FIELDS: [Field; 5] = [
    field(keys::WINDOWS, Shape::List("boundaries.windows", &WINDOW)),
    field(keys::CHANNELS, Shape::List("boundaries.channels", &STRINGS)),
    field(
        keys::MAX_CONTACTS_PER_WEEK,
        Shape::Int("boundaries.maxContactsPerWeek"),
    ),
    field(
        keys::OUTSIDE_HOURS_PLAN,
        Shape::Text("boundaries.outsideHoursPlan"),
    ),
    field(keys::REVIEW_ON, Shape::Str("boundaries.reviewOn")),
];

static SERVICE_USER_FIELDS: [Field; 4] = [
    field(keys::ALIAS, Shape::Str("serviceUser.alias")),
    field(keys::BIRTH_YEAR, Shape::Int("serviceUser.birthYear")),
    field(
        keys::INTERESTS,
        Shape::List("serviceUser.interests", &STRINGS),
    ),
    field(
        keys::BACKGROUND,
        Shape::List("serviceUser.background", &STRINGS),
    ),
];

static ROOT_FIELDS: [Field; 12] = [
    relay(keys::SCHEMA, Shape::Int("schema")),
    relay(keys::CASE_ID, Shape::Str("caseId")),
    relay(keys::TEAM, Shape::Str("team")),
    relay(keys::PRW, Shape::Str("prw")),
    relay(
        keys::SERVICE_USER,
        Shape::Record("serviceUser", &SERVICE_USER_FIELDS),
    ),
    relay(keys::STARTED_ON, Shape::Str("startedOn")),
    relay(keys::PLANNED_END, Shape::Str("plannedEnd")),
    relay(keys::STATUS, Shape::Str("status")),
    relay(keys::CLOSED_REASON, Shape::Str("closedReason")),
    field(
        keys::BOUNDARIES,
        Shape::Record("boundaries", &BOUNDARY_FIELDS),
    ),
    // Contacts are tombstoned (`deleted: true`), never removed.
    field(keys::CONTACTS, entries("contacts", &CONTACT, false)),
    field(keys::PLAN, Shape::Record("plan", &PLAN_FIELDS)),
];

/// The case document's root: every key it may hold. Unknown root keys are refused.
pub static ROOT: Shape = Shape::Record("root", &ROOT_FIELDS);

const fn entries(name: &'static str, inner: &'static Shape, removable: bool) -> Shape {
    Shape::Entries {
        name,
        inner,
        removable,
    }
}

/// Where an object sits: its shape, and whether the checked changes created it (a device may
/// fill a container it just made, such as a new goal's `steps`).
#[derive(Clone, Copy)]
struct Place {
    shape: &'static Shape,
    is_root: bool,
    created_here: bool,
    depth: usize,
    /// Inside a root field only the relay writes (such as `serviceUser`).
    relay_owned: Option<&'static str>,
}

impl Place {
    const ROOT: Place = Place {
        shape: &ROOT,
        is_root: true,
        created_here: false,
        depth: 0,
        relay_owned: None,
    };
}

/// Checks `changes`, already applied to `doc`, as a device's (never the relay's own) writes.
pub fn check_device_changes(doc: &Automerge, changes: &[&Change]) -> Result<Checked, Refusal> {
    let mut checked = Checked::default();
    let mut places: HashMap<OpId, Place> = HashMap::new();
    for change in changes {
        checked.changes += 1;
        checked.ops += change.len();
        checked.bytes += change.raw_bytes().len();
        let expanded = change.decode();
        let actor = expanded.actor_id.clone();
        let start = expanded.start_op.get();
        for (i, op) in expanded.operations.iter().enumerate() {
            let place = match &op.obj {
                ObjectId::Root => Place::ROOT,
                ObjectId::Id(id) => match places.get(id) {
                    Some(place) => *place,
                    None => {
                        let place = resolve(doc, id)?;
                        places.insert(id.clone(), place);
                        place
                    }
                },
            };
            if let Some(child) = check_op(place, &op.key, &op.action)? {
                let id = OpId(start + i as u64, actor.clone());
                places.insert(id, child);
            }
        }
    }
    Ok(checked)
}

/// Checks one operation in an object at `place`; returns the place of the object it makes.
fn check_op(place: Place, key: &Key, action: &OpType) -> Result<Option<Place>, Refusal> {
    if let Some(field) = place.relay_owned {
        return Err(Refusal::RelayOwned(field));
    }
    let target: &'static Shape = match (place.shape, key) {
        (Shape::Record(_, fields), Key::Map(k)) => {
            let Some(f) = fields.iter().find(|f| f.key == k.as_str()) else {
                if place.is_root {
                    return Err(Refusal::UnknownKey("root"));
                }
                return unknown_field(place.shape, action);
            };
            if place.is_root && f.relay_only {
                return Err(Refusal::RelayOwned(f.key));
            }
            // The root's sections and the maps that hold entries are made by the relay (or with
            // the entry that holds them, as a new goal's steps): a device never replaces them.
            if is_container(&f.shape) && (place.is_root || !place.created_here) {
                return Err(Refusal::Structure(f.key));
            }
            &f.shape
        }
        (
            Shape::Entries {
                name,
                inner,
                removable,
            },
            Key::Map(k),
        ) => {
            if k.is_empty() || k.len() > ENTRY_KEY_MAX_BYTES {
                return Err(Refusal::BadEntryKey(name));
            }
            if matches!(action, OpType::Delete) && !removable {
                return Err(Refusal::Structure(name));
            }
            inner
        }
        (Shape::List(_, inner), Key::Seq(_)) => inner,
        (Shape::Text(name) | Shape::Str(name), Key::Seq(_)) => {
            return match action {
                OpType::Put(ScalarValue::Str(_))
                | OpType::Delete
                | OpType::MarkBegin(_)
                | OpType::MarkEnd(_) => Ok(None),
                _ => Err(Refusal::WrongType(name)),
            };
        }
        (shape, _) => return Err(Refusal::WrongType(name_of(shape))),
    };
    match action {
        OpType::Delete | OpType::MarkBegin(_) | OpType::MarkEnd(_) => Ok(None),
        OpType::Increment(_) => Err(Refusal::Counter),
        OpType::Put(value) => put_ok(target, value).map(|()| None),
        OpType::Make(kind) => {
            let fits = matches!(
                (target, kind),
                (Shape::Record(..) | Shape::Entries { .. }, ObjType::Map)
                    | (Shape::List(..), ObjType::List)
                    | (Shape::Text(_) | Shape::Str(_), ObjType::Text)
            );
            if !fits {
                return Err(Refusal::WrongType(name_of(target)));
            }
            let depth = place.depth + 1;
            if depth > MAX_DEPTH {
                return Err(Refusal::TooDeep);
            }
            Ok(Some(Place {
                shape: target,
                is_root: false,
                created_here: true,
                depth,
                relay_owned: None,
            }))
        }
    }
}

/// A key the schema does not know inside a known entry: a newer version's optional scalar.
fn unknown_field(parent: &Shape, action: &OpType) -> Result<Option<Place>, Refusal> {
    match action {
        OpType::Delete => Ok(None),
        OpType::Put(value) => scalar_ok(value, name_of(parent)).map(|()| None),
        OpType::Increment(_) => Err(Refusal::Counter),
        _ => Err(Refusal::UnknownKey(name_of(parent))),
    }
}

fn is_container(shape: &Shape) -> bool {
    matches!(shape, Shape::Entries { .. } | Shape::Record(..))
}

fn put_ok(shape: &Shape, value: &ScalarValue) -> Result<(), Refusal> {
    let name = name_of(shape);
    scalar_ok(value, name)?;
    let fits = match shape {
        Shape::Text(_) | Shape::Str(_) => matches!(value, ScalarValue::Str(_)),
        Shape::Int(_) => whole_number(value).is_some(),
        Shape::Time(_) => {
            let ms = whole_number(value).ok_or(Refusal::WrongType(name))?;
            if !(EARLIEST_CONTACT_MS..=LATEST_CONTACT_MS).contains(&ms) {
                return Err(Refusal::OutOfRange(name));
            }
            true
        }
        Shape::Bool(_) => matches!(value, ScalarValue::Boolean(_)),
        Shape::Record(..) | Shape::Entries { .. } | Shape::List(..) => false,
    };
    if fits {
        Ok(())
    } else {
        Err(Refusal::WrongType(name))
    }
}

/// Refuses scalars no case field ever holds (counters, oversized strings or bytes).
fn scalar_ok(value: &ScalarValue, name: &'static str) -> Result<(), Refusal> {
    match value {
        ScalarValue::Counter(_) => Err(Refusal::Counter),
        ScalarValue::Str(s) if s.len() > STRING_MAX_BYTES => Err(Refusal::OutOfRange(name)),
        ScalarValue::Bytes(b) | ScalarValue::Unknown { bytes: b, .. }
            if b.len() > STRING_MAX_BYTES =>
        {
            Err(Refusal::OutOfRange(name))
        }
        _ => Ok(()),
    }
}

fn whole_number(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Some(*i),
        ScalarValue::Uint(u) => i64::try_from(*u).ok(),
        ScalarValue::F64(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
        _ => None,
    }
}

fn name_of(shape: &Shape) -> &'static str {
    match shape {
        Shape::Record(name, _)
        | Shape::Entries { name, .. }
        | Shape::List(name, _)
        | Shape::Text(name)
        | Shape::Str(name)
        | Shape::Int(name)
        | Shape::Time(name)
        | Shape::Bool(name) => name,
    }
}

/// The place of an object the document already held, found by walking at most [`MAX_DEPTH`]
/// parents up to the root and then the schema down.
fn resolve(doc: &Automerge, id: &OpId) -> Result<Place, Refusal> {
    let (obj, _) = doc
        .import(&format!("{}@{}", id.counter(), id.actor()))
        .map_err(|_| Refusal::UnknownObject)?;
    let parents = doc.parents(&obj).map_err(|_| Refusal::UnknownObject)?;
    let mut path: Vec<Prop> = Vec::with_capacity(MAX_DEPTH);
    for parent in parents {
        if path.len() == MAX_DEPTH {
            return Err(Refusal::TooDeep);
        }
        path.push(parent.prop);
    }
    let mut place = Place::ROOT;
    for prop in path.iter().rev() {
        let mut relay_owned = place.relay_owned;
        let next: &'static Shape = match (place.shape, prop) {
            (Shape::Record(_, fields), Prop::Map(k)) => {
                let f = fields
                    .iter()
                    .find(|f| f.key == k.as_str())
                    .ok_or(Refusal::UnknownKey(name_of(place.shape)))?;
                if place.is_root && f.relay_only {
                    relay_owned = Some(f.key);
                }
                &f.shape
            }
            (Shape::Entries { inner, .. }, Prop::Map(_)) => inner,
            (Shape::List(_, inner), Prop::Seq(_)) => inner,
            (shape, _) => return Err(Refusal::WrongType(name_of(shape))),
        };
        place = Place {
            shape: next,
            is_root: false,
            created_here: false,
            depth: place.depth + 1,
            relay_owned,
        };
    }
    Ok(place)
}

#[cfg(test)]
mod tests;
