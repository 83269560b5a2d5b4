//! The operations a phone (or the relay, for case set-up) performs on a case document.
//!
//! Each operation validates all of its input before writing anything, writes only the fields it
//! changes (so concurrent edits of different fields both survive a merge), and runs in one
//! transaction via [`CaseDoc::edit`].

use automerge::transaction::{Transactable, Transaction};
use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value};
use jiff::civil::Date;

use super::read::{self, req_obj};
use super::schema::{CURRENT_SCHEMA, keys};
use super::validate::{self, Problem, invalid};
use super::{CaseDoc, EditCtx, EditError, NewCase};
use crate::ids::{AgreementId, ContactId, EntryId, GoalId, StepId, UserId};
use crate::model::{
    Boundaries, CaseStatus, ContactMode, ContactWindow, GoalStatus, Initiator, LifeArea,
    SupportType, UnixMillis,
};

type Result<T> = std::result::Result<T, EditError>;

/// A contact as the PRW logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub at: UnixMillis,
    pub tz_offset_min: i32,
    pub minutes: i64,
    pub mode: ContactMode,
    pub initiated_by: Initiator,
    pub topics: Vec<LifeArea>,
    pub support_types: Vec<SupportType>,
    pub note: String,
    pub flag_for_guidance: bool,
}

/// The fields of a contact to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactPatch {
    pub at: Option<UnixMillis>,
    pub tz_offset_min: Option<i32>,
    pub minutes: Option<i64>,
    pub mode: Option<ContactMode>,
    pub initiated_by: Option<Initiator>,
    pub topics: Option<Vec<LifeArea>>,
    pub support_types: Option<Vec<SupportType>>,
    pub note: Option<String>,
    pub flag_for_guidance: Option<bool>,
}

/// A new plan goal, in the service user's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGoal {
    pub area: LifeArea,
    pub text: String,
    pub review_on: Option<Date>,
}

impl CaseDoc {
    /// Logs a contact and returns its new id.
    pub fn log_contact(
        &mut self,
        ctx: &mut EditCtx<'_>,
        contact: &NewContact,
    ) -> Result<ContactId> {
        validate::contact_start(contact.at, ctx.now)?;
        let tz = validate::tz_offset(contact.tz_offset_min)?;
        let minutes = validate::minutes(contact.minutes)?;
        let note = validate::text("note", &contact.note, validate::NOTE_MAX_CHARS, false)?;
        self.edit("log-contact", ctx, false, |tx, ctx| {
            let contacts = req_obj(
                tx,
                &automerge::ROOT,
                keys::CONTACTS,
                ObjType::Map,
                "contacts",
            )?;
            let id = EntryId::random(ctx.rng);
            let obj = tx.put_object(&contacts, id.as_str(), ObjType::Map)?;
            tx.put(&obj, keys::AT, ScalarValue::Timestamp(contact.at))?;
            tx.put(&obj, keys::TZ_OFFSET_MIN, i64::from(tz))?;
            tx.put(&obj, keys::MINUTES, i64::from(minutes))?;
            tx.put(&obj, keys::MODE, contact.mode.code())?;
            tx.put(&obj, keys::INITIATED_BY, contact.initiated_by.code())?;
            put_codes(tx, &obj, keys::TOPICS, &contact.topics)?;
            put_codes(tx, &obj, keys::SUPPORT_TYPE, &contact.support_types)?;
            tx.put(&obj, keys::NOTE, note.as_str())?;
            tx.put(&obj, keys::FLAG_FOR_GUIDANCE, contact.flag_for_guidance)?;
            tx.put(&obj, keys::LOGGED_BY, ctx.device.as_str())?;
            tx.put(&obj, keys::LOGGED_AT, ScalarValue::Timestamp(ctx.now))?;
            tx.put(&obj, keys::DELETED, false)?;
            Ok(id)
        })
    }

