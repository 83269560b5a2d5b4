"""Drives the generated Python bindings of peerlog_ffi like an app, against a real relay.

Run by scripts/ffi-test.sh, which puts this file beside the generated peerlog_ffi.py and
libpeerlog_ffi.so, starts `peerlog serve` on a loopback port and sets:
  PEERLOG_BIN, PEERLOG_DATA  the relay binary and its data directory (for `peerlog admin`)
  PEERLOG_RELAY_URL          where the relay listens
  PEERLOG_TEST_DIR           a scratch directory for the devices' stores
  FFI_CYCLES                 open/close cycles (default 1000)
Prints `ok <name>` / `FAIL <name>` per step and ends with `N passed, M failed`.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import traceback

import peerlog_ffi as p

BIN = os.environ["PEERLOG_BIN"]
DATA = os.environ["PEERLOG_DATA"]
URL = os.environ["PEERLOG_RELAY_URL"]
SCRATCH = os.environ["PEERLOG_TEST_DIR"]
CYCLES = int(os.environ.get("FFI_CYCLES", "1000"))

ALIAS = "Fjellrev"
SECRET_NOTE = "Worried about the flat viewing on Tuesday"

passed = 0
failed = 0


def step(fn):
    """Runs one step of the scenario and records the outcome."""
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"ok {fn.__name__}", flush=True)
    except Exception:  # noqa: BLE001 - every failure is reported, then counted
        failed += 1
        print(f"FAIL {fn.__name__}", flush=True)
        traceback.print_exc()
    return fn


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def expect_error(kind, call, field=None):
    """Runs `call`, which must raise ApiError.<kind> (with `field` for InvalidInput)."""
    try:
        call()
    except p.ApiError as e:
        check(type(e).__name__ == kind, f"expected {kind}, got {type(e).__name__}: {e}")
        if field is not None:
            check(e.field == field, f"expected field {field}, got {e.field}")
        return e
    raise AssertionError(f"expected ApiError.{kind}, nothing raised")


def admin(*args):
    out = subprocess.run(
        [BIN, "admin", *args, "--json", "--data", DATA],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def code_for(user):
    return admin("enrol-code", "--user", user)["code"]


def key(byte):
    return bytes([byte]) * 32


def store_dir(name):
    return os.path.join(SCRATCH, name)


def now_ms():
    return int(time.time() * 1000)


def sync(device):
    return asyncio.run(device.sync_now())


def sync_until_cases(device, count):
    """Syncs until the device holds `count` cases (the relay applies CLI changes within ~1 s)."""
    for _ in range(60):
        sync(device)
        cases = device.list_cases()
        if len(cases) == count:
            return cases
        time.sleep(0.25)
    raise AssertionError(f"device holds {len(device.list_cases())} cases, expected {count}")


def contact(minutes_ago, note, minutes=45, flag=False):
    return p.NewContact(
        at=now_ms() - minutes_ago * 60_000,
        tz_offset_min=60,
        minutes=minutes,
        mode=p.ContactMode.MEETING,
        initiated_by=p.Initiator.SERVICE_USER,
        topics=[p.LifeArea.HOUSING],
        support_types=[p.SupportType.EMOTIONAL],
        note=note,
        flag_for_guidance=flag,
    )


class Collector:
    """Observer and logger: remembers what it was told."""

    def __init__(self):
        self.lock = threading.Lock()
        self.changed = []
        self.states = []
        self.lines = []

    def cases_changed(self, case_ids):
        with self.lock:
            self.changed.extend(case_ids)

    def sync_state_changed(self, state):
        with self.lock:
            self.states.append(state)

    def log(self, level, target, message):
        with self.lock:
            self.lines.append(f"{level} {target} {message}")


shutil.rmtree(SCRATCH, ignore_errors=True)
os.makedirs(SCRATCH)
admin("team", "add", "North")
admin("user", "add", "ola", "--role", "prw", "--team", "North")
admin("user", "add", "kari", "--role", "prw", "--team", "North")
CASE = admin("case", "open", "--prw", "ola", "--alias", ALIAS, "--birth-year", "1991")["caseId"]
# A real case of another PRW: never on ola's devices.
OTHER_CASE = admin("case", "open", "--prw", "kari", "--alias", "Lirype")["caseId"]

logs = Collector()
p.set_logger(logs, p.LogLevel.DEBUG)
state = {}


@step
def bindings_match_the_library():
    check_sums = getattr(p, "_uniffi_check_api_checksums", None)
    check(check_sums is not None, "the generated module has no checksum check")
    check_sums(p._UniffiLib)


@step
def a_key_of_the_wrong_length_is_invalid_input():
    expect_error("InvalidInput", lambda: p.Peerlog.open(store_dir("phone"), b"short"), field="key")


@step
def a_fresh_store_needs_enrolment():
    phone = p.Peerlog.open(store_dir("phone"), key(1))
    state["phone"] = phone
    check(not phone.is_enrolled(), "a fresh store is not enrolled")
    expect_error("NeedsReenrolment", phone.list_cases)
    expect_error("InvalidInput", lambda: p.Peerlog.open(store_dir("phone"), key(1)), field="directory")


@step
def enrolment_refuses_a_bad_code_and_a_bad_address():
    phone = state["phone"]
    expect_error("InvalidInput", lambda: asyncio.run(phone.enrol(URL, "NOT-A-CODE", "phone")), field="code")
    expect_error("InvalidInput", lambda: asyncio.run(phone.enrol("ftp://relay", "x", "phone")), field="relayUrl")
    # Nothing listens on the discard port: the network kind, retry later.
    expect_error("Network", lambda: asyncio.run(phone.enrol("http://127.0.0.1:9", "x", "phone")))
    check(not phone.is_enrolled(), "failed enrolments leave the store unenrolled")


@step
def enrols_and_receives_the_case():
    phone = state["phone"]
    info = asyncio.run(phone.enrol(URL, code_for("ola"), "ola-phone"))
    check(info.role == "prw", f"role {info.role}")
    check(phone.is_enrolled(), "enrolled")
    phone.set_observer(Collector())
    cases = sync_until_cases(phone, 1)
    check(cases[0].case_id == CASE and cases[0].alias == ALIAS, f"{cases[0]}")
    check(phone.last_sync_at() is not None, "a successful sync is recorded")
    check(phone.quarantined_cases() == [], "no case set aside")


@step
def logs_contacts_and_edits_the_plan_offline():
    phone = state["phone"]
    before = phone.pending_count()
    ids = [phone.log_contact(CASE, contact(180 - i * 30, f"{SECRET_NOTE} #{i}")) for i in range(3)]
    goal = phone.add_goal(CASE, p.LifeArea.HOUSING, "My own flat", None)
    step_id = phone.add_step(CASE, goal, "Visit the housing office")
    phone.set_step_done(CASE, goal, step_id, True)
    phone.add_agreement(CASE, "Tell me if you cancel", "2026-09-01")
    phone.set_use_plan(CASE, "Call me first; then we call the clinic together.")
    phone.flag_contact(CASE, ids[0], True)
    phone.edit_contact(CASE, ids[1], p.ContactPatch(minutes=60))
    check(phone.pending_count() >= before + 9, f"pending {phone.pending_count()}")
    detail = phone.case_detail(CASE)
    check([c.contact_id for c in detail.contacts] == list(reversed(ids)), "contacts newest first")
    check(detail.contacts[1].minutes == 60, "the edit holds")
    check(detail.contacts[2].flag_for_guidance, "the flag holds")
    check(detail.goals[0].text == "My own flat" and detail.goals[0].steps[0].done, "goal and step")
    check(detail.agreements[0].since == "2026-09-01", "agreement")
    check(detail.use_plan.startswith("Call me first"), "use plan")
    state.update(contacts=ids, goal=goal)


@step
def bad_input_names_the_field_and_writes_nothing():
    phone = state["phone"]
    pending = phone.pending_count()
    expect_error("InvalidInput", lambda: phone.log_contact(CASE, contact(10, "x", minutes=-5)), field="minutes")
    expect_error("InvalidInput", lambda: phone.log_contact(CASE, contact(10, "x" * 5000)), field="note")
    expect_error("InvalidInput", lambda: phone.add_goal(CASE, p.LifeArea.WORK, "   ", None), field="text")
    expect_error("InvalidInput", lambda: phone.add_agreement(CASE, "ok", "1st of May"), field="since")
    expect_error("InvalidInput", lambda: phone.case_detail("not-a-case"), field="caseId")
    expect_error("NotFound", lambda: phone.flag_contact(CASE, "0123456789abcdef", True))
    expect_error("NotFound", lambda: phone.case_detail(OTHER_CASE))
    check(phone.pending_count() == pending, "refused edits add no change")


@step
def sync_sends_everything_and_pending_goes_to_zero():
    phone = state["phone"]
    report = sync(phone)
    check(report.pending == 0 and phone.pending_count() == 0, f"{report}")
    check(report.confirmed >= 9 and report.sent > 0, f"{report}")


@step
def another_device_of_the_same_prw_gets_it_and_its_change_reaches_the_observer():
    phone = state["phone"]
    tablet = p.Peerlog.open(store_dir("tablet"), key(2))
    state["tablet"] = tablet
    asyncio.run(tablet.enrol(URL, code_for("ola"), "ola-tablet"))
    sync_until_cases(tablet, 1)
    detail = tablet.case_detail(CASE)
    check(len(detail.contacts) == 3 and detail.goals[0].text == "My own flat", "the phone's work arrived")
    new_id = tablet.log_contact(CASE, contact(5, "Short call from the tablet", minutes=10))
    tablet.edit_goal_text(CASE, state["goal"], "My own flat by summer")
    check(sync(tablet).pending == 0, "the tablet's changes are at the relay")

    seen = Collector()
    phone.set_observer(seen)
    report = sync(phone)
    check(CASE in report.changed_cases, f"report {report}")
    check(CASE in seen.changed, f"observer heard {seen.changed}")
    check(any(s.is_syncing() for s in seen.states), "observer heard Syncing")
    check(seen.states[-1].is_synced() and seen.states[-1].pending == 0, f"{seen.states}")
    detail = phone.case_detail(CASE)
    check(detail.contacts[0].contact_id == new_id, "the tablet's contact is newest")
    check(detail.goals[0].text == "My own flat by summer", "the tablet's goal edit")


@step
def my_week_counts_this_weeks_contacts():
    phone = state["phone"]
    week = phone.my_week(0)
    in_week = [c for c in phone.case_detail(CASE).contacts if week.starts_at <= c.at < week.ends_at]
    check(week.caseload == 1, f"caseload {week.caseload}")
    check(week.totals.contacts == len(in_week), f"{week.totals.contacts} vs {len(in_week)}")
    check(week.totals.minutes == sum(c.minutes for c in in_week), "minutes add up")
    check(phone.my_week(1).iso_week != week.iso_week, "last week is another week")


@step
def concurrent_calls_on_one_handle_are_serialised():
    phone = state["phone"]
    before = len(phone.case_detail(CASE).contacts)
    errors = []

    def worker(n):
        try:
            for i in range(5):
                phone.log_contact(CASE, contact(30 + n, f"thread {n} call {i}", minutes=5))
                phone.pending_count()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    syncer = threading.Thread(target=lambda: sync(phone))
    for t in threads + [syncer]:
        t.start()
    for t in threads + [syncer]:
        t.join()
    check(not errors, f"errors: {errors}")
    check(len(phone.case_detail(CASE).contacts) == before + 40, "every concurrent contact was kept")
    check(sync(phone).pending == 0, "and synced")


@step
def the_wrong_key_does_not_open_the_store_and_the_right_one_still_does():
    phone = state.pop("phone")
    phone.close_store()
    expect_error("Internal", phone.list_cases)
    expect_error("NeedsReenrolment", lambda: p.Peerlog.open(store_dir("phone"), key(7)))
    phone = p.Peerlog.open(store_dir("phone"), key(1))
    check(len(phone.case_detail(CASE).contacts) == 44, "nothing was lost")
    phone.close_store()


@step
def a_revoked_device_is_wiped():
    spare = p.Peerlog.open(store_dir("spare"), key(3))
    info = asyncio.run(spare.enrol(URL, code_for("ola"), "ola-spare"))
    sync_until_cases(spare, 1)
    seen = Collector()
    spare.set_observer(seen)
    admin("device", "revoke", info.device_id)
    for _ in range(40):
        try:
            sync(spare)
        except p.ApiError.WipedByOrganisation:
            break
        time.sleep(0.25)
    else:
        raise AssertionError("the revoked device was never told to wipe")
    check(seen.states[-1].is_wiped(), f"observer heard {seen.states}")
    expect_error("WipedByOrganisation", spare.list_cases)
    check(not os.path.exists(os.path.join(store_dir("spare"), "peerlog.sqlite3")), "the store file is gone")
    fresh = p.Peerlog.open(store_dir("spare"), key(3))
    check(not fresh.is_enrolled(), "a wiped device starts afresh")
    fresh.close_store()


@step
def survives_open_close_cycles():
    for i in range(CYCLES):
        handle = p.Peerlog.open(store_dir("phone"), key(1))
        if i % 100 == 0:
            check(handle.pending_count() == 0, "pending")
            check(len(handle.list_cases()) == 1, "cases")
        handle.close_store()
        del handle
    handle = p.Peerlog.open(store_dir("phone"), key(1))
    check(len(handle.case_detail(CASE).contacts) == 44, "intact after the cycles")
    handle.close_store()


@step
def the_logger_heard_the_library_and_no_personal_data():
    p.set_logger(None, p.LogLevel.ERROR)
    text = "\n".join(logs.lines)
    check("sync finished" in text, f"log lines: {logs.lines[:5]}")
    for secret in (ALIAS, SECRET_NOTE, "My own flat"):
        check(secret not in text, f"{secret!r} appears in the logs")


for name in ("tablet",):
    if name in state:
        state[name].close_store()

print(f"{passed} passed, {failed} failed", flush=True)
sys.exit(1 if failed else 0)
