//! Reading a case document into the typed model, tolerating entries a newer version wrote.

use std::collections::BTreeMap;
use std::str::FromStr;

use automerge::{ObjId, ObjType, ReadDoc, Value};
use jiff::civil::{Date, Time};

use super::DocumentError;
use super::schema::keys;
use crate::ids::{CaseId, EntryId};
use crate::model::{
    Agreement, Boundaries, Case, CaseStatus, Contact, ContactWindow, Goal, Plan, ServiceUser, Step,
};

type Result<T> = std::result::Result<T, DocumentError>;

pub(super) fn case(doc: &impl ReadDoc, id: CaseId) -> Result<Case> {
    let root = automerge::ROOT;
    let stored_id = root_case_id(doc)?;
    if stored_id != id {
        return Err(DocumentError::IdMismatch);
    }
    let mut unreadable = 0;
    let status_code = req_str(doc, &root, keys::STATUS, "status")?;
    let su = req_obj(doc, &root, keys::SERVICE_USER, ObjType::Map, "serviceUser")?;
    let boundaries_obj = req_obj(doc, &root, keys::BOUNDARIES, ObjType::Map, "boundaries")?;
    let contacts_obj = req_obj(doc, &root, keys::CONTACTS, ObjType::Map, "contacts")?;
    let plan_obj = req_obj(doc, &root, keys::PLAN, ObjType::Map, "plan")?;

    let mut contacts = BTreeMap::new();
    for (key, obj) in entries(doc, &contacts_obj) {
        match key
            .parse::<EntryId>()
            .ok()
            .zip(obj)
            .map(|(id, obj)| contact(doc, &obj, id))
        {
            Some(Ok(c)) => {
                contacts.insert(c.id.clone(), c);
            }
            _ => unreadable += 1,
        }
    }
    let (plan, plan_unreadable) = plan(doc, &plan_obj)?;
    unreadable += plan_unreadable;

    Ok(Case {
        id,
        schema: schema_version(doc)?,
        team: req_parse(doc, &root, keys::TEAM, "team")?,
        prw: req_parse(doc, &root, keys::PRW, "prw")?,
        service_user: service_user(doc, &su)?,
        started_on: req_parse(doc, &root, keys::STARTED_ON, "startedOn")?,
        planned_end: req_parse(doc, &root, keys::PLANNED_END, "plannedEnd")?,
        status: CaseStatus::from_str(&status_code)
            .map_err(|_| DocumentError::BadValue { path: "status" })?,
        closed_reason: opt_str(doc, &root, keys::CLOSED_REASON),
        boundaries: boundaries(doc, &boundaries_obj)?,
        contacts,
        plan,
        unreadable_entries: unreadable,
    })
}

pub(super) fn root_case_id(doc: &impl ReadDoc) -> Result<CaseId> {
    req_parse(doc, &automerge::ROOT, keys::CASE_ID, "caseId")
}

pub(super) fn schema_version(doc: &impl ReadDoc) -> Result<u64> {
    match doc.get(automerge::ROOT, keys::SCHEMA)? {
        Some((value, _)) => value
            .as_u64()
            .ok_or(DocumentError::WrongType { path: "schema" }),
        None => Err(DocumentError::Missing { path: "schema" }),
    }
}

pub(super) fn is_closed(doc: &impl ReadDoc) -> Result<bool> {
    Ok(opt_str(doc, &automerge::ROOT, keys::STATUS).as_deref() == Some(CaseStatus::Closed.code()))
}

/// The object under `key` in map `parent`, if it is one of type `kind`.
pub(super) fn req_obj(
    doc: &impl ReadDoc,
    parent: &ObjId,
    key: &str,
    kind: ObjType,
    path: &'static str,
) -> Result<ObjId> {
    match doc.get(parent, key)? {
        Some((Value::Object(found), id)) if found == kind => Ok(id),
        Some(_) => Err(DocumentError::WrongType { path }),
        None => Err(DocumentError::Missing { path }),
    }
}

fn service_user(doc: &impl ReadDoc, obj: &ObjId) -> Result<ServiceUser> {
    Ok(ServiceUser {
        alias: req_str(doc, obj, keys::ALIAS, "serviceUser.alias")?,
        birth_year: opt_i64(doc, obj, keys::BIRTH_YEAR).and_then(|y| i32::try_from(y).ok()),
        interests: str_list(doc, obj, keys::INTERESTS),
        background: str_list(doc, obj, keys::BACKGROUND),
    })
}

