//! `Peerlog`, the one object an app holds: a device's encrypted store, its cases and its
//! connection to the relay, behind a mutex so calls from any thread are safe.
//!
//! Every method converts arguments, takes the lock, delegates to core in a line or two and
//! converts the answer. The real clock and the system's random generator are supplied here;
//! core takes both as arguments.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use peerlog_core::crypto::StoreKey;
use peerlog_core::document::{EditCtx, EditError, NewGoal};
use peerlog_core::ids::{CaseId, EntryId};
use peerlog_core::insights;
use peerlog_core::local::{LocalCases, LockState};
use peerlog_core::net::{self, Enrolment, NetError, Syncer};
use peerlog_core::settings::OrgSettings;
use peerlog_core::store::{SqliteStore, Store as _};
use peerlog_core::{CaseDoc, model};

use crate::categories::{GoalStatus, LifeArea};
use crate::error::{ApiError, invalid};
use crate::observe::{Observer, SyncReport, SyncState, notify};
use crate::records::{CaseDetail, CaseSummary, ContactPatch, EnrolmentInfo, NewContact};
use crate::week::{MyWeek, week_back};

/// The store's file name inside the app's directory.
const STORE_FILE: &str = "peerlog.sqlite3";
/// Sealed secret holding the relay's address given at enrolment.
const RELAY_URL_SECRET: &str = "relay-url";
/// Length of the key from the platform keystore.
const KEY_LEN: usize = 32;

/// What the handle holds.
enum State {
    /// Opened, never enrolled: only `enrol` does anything.
    NotEnrolled(Box<SqliteStore>),
    Enrolled(Box<Device>),
    /// The relay or the lost-phone policy ordered a wipe; the files are gone.
    Wiped,
    /// `close_store` was called.
    Closed,
}

/// An enrolled device: its cases and its connection.
struct Device {
    cases: LocalCases<SqliteStore>,
    syncer: Syncer,
}

/// Store files open in this process: a second handle on the same store would keep a second
/// in-memory copy of every case, and one compaction could then drop the other's changes.
fn open_stores() -> &'static Mutex<BTreeSet<PathBuf>> {
    static OPEN: OnceLock<Mutex<BTreeSet<PathBuf>>> = OnceLock::new();
    OPEN.get_or_init(Default::default)
}

fn release_store(path: &Path) {
    open_stores()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(path);
}

/// The real clock, in Unix milliseconds.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn parse_case(id: &str) -> Result<CaseId, ApiError> {
    CaseId::from_str(id).map_err(|_| invalid("caseId", "is not a case id"))
}

fn parse_entry(field: &'static str, id: &str) -> Result<EntryId, ApiError> {
    EntryId::from_str(id).map_err(|_| invalid(field, "is not an id"))
}

fn parse_date(field: &'static str, date: &str) -> Result<jiff::civil::Date, ApiError> {
    jiff::civil::Date::from_str(date).map_err(|_| invalid(field, "is not a YYYY-MM-DD date"))
}

/// A device's Peerlog: open it with the app's directory and the key from the platform keystore.
#[derive(uniffi::Object)]
pub struct Peerlog {
    path: PathBuf,
    state: Mutex<State>,
    observer: Mutex<Option<Arc<dyn Observer>>>,
}

impl std::fmt::Debug for Peerlog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peerlog").finish_non_exhaustive()
    }
}

impl Drop for Peerlog {
    fn drop(&mut self) {
        let mut state = self.lock();
        if !matches!(*state, State::Wiped | State::Closed) {
            *state = State::Closed;
            release_store(&self.path);
        }
    }
}

/// Takes the handle's lock. If a call panicked while holding it (UniFFI turned the panic into an
/// `Internal` error for that call), the in-memory cases may be half-way through a change: the
/// handle is closed instead, so the app reopens the store from what is durably on disk.
fn lock_state<'a>(state: &'a Mutex<State>, path: &Path) -> MutexGuard<'a, State> {
    match state.lock() {
        Ok(guard) => guard,
        Err(poisoned) => {
            let mut guard = poisoned.into_inner();
            state.clear_poison();
            if !matches!(*guard, State::Wiped | State::Closed) {
                *guard = State::Closed;
                release_store(path);
            }
            tracing::error!("a call panicked; the store was closed and must be opened again");
            guard
        }
    }
}