    /// Changes the given fields of a contact. A deleted contact cannot be edited.
    pub fn edit_contact(
        &mut self,
        ctx: &mut EditCtx<'_>,
        id: &ContactId,
        patch: &ContactPatch,
    ) -> Result<()> {
        if let Some(at) = patch.at {
            validate::contact_start(at, ctx.now)?;
        }
        let tz = patch.tz_offset_min.map(validate::tz_offset).transpose()?;
        let minutes = patch.minutes.map(validate::minutes).transpose()?;
        let note = patch
            .note
            .as_deref()
            .map(|n| validate::text("note", n, validate::NOTE_MAX_CHARS, false))
            .transpose()?;
        self.edit("edit-contact", ctx, false, |tx, _| {
            let obj = live_contact(tx, id)?;
            if let Some(at) = patch.at {
                tx.put(&obj, keys::AT, ScalarValue::Timestamp(at))?;
            }
            if let Some(tz) = tz {
                tx.put(&obj, keys::TZ_OFFSET_MIN, i64::from(tz))?;
            }
            if let Some(minutes) = minutes {
                tx.put(&obj, keys::MINUTES, i64::from(minutes))?;
            }
            if let Some(mode) = patch.mode {
                tx.put(&obj, keys::MODE, mode.code())?;
            }
            if let Some(initiator) = patch.initiated_by {
                tx.put(&obj, keys::INITIATED_BY, initiator.code())?;
            }
            if let Some(topics) = &patch.topics {
                put_codes(tx, &obj, keys::TOPICS, topics)?;
            }
            if let Some(support) = &patch.support_types {
                put_codes(tx, &obj, keys::SUPPORT_TYPE, support)?;
            }
            if let Some(note) = &note {
                tx.put(&obj, keys::NOTE, note.as_str())?;
            }
            if let Some(flag) = patch.flag_for_guidance {
                tx.put(&obj, keys::FLAG_FOR_GUIDANCE, flag)?;
            }
            Ok(())
        })
    }

    /// Flags a contact "to talk about in guidance", or clears the flag.
    pub fn flag_contact(
        &mut self,
        ctx: &mut EditCtx<'_>,
        id: &ContactId,
        flag: bool,
    ) -> Result<()> {
        self.edit("flag-contact", ctx, false, |tx, _| {
            let obj = live_contact(tx, id)?;
            tx.put(&obj, keys::FLAG_FOR_GUIDANCE, flag)?;
            Ok(())
        })
    }

    /// Deletes a contact with a tombstone, so it stays deleted whatever another device edits
    /// concurrently; its note is cleared at the same time.
    pub fn delete_contact(&mut self, ctx: &mut EditCtx<'_>, id: &ContactId) -> Result<()> {
        self.edit("delete-contact", ctx, false, |tx, _| {
            let obj = contact_obj(tx, id)?;
            tx.put(&obj, keys::DELETED, true)?;
            tx.put(&obj, keys::NOTE, "")?;
            Ok(())
        })
    }

    /// Adds a goal to the plan (status "open") and returns its id.
    pub fn add_goal(&mut self, ctx: &mut EditCtx<'_>, goal: &NewGoal) -> Result<GoalId> {
        let text = validate::text("text", &goal.text, validate::SHORT_TEXT_MAX_CHARS, true)?;
        self.edit("add-goal", ctx, false, |tx, ctx| {
            let goals = goals_obj(tx)?;
            let id = EntryId::random(ctx.rng);
            let obj = tx.put_object(&goals, id.as_str(), ObjType::Map)?;
            tx.put(&obj, keys::AREA, goal.area.code())?;
            let text_obj = tx.put_object(&obj, keys::TEXT, ObjType::Text)?;
            tx.splice_text(&text_obj, 0, 0, &text)?;
            tx.put_object(&obj, keys::STEPS, ObjType::Map)?;
            tx.put(&obj, keys::STATUS, GoalStatus::Open.code())?;
            tx.put(&obj, keys::CREATED_AT, ScalarValue::Timestamp(ctx.now))?;
            if let Some(review) = goal.review_on {
                tx.put(&obj, keys::REVIEW_ON, review.to_string())?;
            }
            Ok(id)
        })
    }

    /// Rewrites a goal's text as a minimal text edit, so concurrent edits by the PRW and the
    /// service user merge character by character.
    pub fn edit_goal_text(
        &mut self,
        ctx: &mut EditCtx<'_>,
        goal: &GoalId,
        text: &str,
    ) -> Result<()> {
        let text = validate::text("text", text, validate::SHORT_TEXT_MAX_CHARS, true)?;
        self.edit("edit-goal", ctx, false, |tx, _| {
            let obj = goal_obj(tx, goal)?;
            let text_obj = req_obj(tx, &obj, keys::TEXT, ObjType::Text, "plan.goals.text")?;
            tx.update_text(&text_obj, &text)?;
            Ok(())
        })
    }

