// Drives the generated Swift bindings of peerlog_ffi like an iOS app would (Swift on Linux, in
// a Debian 13 chroot), against a real relay. Run by scripts/ffi-test.sh, which compiles this file
// with the generated peerlog_ffi.swift, starts `peerlog serve` on a loopback port and sets
// PEERLOG_BIN, PEERLOG_DATA, PEERLOG_RELAY_URL, PEERLOG_TEST_DIR and FFI_CYCLES. Prints
// `ok <name>` / `FAIL <name>` per step and ends with `N passed, M failed`.

import Foundation

let env = ProcessInfo.processInfo.environment
let BIN = env["PEERLOG_BIN"]!
let DATA = env["PEERLOG_DATA"]!
let URL_ = env["PEERLOG_RELAY_URL"]!
let SCRATCH = env["PEERLOG_TEST_DIR"]!
let CYCLES = Int(env["FFI_CYCLES"] ?? "1000")!

let ALIAS = "Fjellrev"
let SECRET_NOTE = "Worried about the flat viewing on Tuesday"

struct Failure: Error, CustomStringConvertible {
    let description: String
}

var passed = 0
var failed = 0

func step(_ name: String, _ body: () async throws -> Void) async {
    do {
        try await body()
        passed += 1
        print("ok \(name)")
    } catch {
        failed += 1
        print("FAIL \(name): \(error)")
    }
}

func check(_ cond: Bool, _ what: @autoclosure () -> String) throws {
    if !cond { throw Failure(description: what()) }
}

/// The name of an ApiError case: `InvalidInput`, `NotFound`, ...
func kind(_ e: ApiError) -> String {
    String(String(describing: e).prefix { $0 != "(" })
}

func expectError(_ expected: String, field: String? = nil, _ call: () async throws -> Void) async throws {
    do {
        try await call()
    } catch let e as ApiError {
        try check(kind(e) == expected, "expected \(expected), got \(e)")
        if let field = field {
            guard case let .InvalidInput(actual, _) = e else { throw Failure(description: "not InvalidInput") }
            try check(actual == field, "expected field \(field), got \(actual)")
        }
        return
    }
    throw Failure(description: "expected \(expected), nothing thrown")
}

func admin(_ args: String...) throws -> [String: Any] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: BIN)
    process.arguments = ["admin"] + args + ["--json", "--data", DATA]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try check(process.terminationStatus == 0, "peerlog admin \(args) failed")
    return (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
}

func codeFor(_ user: String) throws -> String {
    try admin("enrol-code", "--user", user)["code"] as! String
}

func key(_ byte: UInt8) -> Data { Data(repeating: byte, count: 32) }

func storeDir(_ name: String) -> String { SCRATCH + "/" + name }

func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

func syncUntilCases(_ device: Peerlog, _ count: Int) async throws -> [CaseSummary] {
    for _ in 0..<60 {
        _ = try await device.syncNow()
        let cases = try device.listCases()
        if cases.count == count { return cases }
        Thread.sleep(forTimeInterval: 0.25)
    }
    throw Failure(description: "device holds \(try device.listCases().count) cases, expected \(count)")
}

func contact(_ minutesAgo: Int64, _ note: String, minutes: Int64 = 45, flag: Bool = false) -> NewContact {
    NewContact(
        at: nowMs() - minutesAgo * 60_000, tzOffsetMin: 60, minutes: minutes, mode: .meeting,
        initiatedBy: .serviceUser, topics: [.housing], supportTypes: [.emotional], note: note,
        flagForGuidance: flag)
}

/// Observer and logger: remembers what it was told (called from library threads).
final class Collector: Observer, Logger, @unchecked Sendable {
    private let lock = NSLock()
    private var _changed: [String] = []
    private var _states: [SyncState] = []
    private var _lines: [String] = []