fn boundaries(doc: &impl ReadDoc, obj: &ObjId) -> Result<Boundaries> {
    let mut windows = Vec::new();
    if let Ok(list) = req_obj(doc, obj, keys::WINDOWS, ObjType::List, "boundaries.windows") {
        let window_objs: Vec<ObjId> = doc
            .list_range(&list, ..)
            .filter(|item| matches!(Value::from(item.value.clone()), Value::Object(ObjType::Map)))
            .map(|item| item.id())
            .collect();
        for window in window_objs {
            let days = int_list(doc, &window, keys::DAYS)
                .into_iter()
                .filter_map(|d| i8::try_from(d).ok())
                .collect();
            let from = opt_str(doc, &window, keys::FROM).and_then(|t| t.parse::<Time>().ok());
            let to = opt_str(doc, &window, keys::TO).and_then(|t| t.parse::<Time>().ok());
            if let (Some(from), Some(to)) = (from, to) {
                windows.push(ContactWindow { days, from, to });
            }
        }
    }
    Ok(Boundaries {
        windows,
        channels: str_list(doc, obj, keys::CHANNELS)
            .iter()
            .filter_map(|c| c.parse().ok())
            .collect(),
        max_contacts_per_week: opt_i64(doc, obj, keys::MAX_CONTACTS_PER_WEEK)
            .and_then(|m| u32::try_from(m).ok()),
        outside_hours_plan: opt_str(doc, obj, keys::OUTSIDE_HOURS_PLAN),
        review_on: opt_str(doc, obj, keys::REVIEW_ON).and_then(|d| d.parse().ok()),
    })
}

fn contact(doc: &impl ReadDoc, obj: &ObjId, id: EntryId) -> Result<Contact> {
    let bad = |path| DocumentError::BadValue { path };
    Ok(Contact {
        id,
        at: opt_i64(doc, obj, keys::AT).ok_or(bad("contacts.at"))?,
        tz_offset_min: opt_i64(doc, obj, keys::TZ_OFFSET_MIN)
            .and_then(|o| i32::try_from(o).ok())
            .unwrap_or(0),
        minutes: opt_i64(doc, obj, keys::MINUTES)
            .and_then(|m| u32::try_from(m).ok())
            .ok_or(bad("contacts.minutes"))?,
        mode: req_parse(doc, obj, keys::MODE, "contacts.mode")?,
        initiated_by: req_parse(doc, obj, keys::INITIATED_BY, "contacts.initiatedBy")?,
        topics: code_list(doc, obj, keys::TOPICS, "contacts.topics")?,
        support_types: code_list(doc, obj, keys::SUPPORT_TYPE, "contacts.supportType")?,
        note: opt_str(doc, obj, keys::NOTE).unwrap_or_default(),
        flag_for_guidance: opt_bool(doc, obj, keys::FLAG_FOR_GUIDANCE),
        logged_by: req_parse(doc, obj, keys::LOGGED_BY, "contacts.loggedBy")?,
        logged_at: opt_i64(doc, obj, keys::LOGGED_AT).unwrap_or(0),
        deleted: opt_bool(doc, obj, keys::DELETED),
    })
}

fn plan(doc: &impl ReadDoc, obj: &ObjId) -> Result<(Plan, usize)> {
    let mut unreadable = 0;
    let goals_obj = req_obj(doc, obj, keys::GOALS, ObjType::Map, "plan.goals")?;
    let mut goals = BTreeMap::new();
    for (key, goal_obj) in entries(doc, &goals_obj) {
        match key
            .parse::<EntryId>()
            .ok()
            .zip(goal_obj)
            .map(|(id, o)| goal(doc, &o, id))
        {
            Some(Ok((g, bad_steps))) => {
                unreadable += bad_steps;
                goals.insert(g.id.clone(), g);
            }
            _ => unreadable += 1,
        }
    }
    let agreements_obj = req_obj(doc, obj, keys::AGREEMENTS, ObjType::Map, "plan.agreements")?;
    let mut agreements = BTreeMap::new();
    for (key, a_obj) in entries(doc, &agreements_obj) {
        let parsed = key.parse::<EntryId>().ok().zip(a_obj).and_then(|(id, o)| {
            Some(Agreement {
                id,
                text: opt_str(doc, &o, keys::TEXT)?,
                since: opt_str(doc, &o, keys::SINCE)?.parse().ok()?,
            })
        });
        match parsed {
            Some(a) => {
                agreements.insert(a.id.clone(), a);
            }
            None => unreadable += 1,
        }
    }
    let use_plan = match doc.get(obj, keys::USE_PLAN)? {
        Some((Value::Object(ObjType::Text), text)) => doc.text(&text)?,
        Some((value, _)) => value.into_string().unwrap_or_default(),
        None => String::new(),
    };
    Ok((
        Plan {
            goals,
            agreements,
            use_plan,
        },
        unreadable,
    ))
}