    /// Sets a goal's status: open, active, reached or dropped. Goals are never deleted.
    pub fn set_goal_status(
        &mut self,
        ctx: &mut EditCtx<'_>,
        goal: &GoalId,
        status: GoalStatus,
    ) -> Result<()> {
        self.edit("set-goal-status", ctx, false, |tx, _| {
            let obj = goal_obj(tx, goal)?;
            tx.put(&obj, keys::STATUS, status.code())?;
            Ok(())
        })
    }

    /// Sets a goal's life area.
    pub fn set_goal_area(
        &mut self,
        ctx: &mut EditCtx<'_>,
        goal: &GoalId,
        area: LifeArea,
    ) -> Result<()> {
        self.edit("set-goal-area", ctx, false, |tx, _| {
            let obj = goal_obj(tx, goal)?;
            tx.put(&obj, keys::AREA, area.code())?;
            Ok(())
        })
    }

    /// Sets or clears the date a goal should be reviewed.
    pub fn set_goal_review(
        &mut self,
        ctx: &mut EditCtx<'_>,
        goal: &GoalId,
        review_on: Option<Date>,
    ) -> Result<()> {
        self.edit("set-goal-review", ctx, false, |tx, _| {
            let obj = goal_obj(tx, goal)?;
            match review_on {
                Some(date) => tx.put(&obj, keys::REVIEW_ON, date.to_string())?,
                None => tx.delete(&obj, keys::REVIEW_ON)?,
            }
            Ok(())
        })
    }

    /// Adds a step to a goal and returns its id.
    pub fn add_step(&mut self, ctx: &mut EditCtx<'_>, goal: &GoalId, text: &str) -> Result<StepId> {
        let text = validate::text("text", text, validate::SHORT_TEXT_MAX_CHARS, true)?;
        self.edit("add-step", ctx, false, |tx, ctx| {
            let steps = steps_obj(tx, goal)?;
            if tx.length(&steps) >= validate::STEPS_MAX {
                return Err(invalid(
                    "steps",
                    Problem::TooMany {
                        max: validate::STEPS_MAX,
                    },
                )
                .into());
            }
            let id = EntryId::random(ctx.rng);
            let obj = tx.put_object(&steps, id.as_str(), ObjType::Map)?;
            tx.put(&obj, keys::TEXT, text.as_str())?;
            tx.put(&obj, keys::DONE, false)?;
            Ok(id)
        })
    }

    /// Rewrites a step's text.
    pub fn edit_step(
        &mut self,
        ctx: &mut EditCtx<'_>,
        goal: &GoalId,
        step: &StepId,
        text: &str,
    ) -> Result<()> {
        let text = validate::text("text", text, validate::SHORT_TEXT_MAX_CHARS, true)?;
        self.edit("edit-step", ctx, false, |tx, _| {
            let obj = step_obj(tx, goal, step)?;
            tx.put(&obj, keys::TEXT, text.as_str())?;
            Ok(())
        })
    }

    /// Marks a step done or not done.
    pub fn set_step_done(
        &mut self,
        ctx: &mut EditCtx<'_>,
        goal: &GoalId,
        step: &StepId,
        done: bool,
    ) -> Result<()> {
        self.edit("set-step-done", ctx, false, |tx, _| {
            let obj = step_obj(tx, goal, step)?;
            tx.put(&obj, keys::DONE, done)?;
            Ok(())
        })
    }

    /// Removes a step from a goal.
    pub fn remove_step(
        &mut self,
        ctx: &mut EditCtx<'_>,
        goal: &GoalId,
        step: &StepId,
    ) -> Result<()> {
        self.edit("remove-step", ctx, false, |tx, _| {
            let steps = steps_obj(tx, goal)?;
            entry_obj(tx, &steps, step.as_str(), "step")?;
            tx.delete(&steps, step.as_str())?;
            Ok(())
        })
    }