impl State {
    fn device(&mut self) -> Result<&mut Device, ApiError> {
        match self {
            State::Enrolled(device) => Ok(device),
            State::NotEnrolled(_) => Err(ApiError::NeedsReenrolment),
            State::Wiped => Err(ApiError::WipedByOrganisation),
            State::Closed => Err(closed()),
        }
    }
}

fn closed() -> ApiError {
    ApiError::Internal {
        reason: "the store was closed; open it again".to_owned(),
    }
}

/// Opens an enrolled store's cases and its connection.
fn open_device(store: SqliteStore) -> Result<Device, ApiError> {
    let relay_url = store
        .get_secret(RELAY_URL_SECRET)?
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(ApiError::NeedsReenrolment)?;
    let (cases, enrolment) = net::open_cases(store, &mut rand::rng())?;
    let syncer = Syncer::new(&relay_url, enrolment)?;
    Ok(Device { cases, syncer })
}

impl Peerlog {
    fn lock(&self) -> MutexGuard<'_, State> {
        lock_state(&self.state, &self.path)
    }

    fn observer(&self) -> Option<Arc<dyn Observer>> {
        self.observer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Destroys the local data after a wipe order: drops the store, deletes its files.
    fn wipe(&self, state: &mut State) {
        *state = State::Wiped;
        if let Err(e) = net::wipe(&self.path) {
            tracing::error!(error = %e, "could not delete the store files after a wipe order");
        }
        release_store(&self.path);
        tracing::warn!("the organisation wiped this device");
    }

    /// Runs `f` on the enrolled device after applying the lost-phone policy at `now`.
    fn with_open_device<T>(
        &self,
        f: impl FnOnce(&mut Device, i64) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let now = now_ms();
        let mut state = self.lock();
        let device = state.device()?;
        match device.cases.apply_lost_phone_policy(now)? {
            LockState::Open => f(device, now),
            LockState::Locked => Err(ApiError::Locked),
            LockState::MustWipe => {
                self.wipe(&mut state);
                Err(ApiError::WipedByOrganisation)
            }
        }
    }

    /// One operation on a case, saved durably before it returns.
    fn edit<T>(
        &self,
        case_id: &str,
        op: impl FnOnce(&mut CaseDoc, &mut EditCtx<'_>) -> Result<T, EditError>,
    ) -> Result<T, ApiError> {
        let case = parse_case(case_id)?;
        self.with_open_device(|device, now| {
            Ok(device.cases.edit(&case, now, &mut rand::rng(), op)?)
        })
    }

    fn read_case(&self, case_id: &str) -> Result<model::Case, ApiError> {
        let case = parse_case(case_id)?;
        self.with_open_device(|device, _| Ok(device.cases.read(&case)?))
    }

    /// The sync session, on a blocking thread that holds the lock for its length (core's session
    /// needs the cases exclusively); edits made meanwhile wait for it.
    fn sync_blocking(
        &self,
        runtime: &tokio::runtime::Handle,
    ) -> Result<peerlog_core::net::SyncReport, ApiError> {
        let mut state = self.lock();
        let device = state.device()?;
        let now = now_ms();
        match runtime.block_on(device.syncer.sync_once(&mut device.cases, now)) {
            Ok(report) => Ok(report),
            Err(NetError::Wiped) => {
                self.wipe(&mut state);
                Err(ApiError::WipedByOrganisation)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn enrol_blocking(
        &self,
        runtime: &tokio::runtime::Handle,
        relay_url: &str,
        code: &str,
        device_name: &str,
    ) -> Result<EnrolmentInfo, ApiError> {
        let mut state = self.lock();
        let enrolment: Enrolment = match &mut *state {
            State::NotEnrolled(store) => {
                let enrolment =
                    runtime.block_on(net::enrol(&mut **store, relay_url, code, device_name))?;
                store.put_secret(RELAY_URL_SECRET, relay_url.trim_end_matches('/').as_bytes())?;
                enrolment
            }
            State::Enrolled(_) => return Err(invalid("code", "this device is already enrolled")),
            State::Wiped => return Err(ApiError::WipedByOrganisation),
            State::Closed => return Err(closed()),
        };
        let State::NotEnrolled(store) = std::mem::replace(&mut *state, State::Closed) else {
            return Err(closed());
        };
        // On failure the handle stays closed; opening the store again retries from disk.
        *state = State::Enrolled(Box::new(open_device(*store)?));
        tracing::info!(device = %enrolment.device_id, "enrolled");
        Ok((&enrolment).into())
    }
}

#[uniffi::export]
impl Peerlog {
    /// Opens (or creates) the encrypted store in `directory` with the 32-byte `key` from the
    /// platform keystore. One handle per directory at a time.
    #[uniffi::constructor]
    pub fn open(directory: String, key: Vec<u8>) -> Result<Arc<Self>, ApiError> {
        if key.len() != KEY_LEN {
            return Err(invalid("key", "must be 32 bytes"));
        }
        if directory.trim().is_empty() {
            return Err(invalid("directory", "must not be empty"));
        }
        let dir = PathBuf::from(directory);
        std::fs::create_dir_all(&dir).map_err(|e| ApiError::Storage {
            reason: format!("could not create the store directory: {}", e.kind()),
        })?;
        let dir = dir.canonicalize().map_err(|e| ApiError::Storage {
            reason: format!("could not resolve the store directory: {}", e.kind()),
        })?;
        let path = dir.join(STORE_FILE);
        if !open_stores()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.clone())
        {
            return Err(invalid("directory", "is already open in this process"));
        }
        let opened = (|| {
            let store = SqliteStore::open(&path, StoreKey::from_bytes(&key)?)?;
            if net::load_enrolment(&store)?.is_none() {
                return Ok(State::NotEnrolled(Box::new(store)));
            }
            let mut device = open_device(store)?;
            match device.cases.apply_lost_phone_policy(now_ms())? {
                LockState::Open | LockState::Locked => Ok(State::Enrolled(Box::new(device))),
                LockState::MustWipe => Ok(State::Wiped),
            }
        })();
        let state = match opened {
            Ok(state) => state,
            Err(e) => {
                release_store(&path);
                return Err(e);
            }
        };
        let handle = Arc::new(Self {
            path,
            state: Mutex::new(State::Closed),
            observer: Mutex::new(None),
        });
        if matches!(state, State::Wiped) {
            handle.wipe(&mut handle.lock());
            return Err(ApiError::WipedByOrganisation);
        }
        *handle.lock() = state;
        tracing::debug!("store opened");
        Ok(handle)
    }

    /// Closes the store now (it also closes when the handle is freed). Later calls fail with
    /// `Internal`; open the directory again to continue.
    pub fn close_store(&self) {
        let mut state = self.lock();
        if !matches!(*state, State::Wiped | State::Closed) {
            *state = State::Closed;
            release_store(&self.path);
        }
    }

    /// Registers the observer (replacing any earlier one); `None` removes it.
    pub fn set_observer(&self, observer: Option<Box<dyn Observer>>) {
        *self.observer.lock().unwrap_or_else(|p| p.into_inner()) = observer.map(Arc::from);
    }

    /// Whether this store is enrolled with a relay.
    pub fn is_enrolled(&self) -> bool {
        matches!(*self.lock(), State::Enrolled(_))
    }

    /// The enrolment, once enrolled.
    pub fn enrolment(&self) -> Result<EnrolmentInfo, ApiError> {
        let mut state = self.lock();
        Ok(state.device()?.syncer.enrolment().into())
    }

    /// The cases on this device, by alias.
    pub fn list_cases(&self) -> Result<Vec<CaseSummary>, ApiError> {
        self.with_open_device(|device, _| {
            let mut cases: Vec<CaseSummary> =
                device.cases.read_all().iter().map(Into::into).collect();
            cases.sort_by(|a, b| {
                (a.alias.to_lowercase(), &a.case_id).cmp(&(b.alias.to_lowercase(), &b.case_id))
            });
            Ok(cases)
        })
    }

    /// One case: profile, boundaries, live contacts newest first, and the plan.
    pub fn case_detail(&self, case_id: String) -> Result<CaseDetail, ApiError> {
        Ok((&self.read_case(&case_id)?).into())
    }

    /// Logs a contact; returns its id.
    pub fn log_contact(&self, case_id: String, contact: NewContact) -> Result<String, ApiError> {
        let new = (&contact).into();
        Ok(self
            .edit(&case_id, |doc, ctx| doc.log_contact(ctx, &new))?
            .to_string())
    }

    /// Changes the fields of a contact that are set in `patch`.
    pub fn edit_contact(
        &self,
        case_id: String,
        contact_id: String,
        patch: ContactPatch,
    ) -> Result<(), ApiError> {
        let id = parse_entry("contactId", &contact_id)?;
        let patch = (&patch).into();
        self.edit(&case_id, |doc, ctx| doc.edit_contact(ctx, &id, &patch))
    }

    /// Deletes a contact (everywhere, once synced; its note is cleared).
    pub fn delete_contact(&self, case_id: String, contact_id: String) -> Result<(), ApiError> {
        let id = parse_entry("contactId", &contact_id)?;
        self.edit(&case_id, |doc, ctx| doc.delete_contact(ctx, &id))
    }

    /// Flags a contact "to talk about in guidance", or clears the flag.
    pub fn flag_contact(
        &self,
        case_id: String,
        contact_id: String,
        flag: bool,
    ) -> Result<(), ApiError> {
        let id = parse_entry("contactId", &contact_id)?;
        self.edit(&case_id, |doc, ctx| doc.flag_contact(ctx, &id, flag))
    }

    /// Adds a goal in the service user's own words; returns its id. `review_on` is `YYYY-MM-DD`.
    pub fn add_goal(
        &self,
        case_id: String,
        area: LifeArea,
        text: String,
        review_on: Option<String>,
    ) -> Result<String, ApiError> {
        let review_on = review_on.map(|d| parse_date("reviewOn", &d)).transpose()?;
        let goal = NewGoal {
            area: area.into(),
            text,
            review_on,
        };
        Ok(self
            .edit(&case_id, |doc, ctx| doc.add_goal(ctx, &goal))?
            .to_string())
    }

    /// Rewrites a goal's text.
    pub fn edit_goal_text(
        &self,
        case_id: String,
        goal_id: String,
        text: String,
    ) -> Result<(), ApiError> {
        let goal = parse_entry("goalId", &goal_id)?;
        self.edit(&case_id, |doc, ctx| doc.edit_goal_text(ctx, &goal, &text))
    }

    /// Sets a goal's status (open, active, reached, dropped).
    pub fn set_goal_status(
        &self,
        case_id: String,
        goal_id: String,
        status: GoalStatus,
    ) -> Result<(), ApiError> {
        let goal = parse_entry("goalId", &goal_id)?;
        self.edit(&case_id, |doc, ctx| {
            doc.set_goal_status(ctx, &goal, status.into())
        })
    }

    /// Adds a step to a goal; returns its id.
    pub fn add_step(
        &self,
        case_id: String,
        goal_id: String,
        text: String,
    ) -> Result<String, ApiError> {
        let goal = parse_entry("goalId", &goal_id)?;
        Ok(self
            .edit(&case_id, |doc, ctx| doc.add_step(ctx, &goal, &text))?
            .to_string())
    }

    /// Rewrites a step's text.
    pub fn edit_step(
        &self,
        case_id: String,
        goal_id: String,
        step_id: String,
        text: String,
    ) -> Result<(), ApiError> {
        let goal = parse_entry("goalId", &goal_id)?;
        let step = parse_entry("stepId", &step_id)?;
        self.edit(&case_id, |doc, ctx| doc.edit_step(ctx, &goal, &step, &text))
    }

    /// Marks a step done or not done.
    pub fn set_step_done(
        &self,
        case_id: String,
        goal_id: String,
        step_id: String,
        done: bool,
    ) -> Result<(), ApiError> {
        let goal = parse_entry("goalId", &goal_id)?;
        let step = parse_entry("stepId", &step_id)?;
        self.edit(&case_id, |doc, ctx| {
            doc.set_step_done(ctx, &goal, &step, done)
        })
    }

    /// Removes a step from a goal.
    pub fn remove_step(
        &self,
        case_id: String,
        goal_id: String,
        step_id: String,
    ) -> Result<(), ApiError> {
        let goal = parse_entry("goalId", &goal_id)?;
        let step = parse_entry("stepId", &step_id)?;
        self.edit(&case_id, |doc, ctx| doc.remove_step(ctx, &goal, &step))
    }

    /// Adds an agreement ("tell me if you cancel") valid from `since` (`YYYY-MM-DD`).
    pub fn add_agreement(
        &self,
        case_id: String,
        text: String,
        since: String,
    ) -> Result<String, ApiError> {
        let since = parse_date("since", &since)?;
        Ok(self
            .edit(&case_id, |doc, ctx| doc.add_agreement(ctx, &text, since))?
            .to_string())
    }

    /// Removes an agreement.
    pub fn remove_agreement(&self, case_id: String, agreement_id: String) -> Result<(), ApiError> {
        let id = parse_entry("agreementId", &agreement_id)?;
        self.edit(&case_id, |doc, ctx| doc.remove_agreement(ctx, &id))
    }

    /// Replaces the plan for what happens if the service user uses.
    pub fn set_use_plan(&self, case_id: String, text: String) -> Result<(), ApiError> {
        self.edit(&case_id, |doc, ctx| doc.set_use_plan(ctx, &text))
    }

    /// The PRW's own week (`weeks_back` = 0 for this week), in the organisation's time zone.
    pub fn my_week(&self, weeks_back: u32) -> Result<MyWeek, ApiError> {
        self.with_open_device(|device, now| {
            let settings = device
                .cases
                .directory()
                .and_then(|d| d.settings)
                .unwrap_or_else(OrgSettings::norway_default);
            let week = week_back(now, weeks_back, &settings)
                .ok_or_else(|| invalid("weeksBack", "is out of range"))?;
            let me = device.syncer.enrolment().user_id.clone();
            let cases = device.cases.read_all();
            Ok((&insights::prw_week(&cases, &me, week, &settings, now)).into())
        })
    }

    /// Local changes not yet confirmed by the relay ("n changes not yet synced").
    pub fn pending_count(&self) -> Result<u64, ApiError> {
        let mut state = self.lock();
        Ok(state.device()?.cases.pending_count()?)
    }

    /// Cases whose stored data was damaged and could not be opened: set aside (not shown, not
    /// synced, their bytes kept) so that every other case works. Tell the user and the
    /// organisation; the relay still holds everything it had confirmed.
    pub fn quarantined_cases(&self) -> Result<Vec<String>, ApiError> {
        let mut state = self.lock();
        Ok(state
            .device()?
            .cases
            .quarantined()
            .iter()
            .map(ToString::to_string)
            .collect())
    }

    /// When the last sync succeeded (Unix milliseconds), if ever.
    pub fn last_sync_at(&self) -> Result<Option<i64>, ApiError> {
        let mut state = self.lock();
        Ok(state.device()?.cases.last_sync()?)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Peerlog {
    /// Enrols this device with the relay at `relay_url` (`https://…`) using a one-time code.
    pub async fn enrol(
        self: Arc<Self>,
        relay_url: String,
        code: String,
        device_name: String,
    ) -> Result<EnrolmentInfo, ApiError> {
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            self.enrol_blocking(&runtime, &relay_url, &code, &device_name)
        })
        .await
        .map_err(|_| ApiError::Internal {
            reason: "the enrolment task failed".to_owned(),
        })?
    }

    /// Syncs with the relay now: sends local changes, receives other devices' changes, and
    /// reports them (the observer hears about changed cases and the sync state too).
    pub async fn sync_now(self: Arc<Self>) -> Result<SyncReport, ApiError> {
        let observer = self.observer();
        notify(observer.as_ref(), |o| {
            o.sync_state_changed(SyncState::Syncing)
        });
        let runtime = tokio::runtime::Handle::current();
        let this = Arc::clone(&self);
        let outcome = tokio::task::spawn_blocking(move || this.sync_blocking(&runtime))
            .await
            .unwrap_or_else(|_| {
                Err(ApiError::Internal {
                    reason: "the sync task failed".to_owned(),
                })
            });
        match outcome {
            Ok(report) => {
                let report = SyncReport::from(&report);
                tracing::info!(
                    sent = report.sent,
                    received = report.received,
                    confirmed = report.confirmed,
                    pending = report.pending,
                    changed = report.changed_cases.len(),
                    "sync finished"
                );
                let touched = report.touched_cases();
                if !touched.is_empty() {
                    notify(observer.as_ref(), |o| o.cases_changed(touched));
                }
                let pending = report.pending;
                notify(observer.as_ref(), |o| {
                    o.sync_state_changed(SyncState::Synced { pending })
                });
                Ok(report)
            }
            Err(e) => {
                tracing::warn!(error = %e, "sync failed");
                let state = match &e {
                    ApiError::WipedByOrganisation => SyncState::Wiped,
                    other => SyncState::Failed {
                        reason: other.to_string(),
                    },
                };
                notify(observer.as_ref(), |o| o.sync_state_changed(state));
                Err(e)
            }
        }
    }
}

/// Deletes the store in `directory` (its database and journal files), for a key the keystore
/// lost or a user who signs out. Close every handle on it first.
#[uniffi::export]
pub fn wipe_store(directory: String) -> Result<(), ApiError> {
    let path = Path::new(&directory).join(STORE_FILE);
    net::wipe(&path).map_err(|e| ApiError::Storage {
        reason: format!("could not delete the store files: {}", e.kind()),
    })
}

#[cfg(test)]
mod tests;
