// Drives the generated Kotlin bindings of peerlog_ffi like an Android app would (JVM, JNA),
// against a real relay. Run by scripts/ffi-test.sh, which compiles this file with the generated
// peerlog_ffi.kt, starts `peerlog serve` on a loopback port and sets PEERLOG_BIN, PEERLOG_DATA,
// PEERLOG_RELAY_URL, PEERLOG_TEST_DIR and FFI_CYCLES. Prints `ok <name>` / `FAIL <name>` per
// step and ends with `N passed, M failed`.

import java.io.File
import java.util.Collections
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import uniffi.peerlog_ffi.*

val BIN: String = System.getenv("PEERLOG_BIN")
val DATA: String = System.getenv("PEERLOG_DATA")
val URL: String = System.getenv("PEERLOG_RELAY_URL")
val SCRATCH: String = System.getenv("PEERLOG_TEST_DIR")
val CYCLES: Int = (System.getenv("FFI_CYCLES") ?: "1000").toInt()

const val ALIAS = "Fjellrev"
const val SECRET_NOTE = "Worried about the flat viewing on Tuesday"

var passed = 0
var failed = 0

fun step(name: String, body: () -> Unit) {
    try {
        body()
        passed++
        println("ok $name")
    } catch (e: Throwable) {
        failed++
        println("FAIL $name")
        e.printStackTrace(System.out)
    }
}

fun check(cond: Boolean, what: () -> String) {
    if (!cond) throw AssertionError(what())
}