    /// Adds an agreement ("tell me if you cancel") and returns its id.
    pub fn add_agreement(
        &mut self,
        ctx: &mut EditCtx<'_>,
        text: &str,
        since: Date,
    ) -> Result<AgreementId> {
        let text = validate::text("text", text, validate::SHORT_TEXT_MAX_CHARS, true)?;
        self.edit("add-agreement", ctx, false, |tx, ctx| {
            let agreements = agreements_obj(tx)?;
            let id = EntryId::random(ctx.rng);
            let obj = tx.put_object(&agreements, id.as_str(), ObjType::Map)?;
            tx.put(&obj, keys::TEXT, text.as_str())?;
            tx.put(&obj, keys::SINCE, since.to_string())?;
            Ok(id)
        })
    }

    /// Removes an agreement.
    pub fn remove_agreement(&mut self, ctx: &mut EditCtx<'_>, id: &AgreementId) -> Result<()> {
        self.edit("remove-agreement", ctx, false, |tx, _| {
            let agreements = agreements_obj(tx)?;
            entry_obj(tx, &agreements, id.as_str(), "agreement")?;
            tx.delete(&agreements, id.as_str())?;
            Ok(())
        })
    }

    /// Rewrites the use-plan ("what we do if you use") as a minimal text edit.
    pub fn set_use_plan(&mut self, ctx: &mut EditCtx<'_>, text: &str) -> Result<()> {
        let text = validate::text("usePlan", text, validate::PLAN_TEXT_MAX_CHARS, false)?;
        self.edit("set-use-plan", ctx, false, |tx, _| {
            let plan = req_obj(tx, &automerge::ROOT, keys::PLAN, ObjType::Map, "plan")?;
            let text_obj = req_obj(tx, &plan, keys::USE_PLAN, ObjType::Text, "plan.usePlan")?;
            tx.update_text(&text_obj, &text)?;
            Ok(())
        })
    }

    /// Replaces the agreed contact windows.
    pub fn set_contact_windows(
        &mut self,
        ctx: &mut EditCtx<'_>,
        windows: &[ContactWindow],
    ) -> Result<()> {
        validate::windows(windows)?;
        self.edit("set-contact-windows", ctx, false, |tx, _| {
            let obj = req_obj(
                tx,
                &automerge::ROOT,
                keys::BOUNDARIES,
                ObjType::Map,
                "boundaries",
            )?;
            put_windows(tx, &obj, windows)?;
            Ok(())
        })
    }

    /// Replaces the whole boundary agreement (windows, channels, weekly maximum, outside-hours plan,
    /// review date).
    pub fn set_boundaries(&mut self, ctx: &mut EditCtx<'_>, boundaries: &Boundaries) -> Result<()> {
        let checked = checked_boundaries(boundaries)?;
        self.edit("set-boundaries", ctx, false, |tx, _| {
            let obj = req_obj(
                tx,
                &automerge::ROOT,
                keys::BOUNDARIES,
                ObjType::Map,
                "boundaries",
            )?;
            write_boundaries(tx, &obj, &checked)
        })
    }

    /// Pauses, reopens or closes a case (a coordinator's decision). A reason is required to close.
    pub fn set_status(
        &mut self,
        ctx: &mut EditCtx<'_>,
        status: CaseStatus,
        reason: Option<&str>,
    ) -> Result<()> {
        let reason = reason
            .map(|r| validate::text("closedReason", r, validate::REASON_MAX_CHARS, true))
            .transpose()?;
        if status == CaseStatus::Closed && reason.is_none() {
            return Err(invalid("closedReason", Problem::Empty).into());
        }
        self.edit("set-status", ctx, true, |tx, _| {
            tx.put(automerge::ROOT, keys::STATUS, status.code())?;
            match (status, reason) {
                (CaseStatus::Closed, Some(reason)) => {
                    tx.put(automerge::ROOT, keys::CLOSED_REASON, reason)?
                }
                _ => tx.delete(automerge::ROOT, keys::CLOSED_REASON)?,
            }
            Ok(())
        })
    }

    /// Hands the case to another PRW (a coordinator's decision; closed cases stay with the PRW
    /// who closed them). Writing the same PRW again writes nothing.
    pub fn set_prw(&mut self, ctx: &mut EditCtx<'_>, prw: &UserId) -> Result<()> {
        if read::is_closed(&self.doc)? {
            return Err(EditError::CaseClosed);
        }
        let current = self.doc.get(automerge::ROOT, keys::PRW)?;
        if let Some((Value::Scalar(value), _)) = current
            && value.as_str() == Some(prw.as_str())
        {
            return Ok(());
        }
        self.edit("set-prw", ctx, false, |tx, _| {
            tx.put(automerge::ROOT, keys::PRW, prw.as_str())?;
            Ok(())
        })
    }
}

