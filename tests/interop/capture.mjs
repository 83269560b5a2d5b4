// Captures the raw frames a stock automerge-repo 2.5.x WebSocket client sends, for the Rust
// codec's fixtures (core/src/protocol/fixtures/js-client-frames.hex).
//
// A throw-away WebSocket server on 127.0.0.1 answers `join` with `peer` and `request` with
// `doc-unavailable`; the real client creates a small document (pushed with `sync`), asks for an
// unknown one (`request`) and broadcasts an ephemeral message. Prints one line per frame:
// `<type> <hex>`. Exits by itself within 10 s.
import { WebSocketServer } from "ws"
import { Repo, cbor, generateAutomergeUrl } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 })
await new Promise(r => wss.on("listening", r))
const port = wss.address().port
const frames = []
const want = new Set(["join", "sync", "request", "ephemeral"])

const done = new Promise(resolve => {
  wss.on("connection", socket => {
    socket.on("message", bytes => {
      const buf = Buffer.from(bytes)
      const msg = cbor.decode(buf)
      frames.push(`${msg.type} ${buf.toString("hex")}`)
      want.delete(msg.type)
      if (msg.type === "join") {
        socket.send(cbor.encode({
          type: "peer", senderId: "capture-server", targetId: msg.senderId,
          selectedProtocolVersion: "1", peerMetadata: { storageId: "capture-storage", isEphemeral: false },
        }))
      } else if (msg.type === "request") {
        socket.send(cbor.encode({
          type: "doc-unavailable", senderId: "capture-server", targetId: msg.senderId, documentId: msg.documentId,
        }))
      }
      if (want.size === 0) resolve()
    })
  })
})

const repo = new Repo({
  network: [new WebSocketClientAdapter(`ws://127.0.0.1:${port}`)],
  peerId: "capture-peer",
  sharePolicy: async () => true,
})
const handle = repo.create({ note: "fixture" })
handle.change(d => { d.count = 1 })
await new Promise(r => setTimeout(r, 300))
handle.broadcast({ presence: "here" })
repo.find(generateAutomergeUrl()).catch(() => {})

const timeout = setTimeout(() => { console.error("capture: timed out, missing", [...want]); process.exit(1) }, 10000)
await done
clearTimeout(timeout)
// Keep one frame per type, the first of each, to keep the fixture small.
const seen = new Set()
for (const line of frames) {
  const ty = line.split(" ")[0]
  if (!seen.has(ty)) { seen.add(ty); console.log(line) }
}
process.exit(0)