    func casesChanged(caseIds: [String]) { lock.lock(); _changed += caseIds; lock.unlock() }
    func syncStateChanged(state: SyncState) { lock.lock(); _states.append(state); lock.unlock() }
    func log(level: LogLevel, target: String, message: String) {
        lock.lock(); _lines.append("\(level) \(target) \(message)"); lock.unlock()
    }
    var changed: [String] { lock.lock(); defer { lock.unlock() }; return _changed }
    var states: [SyncState] { lock.lock(); defer { lock.unlock() }; return _states }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return _lines }
}

try? FileManager.default.removeItem(atPath: SCRATCH)
try! FileManager.default.createDirectory(atPath: SCRATCH, withIntermediateDirectories: true)
_ = try! admin("team", "add", "North")
_ = try! admin("user", "add", "ola", "--role", "prw", "--team", "North")
_ = try! admin("user", "add", "kari", "--role", "prw", "--team", "North")
let CASE = try! admin("case", "open", "--prw", "ola", "--alias", ALIAS)["caseId"] as! String
let OTHER_CASE = try! admin("case", "open", "--prw", "kari", "--alias", "Lirype")["caseId"] as! String

let logs = Collector()
setLogger(logger: logs, maxLevel: .debug)
var phone: Peerlog! = nil
var goal = ""
var contactCount = 0

await step("a_key_of_the_wrong_length_is_invalid_input") {
    try await expectError("InvalidInput", field: "key") { _ = try Peerlog.open(directory: storeDir("phone"), key: Data([1, 2])) }
}

await step("a_fresh_store_needs_enrolment") {
    phone = try Peerlog.open(directory: storeDir("phone"), key: key(1))
    try check(!phone.isEnrolled(), "a fresh store is not enrolled")
    try await expectError("NeedsReenrolment") { _ = try phone.listCases() }
    try await expectError("InvalidInput", field: "directory") { _ = try Peerlog.open(directory: storeDir("phone"), key: key(1)) }
}

await step("enrolment_refuses_a_bad_code_and_a_bad_address") {
    try await expectError("InvalidInput", field: "code") { _ = try await phone.enrol(relayUrl: URL_, code: "NOT-A-CODE", deviceName: "phone") }
    try await expectError("InvalidInput", field: "relayUrl") { _ = try await phone.enrol(relayUrl: "ftp://relay", code: "x", deviceName: "phone") }
    try await expectError("Network") { _ = try await phone.enrol(relayUrl: "http://127.0.0.1:9", code: "x", deviceName: "phone") }
    try check(!phone.isEnrolled(), "failed enrolments leave the store unenrolled")
}

await step("enrols_and_receives_the_case") {
    let info = try await phone.enrol(relayUrl: URL_, code: try codeFor("ola"), deviceName: "ola-phone")
    try check(info.role == "prw", "role \(info.role)")
    let cases = try await syncUntilCases(phone, 1)
    try check(cases[0].caseId == CASE && cases[0].alias == ALIAS, "\(cases[0])")
    try check(try phone.lastSyncAt() != nil, "a successful sync is recorded")
}

await step("logs_contacts_and_edits_the_plan_offline") {
    let before = try phone.pendingCount()
    var ids: [String] = []
    for i in 0..<3 {
        ids.append(try phone.logContact(caseId: CASE, contact: contact(180 - Int64(i) * 30, "\(SECRET_NOTE) #\(i)")))
    }
    goal = try phone.addGoal(caseId: CASE, area: .housing, text: "My own flat", reviewOn: nil)
    let stepId = try phone.addStep(caseId: CASE, goalId: goal, text: "Visit the housing office")
    try phone.setStepDone(caseId: CASE, goalId: goal, stepId: stepId, done: true)
    _ = try phone.addAgreement(caseId: CASE, text: "Tell me if you cancel", since: "2026-09-01")
    try phone.setUsePlan(caseId: CASE, text: "Call me first; then we call the clinic together.")
    try phone.flagContact(caseId: CASE, contactId: ids[0], flag: true)
    try phone.editContact(caseId: CASE, contactId: ids[1], patch: ContactPatch(minutes: 60))
    contactCount = 3
    let pending = try phone.pendingCount()
    try check(pending >= before + 9, "pending \(pending)")
    let detail = try phone.caseDetail(caseId: CASE)
    try check(detail.contacts.map { $0.contactId } == ids.reversed(), "contacts newest first")
    try check(detail.contacts[1].minutes == 60, "the edit holds")
    try check(detail.contacts[2].flagForGuidance, "the flag holds")
    try check(detail.goals[0].text == "My own flat" && detail.goals[0].steps[0].done, "goal and step")
    try check(detail.agreements[0].since == "2026-09-01", "agreement")
    try check(detail.usePlan.hasPrefix("Call me first"), "use plan")
}