/// Writes the initial shape of a case document (see DESIGN.md "Documents").
pub(super) fn write_new_case(
    tx: &mut Transaction<'_>,
    new: &NewCase,
    ctx: &mut EditCtx<'_>,
) -> Result<()> {
    let alias = validate::text(
        "alias",
        &new.service_user.alias,
        validate::ALIAS_MAX_CHARS,
        true,
    )?;
    let birth_year = new
        .service_user
        .birth_year
        .map(|y| validate::birth_year(y, ctx.now))
        .transpose()?;
    let interests = validate::tags("interests", &new.service_user.interests)?;
    let background = validate::tags("background", &new.service_user.background)?;
    validate::date_range(new.started_on, new.planned_end)?;
    let boundaries = checked_boundaries(&new.boundaries)?;

    let root = automerge::ROOT;
    tx.put(&root, keys::SCHEMA, CURRENT_SCHEMA)?;
    tx.put(&root, keys::CASE_ID, new.id.to_string())?;
    tx.put(&root, keys::TEAM, new.team.as_str())?;
    tx.put(&root, keys::PRW, new.prw.as_str())?;
    let su = tx.put_object(&root, keys::SERVICE_USER, ObjType::Map)?;
    tx.put(&su, keys::ALIAS, alias)?;
    if let Some(year) = birth_year {
        tx.put(&su, keys::BIRTH_YEAR, i64::from(year))?;
    }
    put_strings(tx, &su, keys::INTERESTS, &interests)?;
    put_strings(tx, &su, keys::BACKGROUND, &background)?;
    tx.put(&root, keys::STARTED_ON, new.started_on.to_string())?;
    tx.put(&root, keys::PLANNED_END, new.planned_end.to_string())?;
    tx.put(&root, keys::STATUS, CaseStatus::Active.code())?;
    let b = tx.put_object(&root, keys::BOUNDARIES, ObjType::Map)?;
    write_boundaries(tx, &b, &boundaries)?;
    tx.put_object(&root, keys::CONTACTS, ObjType::Map)?;
    let plan = tx.put_object(&root, keys::PLAN, ObjType::Map)?;
    tx.put_object(&plan, keys::GOALS, ObjType::Map)?;
    tx.put_object(&plan, keys::AGREEMENTS, ObjType::Map)?;
    tx.put_object(&plan, keys::USE_PLAN, ObjType::Text)?;
    Ok(())
}

fn checked_boundaries(b: &Boundaries) -> Result<Boundaries> {
    validate::windows(&b.windows)?;
    Ok(Boundaries {
        windows: b.windows.clone(),
        channels: dedup(&b.channels),
        max_contacts_per_week: validate::max_contacts_per_week(b.max_contacts_per_week)?,
        outside_hours_plan: b
            .outside_hours_plan
            .as_deref()
            .map(|p| validate::text("outsideHoursPlan", p, validate::PLAN_TEXT_MAX_CHARS, false))
            .transpose()?
            .filter(|p| !p.is_empty()),
        review_on: b.review_on,
    })
}

fn write_boundaries(tx: &mut Transaction<'_>, obj: &ObjId, b: &Boundaries) -> Result<()> {
    put_windows(tx, obj, &b.windows)?;
    put_codes(tx, obj, keys::CHANNELS, &b.channels)?;
    match b.max_contacts_per_week {
        Some(max) => tx.put(obj, keys::MAX_CONTACTS_PER_WEEK, i64::from(max))?,
        None => tx.delete(obj, keys::MAX_CONTACTS_PER_WEEK)?,
    }
    match &b.outside_hours_plan {
        Some(plan) => tx.put(obj, keys::OUTSIDE_HOURS_PLAN, plan.as_str())?,
        None => tx.delete(obj, keys::OUTSIDE_HOURS_PLAN)?,
    }
    match b.review_on {
        Some(date) => tx.put(obj, keys::REVIEW_ON, date.to_string())?,
        None => tx.delete(obj, keys::REVIEW_ON)?,
    }
    Ok(())
}