inline fun <reified E : ApiException> expectError(field: String? = null, call: () -> Unit): E {
    try {
        call()
    } catch (e: ApiException) {
        check(e is E) { "expected ${E::class.simpleName}, got ${e::class.simpleName}: ${e.message}" }
        if (field != null) {
            val actual = (e as ApiException.InvalidInput).field
            check(actual == field) { "expected field $field, got $actual" }
        }
        return e as E
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing thrown")
}

fun admin(vararg args: String): String {
    val process = ProcessBuilder(listOf(BIN, "admin") + args + listOf("--json", "--data", DATA))
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start()
    val out = process.inputStream.bufferedReader().readText()
    check(process.waitFor() == 0) { "peerlog admin ${args.joinToString(" ")} failed" }
    return out
}

fun jsonString(json: String, key: String): String =
    Regex("\"$key\"\\s*:\\s*\"([^\"]*)\"").find(json)?.groupValues?.get(1)
        ?: throw AssertionError("no $key in $json")

fun codeFor(user: String) = jsonString(admin("enrol-code", "--user", user), "code")

fun key(byte: Int) = ByteArray(32) { byte.toByte() }

fun storeDir(name: String) = File(SCRATCH, name).path

fun nowMs() = System.currentTimeMillis()

fun sync(device: Peerlog): SyncReport = runBlocking { device.syncNow() }

fun syncUntilCases(device: Peerlog, count: Int): List<CaseSummary> {
    repeat(60) {
        sync(device)
        val cases = device.listCases()
        if (cases.size == count) return cases
        Thread.sleep(250)
    }
    throw AssertionError("device holds ${device.listCases().size} cases, expected $count")
}

fun contact(minutesAgo: Long, note: String, minutes: Long = 45, flag: Boolean = false) = NewContact(
    at = nowMs() - minutesAgo * 60_000,
    tzOffsetMin = 60,
    minutes = minutes,
    mode = ContactMode.MEETING,
    initiatedBy = Initiator.SERVICE_USER,
    topics = listOf(LifeArea.HOUSING),
    supportTypes = listOf(SupportType.EMOTIONAL),
    note = note,
    flagForGuidance = flag,
)

/** Observer and logger: remembers what it was told (called from library threads). */
class Collector : Observer, Logger {
    val changed: MutableList<String> = Collections.synchronizedList(mutableListOf())
    val states: MutableList<SyncState> = Collections.synchronizedList(mutableListOf())
    val lines: MutableList<String> = Collections.synchronizedList(mutableListOf())

    override fun casesChanged(caseIds: List<String>) {
        changed.addAll(caseIds)
    }

    override fun syncStateChanged(state: SyncState) {
        states.add(state)
    }

    override fun log(level: LogLevel, target: String, message: String) {
        lines.add("$level $target $message")
    }
}

fun main() {
    File(SCRATCH).deleteRecursively()
    File(SCRATCH).mkdirs()
    admin("team", "add", "North")
    admin("user", "add", "ola", "--role", "prw", "--team", "North")
    admin("user", "add", "kari", "--role", "prw", "--team", "North")
    val case = jsonString(admin("case", "open", "--prw", "ola", "--alias", ALIAS), "caseId")
    val otherCase = jsonString(admin("case", "open", "--prw", "kari", "--alias", "Lirype"), "caseId")

    val logs = Collector()
    setLogger(logs, LogLevel.DEBUG)
    lateinit var phone: Peerlog
    lateinit var goal: String
    var contactCount = 0

    step("bindings_match_the_library") {
        uniffiEnsureInitialized()
    }

    step("a_key_of_the_wrong_length_is_invalid_input") {
        expectError<ApiException.InvalidInput>("key") { Peerlog.open(storeDir("phone"), ByteArray(5)) }
    }

    step("a_fresh_store_needs_enrolment") {
        phone = Peerlog.open(storeDir("phone"), key(1))
        check(!phone.isEnrolled()) { "a fresh store is not enrolled" }
        expectError<ApiException.NeedsReenrolment> { phone.listCases() }
        expectError<ApiException.InvalidInput>("directory") { Peerlog.open(storeDir("phone"), key(1)) }
    }

    step("enrolment_refuses_a_bad_code_and_a_bad_address") {
        expectError<ApiException.InvalidInput>("code") { runBlocking { phone.enrol(URL, "NOT-A-CODE", "phone") } }
        expectError<ApiException.InvalidInput>("relayUrl") { runBlocking { phone.enrol("ftp://relay", "x", "phone") } }
        expectError<ApiException.Network> { runBlocking { phone.enrol("http://127.0.0.1:9", "x", "phone") } }
        check(!phone.isEnrolled()) { "failed enrolments leave the store unenrolled" }
    }

    step("enrols_and_receives_the_case") {
        val info = runBlocking { phone.enrol(URL, codeFor("ola"), "ola-phone") }
        check(info.role == "prw") { "role ${info.role}" }
        val cases = syncUntilCases(phone, 1)
        check(cases[0].caseId == case && cases[0].alias == ALIAS) { "${cases[0]}" }
        check(phone.lastSyncAt() != null) { "a successful sync is recorded" }
    }

    step("logs_contacts_and_edits_the_plan_offline") {
        val before = phone.pendingCount()
        val ids = (0 until 3).map { phone.logContact(case, contact(180L - it * 30, "$SECRET_NOTE #$it")) }
        goal = phone.addGoal(case, LifeArea.HOUSING, "My own flat", null)
        val stepId = phone.addStep(case, goal, "Visit the housing office")
        phone.setStepDone(case, goal, stepId, true)
        phone.addAgreement(case, "Tell me if you cancel", "2026-09-01")
        phone.setUsePlan(case, "Call me first; then we call the clinic together.")
        phone.flagContact(case, ids[0], true)
        phone.editContact(case, ids[1], ContactPatch(minutes = 60L))
        contactCount = 3
        check(phone.pendingCount() >= before + 9uL) { "pending ${phone.pendingCount()}" }
        val detail = phone.caseDetail(case)
        check(detail.contacts.map { it.contactId } == ids.reversed()) { "contacts newest first" }
        check(detail.contacts[1].minutes == 60u) { "the edit holds" }
        check(detail.contacts[2].flagForGuidance) { "the flag holds" }
        check(detail.goals[0].text == "My own flat" && detail.goals[0].steps[0].done) { "goal and step" }
        check(detail.agreements[0].since == "2026-09-01") { "agreement" }
        check(detail.usePlan.startsWith("Call me first")) { "use plan" }
    }

    step("bad_input_names_the_field_and_writes_nothing") {
        val pending = phone.pendingCount()
        expectError<ApiException.InvalidInput>("minutes") { phone.logContact(case, contact(10, "x", minutes = -5)) }
        expectError<ApiException.InvalidInput>("note") { phone.logContact(case, contact(10, "x".repeat(5000))) }
        expectError<ApiException.InvalidInput>("text") { phone.addGoal(case, LifeArea.WORK, "   ", null) }
        expectError<ApiException.InvalidInput>("since") { phone.addAgreement(case, "ok", "1st of May") }
        expectError<ApiException.InvalidInput>("caseId") { phone.caseDetail("not-a-case") }
        expectError<ApiException.NotFound> { phone.flagContact(case, "0123456789abcdef", true) }
        expectError<ApiException.NotFound> { phone.caseDetail(otherCase) }
        check(phone.pendingCount() == pending) { "refused edits add no change" }
    }

    step("sync_sends_everything_and_pending_goes_to_zero") {
        val report = sync(phone)
        check(report.pending == 0uL && phone.pendingCount() == 0uL) { "$report" }
        check(report.confirmed >= 9u && report.sent > 0u) { "$report" }
    }

    step("another_device_of_the_same_prw_gets_it_and_its_change_reaches_the_observer") {
        Peerlog.open(storeDir("tablet"), key(2)).use { tablet ->
            runBlocking { tablet.enrol(URL, codeFor("ola"), "ola-tablet") }
            syncUntilCases(tablet, 1)
            check(tablet.caseDetail(case).contacts.size == 3) { "the phone's work arrived" }
            val newId = tablet.logContact(case, contact(5, "Short call from the tablet", minutes = 10))
            tablet.editGoalText(case, goal, "My own flat by summer")
            check(sync(tablet).pending == 0uL) { "the tablet's changes are at the relay" }
            contactCount += 1

            val seen = Collector()
            phone.setObserver(seen)
            val report = sync(phone)
            check(case in report.changedCases) { "report $report" }
            check(case in seen.changed) { "observer heard ${seen.changed}" }
            check(seen.states.first() == SyncState.Syncing) { "observer heard ${seen.states}" }
            check(seen.states.last() == SyncState.Synced(0uL)) { "observer heard ${seen.states}" }
            val detail = phone.caseDetail(case)
            check(detail.contacts[0].contactId == newId) { "the tablet's contact is newest" }
            check(detail.goals[0].text == "My own flat by summer") { "the tablet's goal edit" }
            tablet.closeStore()
        }
    }

    step("my_week_counts_this_weeks_contacts") {
        val week = phone.myWeek(0u)
        val inWeek = phone.caseDetail(case).contacts.filter { it.at >= week.startsAt && it.at < week.endsAt }
        check(week.caseload == 1u) { "caseload ${week.caseload}" }
        check(week.totals.contacts.toInt() == inWeek.size) { "${week.totals.contacts} vs ${inWeek.size}" }
        check(week.totals.minutes == inWeek.sumOf { it.minutes.toULong() }) { "minutes add up" }
        check(phone.myWeek(1u).isoWeek != week.isoWeek) { "last week is another week" }
    }

    step("concurrent_coroutines_on_one_handle_are_serialised") {
        val before = phone.caseDetail(case).contacts.size
        runBlocking {
            val edits = (0 until 8).map { n ->
                async(Dispatchers.Default) {
                    repeat(5) { i ->
                        phone.logContact(case, contact(30L + n, "coroutine $n call $i", minutes = 5))
                        phone.pendingCount()
                    }
                }
            }
            val syncing = async(Dispatchers.Default) { phone.syncNow() }
            edits.awaitAll()
            syncing.await()
        }
        contactCount += 40
        check(phone.caseDetail(case).contacts.size == before + 40) { "every concurrent contact was kept" }
        check(sync(phone).pending == 0uL) { "and synced" }
    }

    step("the_wrong_key_does_not_open_the_store_and_the_right_one_still_does") {
        phone.closeStore()
        expectError<ApiException.Internal> { phone.listCases() }
        phone.close()
        expectError<ApiException.NeedsReenrolment> { Peerlog.open(storeDir("phone"), key(7)) }
        Peerlog.open(storeDir("phone"), key(1)).use { again ->
            check(again.caseDetail(case).contacts.size == contactCount) { "nothing was lost" }
            again.closeStore()
        }
    }

    step("a_revoked_device_is_wiped") {
        Peerlog.open(storeDir("spare"), key(3)).use { spare ->
            val info = runBlocking { spare.enrol(URL, codeFor("ola"), "ola-spare") }
            syncUntilCases(spare, 1)
            val seen = Collector()
            spare.setObserver(seen)
            admin("device", "revoke", info.deviceId)
            var wiped = false
            for (attempt in 0 until 40) {
                try {
                    sync(spare)
                } catch (e: ApiException.WipedByOrganisation) {
                    wiped = true
                    break
                }
                Thread.sleep(250)
            }
            check(wiped) { "the revoked device was never told to wipe" }
            check(seen.states.last() == SyncState.Wiped) { "observer heard ${seen.states}" }
            expectError<ApiException.WipedByOrganisation> { spare.listCases() }
            check(!File(storeDir("spare"), "peerlog.sqlite3").exists()) { "the store file is gone" }
        }
        Peerlog.open(storeDir("spare"), key(3)).use { fresh ->
            check(!fresh.isEnrolled()) { "a wiped device starts afresh" }
            fresh.closeStore()
        }
    }

    step("survives_open_close_cycles") {
        for (i in 0 until CYCLES) {
            Peerlog.open(storeDir("phone"), key(1)).use { handle ->
                if (i % 100 == 0) {
                    check(handle.pendingCount() == 0uL) { "pending" }
                    check(handle.listCases().size == 1) { "cases" }
                }
                handle.closeStore()
            }
        }
        Peerlog.open(storeDir("phone"), key(1)).use { handle ->
            check(handle.caseDetail(case).contacts.size == contactCount) { "intact after the cycles" }
            handle.closeStore()
        }
    }

    step("the_logger_heard_the_library_and_no_personal_data") {
        setLogger(null, LogLevel.ERROR)
        val text = logs.lines.joinToString("\n")
        check("sync finished" in text) { "log lines: ${logs.lines.take(5)}" }
        for (secret in listOf(ALIAS, SECRET_NOTE, "My own flat")) {
            check(secret !in text) { "'$secret' appears in the logs" }
        }
    }

    println("$passed passed, $failed failed")
    System.exit(if (failed > 0) 1 else 0)
}
