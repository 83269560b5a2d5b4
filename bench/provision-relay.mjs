#!/usr/bin/env node
// Provision command for the side-by-side benchmark in ../shared/bench/automerge-repo (its README,
// "Provision mode"): sets up an organisation on a running Peerlog relay with the admin CLI, opens
// N x C cases, enrols one device per PRW (Ed25519 key made here, challenge signed) and prints the
// manifest load.mjs expects: {"devices":[{peerId, wsUrl, docs}], "coordinator":{peerId, wsUrl}}.
//
// usage: node provision-relay.mjs URL DATA_DIR N C      (PEERLOG_BIN: the relay binary to use)
// Progress goes to stderr, the manifest to stdout.
import { execFileSync } from "node:child_process"
import { generateKeyPairSync, sign } from "node:crypto"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const [url, dataDir, nArg, cArg] = process.argv.slice(2)
if (!url || !dataDir || !nArg || !cArg) {
  console.error("usage: node provision-relay.mjs URL DATA_DIR N C")
  process.exit(2)
}
const N = Number(nArg)
const C = Number(cArg)
const here = dirname(fileURLToPath(import.meta.url))
const BIN = process.env.PEERLOG_BIN || resolve(here, "../target/release/peerlog")
const WS = url.replace(/^http/, "ws")

const admin = (...args) =>
  JSON.parse(execFileSync(BIN, ["admin", ...args, "--data", dataDir, "--json"], { encoding: "utf8" }))

async function post(path, body) {
  const res = await fetch(url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  })
  const json = await res.json()
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${json.code}`)
  return json
}

// Enrols a new device for `user` and returns its peer id and a sync URL with a fresh token.
async function device(user) {
  const { code } = admin("enrol-code", "--user", user)
  const { publicKey, privateKey } = generateKeyPairSync("ed25519")
  const raw = publicKey.export({ format: "der", type: "spki" }).subarray(-32)
  const enrolled = await post("/api/v1/enrol", { code, publicKey: raw.toString("base64") })
  const { challenge } = await post("/api/v1/token/challenge", { deviceId: enrolled.deviceId })
  const message = Buffer.from(`peerlog-token-v1\n${enrolled.deviceId}\n${challenge}`, "utf8")
  const signature = sign(null, message, privateKey).toString("base64")
  const { token } = await post("/api/v1/token", { deviceId: enrolled.deviceId, challenge, signature })
  return { peerId: enrolled.peerId, wsUrl: `${WS}/sync?token=${encodeURIComponent(token)}` }
}

admin("team", "add", "bench")
admin("user", "add", "coord", "--role", "coordinator", "--team", "bench")
const devices = []
for (let i = 0; i < N; i++) {
  const user = `prw${i}`
  admin("user", "add", user, "--role", "prw", "--team", "bench")
  const docs = []
  for (let j = 0; j < C; j++) {
    docs.push(admin("case", "open", "--prw", user, "--alias", `case-${i}-${j}`).caseId)
  }
  devices.push({ ...(await device(user)), docs })
  if ((i + 1) % 50 === 0) console.error(`provisioned ${i + 1}/${N} devices`)
}
const coordinator = await device("coord")
console.log(JSON.stringify({ devices, coordinator }))