fn put_windows(tx: &mut Transaction<'_>, obj: &ObjId, windows: &[ContactWindow]) -> Result<()> {
    let list = tx.put_object(obj, keys::WINDOWS, ObjType::List)?;
    for (i, window) in windows.iter().enumerate() {
        let w = tx.insert_object(&list, i, ObjType::Map)?;
        let days = tx.put_object(&w, keys::DAYS, ObjType::List)?;
        let mut sorted = window.days.clone();
        sorted.sort_unstable();
        sorted.dedup();
        for (j, day) in sorted.iter().enumerate() {
            tx.insert(&days, j, i64::from(*day))?;
        }
        tx.put(&w, keys::FROM, window.from.strftime("%H:%M").to_string())?;
        tx.put(&w, keys::TO, window.to.strftime("%H:%M").to_string())?;
    }
    Ok(())
}

/// Replaces a list of category codes as a whole, so concurrent edits resolve to one side's list
/// instead of interleaving both.
fn put_codes<T: Copy + std::fmt::Display + PartialEq>(
    tx: &mut Transaction<'_>,
    obj: &ObjId,
    key: &str,
    codes: &[T],
) -> Result<()> {
    let strings: Vec<String> = dedup(codes).iter().map(ToString::to_string).collect();
    put_strings(tx, obj, key, &strings)
}

fn put_strings(tx: &mut Transaction<'_>, obj: &ObjId, key: &str, values: &[String]) -> Result<()> {
    let list = tx.put_object(obj, key, ObjType::List)?;
    for (i, value) in values.iter().enumerate() {
        tx.insert(&list, i, value.as_str())?;
    }
    Ok(())
}

fn dedup<T: Copy + PartialEq>(items: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(item) {
            out.push(*item);
        }
    }
    out
}

fn entry_obj(tx: &Transaction<'_>, map: &ObjId, key: &str, what: &'static str) -> Result<ObjId> {
    match tx.get(map, key)? {
        Some((Value::Object(ObjType::Map), obj)) => Ok(obj),
        _ => Err(EditError::NotFound { what }),
    }
}

fn contact_obj(tx: &Transaction<'_>, id: &ContactId) -> Result<ObjId> {
    let contacts = req_obj(
        tx,
        &automerge::ROOT,
        keys::CONTACTS,
        ObjType::Map,
        "contacts",
    )?;
    entry_obj(tx, &contacts, id.as_str(), "contact")
}

fn live_contact(tx: &Transaction<'_>, id: &ContactId) -> Result<ObjId> {
    let obj = contact_obj(tx, id)?;
    let deleted = matches!(tx.get(&obj, keys::DELETED)?, Some((v, _)) if v.as_bool() == Some(true));
    if deleted {
        return Err(EditError::ContactDeleted);
    }
    Ok(obj)
}

fn goals_obj(tx: &Transaction<'_>) -> Result<ObjId> {
    let plan = req_obj(tx, &automerge::ROOT, keys::PLAN, ObjType::Map, "plan")?;
    Ok(req_obj(tx, &plan, keys::GOALS, ObjType::Map, "plan.goals")?)
}

fn agreements_obj(tx: &Transaction<'_>) -> Result<ObjId> {
    let plan = req_obj(tx, &automerge::ROOT, keys::PLAN, ObjType::Map, "plan")?;
    Ok(req_obj(
        tx,
        &plan,
        keys::AGREEMENTS,
        ObjType::Map,
        "plan.agreements",
    )?)
}

fn goal_obj(tx: &Transaction<'_>, goal: &GoalId) -> Result<ObjId> {
    let goals = goals_obj(tx)?;
    entry_obj(tx, &goals, goal.as_str(), "goal")
}

fn steps_obj(tx: &Transaction<'_>, goal: &GoalId) -> Result<ObjId> {
    let obj = goal_obj(tx, goal)?;
    Ok(req_obj(
        tx,
        &obj,
        keys::STEPS,
        ObjType::Map,
        "plan.goals.steps",
    )?)
}

fn step_obj(tx: &Transaction<'_>, goal: &GoalId, step: &StepId) -> Result<ObjId> {
    let steps = steps_obj(tx, goal)?;
    entry_obj(tx, &steps, step.as_str(), "step")
}