await step("bad_input_names_the_field_and_writes_nothing") {
    let pending = try phone.pendingCount()
    try await expectError("InvalidInput", field: "minutes") { _ = try phone.logContact(caseId: CASE, contact: contact(10, "x", minutes: -5)) }
    try await expectError("InvalidInput", field: "note") { _ = try phone.logContact(caseId: CASE, contact: contact(10, String(repeating: "x", count: 5000))) }
    try await expectError("InvalidInput", field: "text") { _ = try phone.addGoal(caseId: CASE, area: .work, text: "   ", reviewOn: nil) }
    try await expectError("InvalidInput", field: "since") { _ = try phone.addAgreement(caseId: CASE, text: "ok", since: "1st of May") }
    try await expectError("InvalidInput", field: "caseId") { _ = try phone.caseDetail(caseId: "not-a-case") }
    try await expectError("NotFound") { try phone.flagContact(caseId: CASE, contactId: "0123456789abcdef", flag: true) }
    try await expectError("NotFound") { _ = try phone.caseDetail(caseId: OTHER_CASE) }
    try check(try phone.pendingCount() == pending, "refused edits add no change")
}

await step("sync_sends_everything_and_pending_goes_to_zero") {
    let report = try await phone.syncNow()
    try check(report.pending == 0 && (try phone.pendingCount()) == 0, "\(report)")
    try check(report.confirmed >= 9 && report.sent > 0, "\(report)")
}

await step("another_device_of_the_same_prw_gets_it_and_its_change_reaches_the_observer") {
    let tablet = try Peerlog.open(directory: storeDir("tablet"), key: key(2))
    defer { tablet.closeStore() }
    _ = try await tablet.enrol(relayUrl: URL_, code: try codeFor("ola"), deviceName: "ola-tablet")
    _ = try await syncUntilCases(tablet, 1)
    try check(try tablet.caseDetail(caseId: CASE).contacts.count == 3, "the phone's work arrived")
    let newId = try tablet.logContact(caseId: CASE, contact: contact(5, "Short call from the tablet", minutes: 10))
    try tablet.editGoalText(caseId: CASE, goalId: goal, text: "My own flat by summer")
    try check(try await tablet.syncNow().pending == 0, "the tablet's changes are at the relay")
    contactCount += 1

    let seen = Collector()
    phone.setObserver(observer: seen)
    let report = try await phone.syncNow()
    try check(report.changedCases.contains(CASE), "report \(report)")
    try check(seen.changed.contains(CASE), "observer heard \(seen.changed)")
    try check(seen.states.first == .syncing, "observer heard \(seen.states)")
    try check(seen.states.last == .synced(pending: 0), "observer heard \(seen.states)")
    let detail = try phone.caseDetail(caseId: CASE)
    try check(detail.contacts[0].contactId == newId, "the tablet's contact is newest")
    try check(detail.goals[0].text == "My own flat by summer", "the tablet's goal edit")
}

await step("my_week_counts_this_weeks_contacts") {
    let week = try phone.myWeek(weeksBack: 0)
    let inWeek = try phone.caseDetail(caseId: CASE).contacts.filter { $0.at >= week.startsAt && $0.at < week.endsAt }
    try check(week.caseload == 1, "caseload \(week.caseload)")
    try check(Int(week.totals.contacts) == inWeek.count, "\(week.totals.contacts) vs \(inWeek.count)")
    try check(week.totals.minutes == inWeek.reduce(0) { $0 + UInt64($1.minutes) }, "minutes add up")
    try check(try phone.myWeek(weeksBack: 1).isoWeek != week.isoWeek, "last week is another week")
}