fn goal(doc: &impl ReadDoc, obj: &ObjId, id: EntryId) -> Result<(Goal, usize)> {
    let text = match doc.get(obj, keys::TEXT)? {
        Some((Value::Object(ObjType::Text), text)) => doc.text(&text)?,
        _ => {
            return Err(DocumentError::BadValue {
                path: "plan.goals.text",
            });
        }
    };
    let mut steps = BTreeMap::new();
    let mut unreadable = 0;
    if let Ok(steps_obj) = req_obj(doc, obj, keys::STEPS, ObjType::Map, "plan.goals.steps") {
        for (key, step_obj) in entries(doc, &steps_obj) {
            let parsed = key
                .parse::<EntryId>()
                .ok()
                .zip(step_obj)
                .and_then(|(id, o)| {
                    Some(Step {
                        id,
                        text: opt_str(doc, &o, keys::TEXT)?,
                        done: opt_bool(doc, &o, keys::DONE),
                    })
                });
            match parsed {
                Some(step) => {
                    steps.insert(step.id.clone(), step);
                }
                None => unreadable += 1,
            }
        }
    }
    Ok((
        Goal {
            id,
            area: req_parse(doc, obj, keys::AREA, "plan.goals.area")?,
            text,
            steps,
            status: req_parse(doc, obj, keys::STATUS, "plan.goals.status")?,
            created_at: opt_i64(doc, obj, keys::CREATED_AT).unwrap_or(0),
            review_on: opt_str(doc, obj, keys::REVIEW_ON).and_then(|d| d.parse::<Date>().ok()),
        },
        unreadable,
    ))
}

/// The entries of a map whose values are maps; `None` for an entry that is something else.
fn entries(doc: &impl ReadDoc, map: &ObjId) -> Vec<(String, Option<ObjId>)> {
    doc.keys(map)
        .map(|key| {
            let obj = match doc.get(map, key.as_str()) {
                Ok(Some((Value::Object(ObjType::Map), id))) => Some(id),
                _ => None,
            };
            (key, obj)
        })
        .collect()
}

fn req_str(doc: &impl ReadDoc, obj: &ObjId, key: &str, path: &'static str) -> Result<String> {
    match doc.get(obj, key)? {
        Some((value, _)) => value
            .into_string()
            .map_err(|_| DocumentError::WrongType { path }),
        None => Err(DocumentError::Missing { path }),
    }
}

fn req_parse<T: FromStr>(
    doc: &impl ReadDoc,
    obj: &ObjId,
    key: &str,
    path: &'static str,
) -> Result<T> {
    req_str(doc, obj, key, path)?
        .parse()
        .map_err(|_| DocumentError::BadValue { path })
}

pub(super) fn opt_str(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key) {
        Ok(Some((value, _))) => value.into_string().ok(),
        _ => None,
    }
}

fn opt_i64(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Option<i64> {
    match doc.get(obj, key) {
        Ok(Some((value, _))) => value.as_i64(),
        _ => None,
    }
}

fn opt_bool(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> bool {
    match doc.get(obj, key) {
        Ok(Some((value, _))) => value.as_bool().unwrap_or(false),
        _ => false,
    }
}

fn scalars(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Vec<Value<'static>> {
    match doc.get(obj, key) {
        Ok(Some((Value::Object(ObjType::List), list))) => doc
            .list_range(&list, ..)
            .map(|item| Value::from(item.value))
            .collect(),
        _ => Vec::new(),
    }
}

fn str_list(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Vec<String> {
    scalars(doc, obj, key)
        .into_iter()
        .filter_map(|v| v.into_string().ok())
        .collect()
}

fn int_list(doc: &impl ReadDoc, obj: &ObjId, key: &str) -> Vec<i64> {
    scalars(doc, obj, key)
        .iter()
        .filter_map(Value::as_i64)
        .collect()
}

/// A list of category codes; an unknown code makes the whole entry unreadable rather than silently
/// dropping a category someone chose.
fn code_list<T: FromStr>(
    doc: &impl ReadDoc,
    obj: &ObjId,
    key: &str,
    path: &'static str,
) -> Result<Vec<T>> {
    str_list(doc, obj, key)
        .iter()
        .map(|code| code.parse().map_err(|_| DocumentError::BadValue { path }))
        .collect()
}
