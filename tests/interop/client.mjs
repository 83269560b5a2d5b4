// A stock automerge-repo 2.5.x client (Node 20, WebSocket adapter, no storage) driven by
// tests/tests/interop.rs against the Peerlog relay. One action per run; prints one JSON line
// {ok, outcome, ...} and exits by itself (every wait has a time limit).
//
//   node client.mjs '{"url": "ws://127.0.0.1:PORT/sync?token=T", "peerId": "device-x",
//                     "storageId": "<relay storage id>", "docId": "<bs58 id>",
//                     "action": "append" | "log-contact" | "await" | "write" | "write-prw" | "find",
//                     "contactId": "...", "note": "..."}'
//
// append: find the case, add contacts[contactId] = {note, minutes}, wait until the relay's heads
//         (from the sync state) include it.   log-contact: the same with a whole contact.   await: find the case and wait until contacts[contactId]
//         arrives.   write: change `title` and give the relay 1.5 s.   find: just find it.
// outcome: "synced" | "seen" | "written" | "found" | "unavailable" | "timeout".
import { Repo, cbor } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

const args = JSON.parse(process.argv[2])
const LIMIT_MS = args.timeoutMs ?? 15000
const out = o => { console.log(JSON.stringify(o)); process.exit(o.ok ? 0 : 1) }
setTimeout(() => out({ ok: false, outcome: "timeout" }), LIMIT_MS).unref()
// The adapter throws when the upgrade is refused (401): the relay gave this client nothing.
process.on("uncaughtException", e => {
  const refused = /Unexpected server response: 40[13]/.test(String(e?.message))
  out({ ok: refused, outcome: refused ? "refused" : "crash", error: String(e?.message) })
})

const adapter = new WebSocketClientAdapter(args.url, 1000)
// The adapter only logs a relay's `error` message; watch for it here.
const receive = adapter.receiveMessage.bind(adapter)
adapter.receiveMessage = bytes => {
  try {
    const m = cbor.decode(new Uint8Array(bytes))
    if (m?.type === "error" && args.action === "write-prw") {
      out({ ok: true, outcome: "refused-changes", error: String(m.message) })
    }
  } catch {}
  receive(bytes)
}
const repo = new Repo({ network: [adapter], peerId: args.peerId })
const sameHeads = (a, b) => !!a && !!b && a.length === b.length && [...a].sort().join() === [...b].sort().join()
const sleep = ms => new Promise(r => setTimeout(r, ms))

let handle
try {
  handle = await repo.find(`automerge:${args.docId}`)
} catch (e) {
  out({ ok: true, outcome: "unavailable" })
}

switch (args.action) {
  case "find":
    out({ ok: true, outcome: "found", keys: Object.keys(handle.doc()) })
    break
  case "append":
  case "log-contact": {
    handle.change(d => {
      if (!d.contacts) d.contacts = {}
      d.contacts[args.contactId] = args.action === "append"
        ? { note: args.note, minutes: 30, mode: "meeting" }
        // Every field of the case schema, written the JavaScript way (strings become Text).
        : { at: Date.now() - 3600000, tzOffsetMin: 60, minutes: 30, mode: "meeting",
            initiatedBy: "prw", topics: ["housing"], supportType: [], note: args.note,
            flagForGuidance: false, loggedBy: args.peerId, loggedAt: Date.now(), deleted: false }
    })
    const mine = handle.heads()
    for (;;) {
      const info = handle.getSyncInfo(args.storageId)
      if (info && sameHeads(info.lastHeads, mine)) out({ ok: true, outcome: "synced", heads: mine })
      await sleep(50)
    }
  }
  case "await":
    for (;;) {
      const c = handle.doc()?.contacts?.[args.contactId]
      if (c) out({ ok: true, outcome: "seen", note: String(c.note) })
      await sleep(50)
    }
  case "write-prw":
    handle.change(d => { d.prw = "someone-else" })
    await sleep(LIMIT_MS)
    break
  case "write":
    handle.change(d => { d.title = "written by " + args.peerId })
    await sleep(1500)
    out({ ok: true, outcome: "written" })
    break
  default:
    out({ ok: false, outcome: "bad-action" })
}