await step("concurrent_tasks_on_one_handle_are_serialised") {
    let before = try phone.caseDetail(caseId: CASE).contacts.count
    let handle: Peerlog = phone
    try await withThrowingTaskGroup(of: Void.self) { group in
        for n in 0..<8 {
            group.addTask {
                for i in 0..<5 {
                    _ = try handle.logContact(caseId: CASE, contact: contact(30 + Int64(n), "task \(n) call \(i)", minutes: 5))
                    _ = try handle.pendingCount()
                }
            }
        }
        group.addTask { _ = try await handle.syncNow() }
        try await group.waitForAll()
    }
    contactCount += 40
    try check(try phone.caseDetail(caseId: CASE).contacts.count == before + 40, "every concurrent contact was kept")
    try check(try await phone.syncNow().pending == 0, "and synced")
}

await step("the_wrong_key_does_not_open_the_store_and_the_right_one_still_does") {
    phone.closeStore()
    try await expectError("Internal") { _ = try phone.listCases() }
    phone = nil
    try await expectError("NeedsReenrolment") { _ = try Peerlog.open(directory: storeDir("phone"), key: key(7)) }
    let again = try Peerlog.open(directory: storeDir("phone"), key: key(1))
    defer { again.closeStore() }
    try check(try again.caseDetail(caseId: CASE).contacts.count == contactCount, "nothing was lost")
}

await step("a_revoked_device_is_wiped") {
    let spare = try Peerlog.open(directory: storeDir("spare"), key: key(3))
    let info = try await spare.enrol(relayUrl: URL_, code: try codeFor("ola"), deviceName: "ola-spare")
    _ = try await syncUntilCases(spare, 1)
    let seen = Collector()
    spare.setObserver(observer: seen)
    _ = try admin("device", "revoke", info.deviceId)
    var wiped = false
    for _ in 0..<40 {
        do {
            _ = try await spare.syncNow()
        } catch ApiError.WipedByOrganisation {
            wiped = true
            break
        }
        Thread.sleep(forTimeInterval: 0.25)
    }
    try check(wiped, "the revoked device was never told to wipe")
    try check(seen.states.last == .wiped, "observer heard \(seen.states)")
    try await expectError("WipedByOrganisation") { _ = try spare.listCases() }
    try check(!FileManager.default.fileExists(atPath: storeDir("spare") + "/peerlog.sqlite3"), "the store file is gone")
    let fresh = try Peerlog.open(directory: storeDir("spare"), key: key(3))
    defer { fresh.closeStore() }
    try check(!fresh.isEnrolled(), "a wiped device starts afresh")
}

await step("survives_open_close_cycles") {
    for i in 0..<CYCLES {
        let handle = try Peerlog.open(directory: storeDir("phone"), key: key(1))
        if i % 100 == 0 {
            try check(try handle.pendingCount() == 0, "pending")
            try check(try handle.listCases().count == 1, "cases")
        }
        handle.closeStore()
    }
    let handle = try Peerlog.open(directory: storeDir("phone"), key: key(1))
    defer { handle.closeStore() }
    try check(try handle.caseDetail(caseId: CASE).contacts.count == contactCount, "intact after the cycles")
}

await step("the_logger_heard_the_library_and_no_personal_data") {
    setLogger(logger: nil, maxLevel: .error)
    let text = logs.lines.joined(separator: "\n")
    try check(text.contains("sync finished"), "log lines: \(logs.lines.prefix(5))")
    for secret in [ALIAS, SECRET_NOTE, "My own flat"] {
        try check(!text.contains(secret), "'\(secret)' appears in the logs")
    }
}

print("\(passed) passed, \(failed) failed")
exit(failed > 0 ? 1 : 0)
