// Long-running conformance harness around the OFFICIAL @ceramic-sdk 0.12.0 packages.
//
// Protocol: one JSON request per stdin line, one JSON reply per stdout line, same order.
//   {"id": n, "op": "build", ...}   the SDK builds events from the given inputs
//   {"id": n, "op": "verify", ...}  the SDK decodes and verifies a CAR someone else built
//   {"id": n, "op": "patch", "old", "new"}  the SDK's JSON patch between two documents
//   {"id": n, "op": "schema", "schema", "contents"}  ajv 8 strict compile of a model schema, then validate each content
// Reply: {"id": n, "ok": true, "result": {...}} or {"id": n, "ok": false, "error": "..."}.
// Binary values travel as lowercase hex; JSON content is passed through unchanged (the
// caller keeps to safe integers and no floats, which JSON numbers carry exactly).
//
// Everything is offline: the CeramicClient the SDK clients talk to is a capturing stand-in
// whose postEventType returns car.roots[0], exactly like @ceramic-sdk/http-client.

import { createHash } from 'node:crypto'
import { createInterface } from 'node:readline'

import {
  InitEventPayload,
  SignedEvent,
  carFromString,
  carToString,
  createSignedInitEvent,
  eventFromCAR,
  eventToCAR,
  signedEventToCAR,
} from '@ceramic-sdk/events'
import { CommitID, StreamID } from '@ceramic-sdk/identifiers'
import { ModelClient } from '@ceramic-sdk/model-client'
import { ModelInstanceClient, createInitHeader, getPatchOperations } from '@ceramic-sdk/model-instance-client'
import {
  DataInitEventPayload,
  DeterministicInitEventPayload,
  DocumentDataEventPayload,
  getStreamID,
} from '@ceramic-sdk/model-instance-protocol'
import { MODEL, ModelInitEventPayload, getModelStreamID } from '@ceramic-sdk/model-protocol'
import { createDID, getAuthenticatedDID } from '@didtools/key-did'
import addFormats from 'ajv-formats'
import Ajv2020 from 'ajv/dist/2020.js'
import * as dagCbor from '@ipld/dag-cbor'
import * as dagJson from '@ipld/dag-json'
import { decode as codecoDecode } from 'codeco'
import * as dagJose from 'dag-jose'

const hex = (u8) => Buffer.from(u8).toString('hex')
const fromHex = (s) => new Uint8Array(Buffer.from(s, 'hex'))
const sameBytes = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0

// did:key signers are deterministic in the seed; authenticate each seed once.
const dids = new Map()
async function didFor(seedHex) {
  if (!dids.has(seedHex)) dids.set(seedHex, await getAuthenticatedDID(fromHex(seedHex)))
  return dids.get(seedHex)
}
const verifier = createDID() // resolver only, no key: verifies with the public did:key document

/** A CeramicClient stand-in that records what the SDK clients would POST. */
function capture() {
  const posted = []
  return {
    posted,
    client: {
      async postEventType(codec, event) {
        const car = eventToCAR(codec, event)
        posted.push(car)
        return car.roots[0]
      },
    },
  }
}

function describe(car) {
  return { car_hex: hex(car.bytes), cid: car.roots[0].toString(), post_data: carToString(car) }
}

// ---------------------------------------------------------------- build

async function buildModel(did, definition) {
  const cap = capture()
  const streamID = await new ModelClient({ ceramic: cap.client, did }).createDefinition(definition)
  return { ...describe(cap.posted[0]), stream_id: streamID.toString() }
}

async function buildList(did, list) {
  // createInstance({list}) draws a random 12-byte unique; createInitHeader + createSignedInitEvent
  // is the same code path with the unique supplied by the caller.
  const header = createInitHeader({
    model: StreamID.fromString(list.model),
    controller: did,
    unique: fromHex(list.unique_hex),
    ...(list.should_index == null ? {} : { shouldIndex: list.should_index }),
  })
  const car = signedEventToCAR(await createSignedInitEvent(did, list.content, header))
  return { ...describe(car), stream_id: getStreamID(car.roots[0]).toString() }
}

async function buildSet(did, set) {
  const cap = capture()
  const client = new ModelInstanceClient({ ceramic: cap.client, did })
  const model = StreamID.fromString(set.model)
  const modelDefinition = { accountRelation: { type: 'set', fields: set.fields } }
  const initCommit = await client.createInstance({ model, modelDefinition, content: set.content })
  const init = cap.posted[0]
  const streamID = initCommit.baseID
  const indexing = set.should_index == null ? {} : { shouldIndex: set.should_index }
  // first data event: {} -> content, prev = id = init CID
  const commit1 = await client.postData({ currentID: initCommit, currentContent: undefined, newContent: set.content, ...indexing })
  // follow-up: content -> next, prev = first data event
  await client.postData({ currentID: commit1, currentContent: set.content, newContent: set.next, ...indexing })
  const [, data1, data2] = cap.posted
  return {
    stream_id: streamID.toString(),
    unique_hex: hex(dagCbor.decode(init.blocks.get(init.roots[0]).payload).header.unique),
    init: describe(init),
    data1: { ...describe(data1), patch: getPatchOperations(undefined, set.content) },
    data2: { ...describe(data2), patch: getPatchOperations(set.content, set.next) },
  }
}

async function build(req) {
  const did = await didFor(req.seed_hex)
  const out = { did: did.id }
  if (req.model_definition !== undefined) out.model = await buildModel(did, req.model_definition)
  if (req.list !== undefined) out.list = await buildList(did, req.list)
  if (req.set !== undefined) out.set = await buildSet(did, req.set)
  return out
}

// ---------------------------------------------------------------- verify

function payloadCodec(payload) {
  if (payload.header !== undefined && payload.id === undefined) {
    return sameBytes(payload.header.model, MODEL.bytes) ? ModelInitEventPayload : DataInitEventPayload
  }
  return DocumentDataEventPayload
}

/** The block's bytes must be exactly what the SDK's encoder writes for the decoded value (node rule). */
function checkRoundTrip(codec, bytes, what) {
  if (!sameBytes(codec.encode(codec.decode(bytes)), bytes)) throw new Error(`${what} block does not round-trip`)
}

async function verify(req) {
  const bytes = fromHex(req.car_hex)
  const car = carFromString(req.post_data) // what POST /ceramic/events would receive
  if (!sameBytes(car.bytes, bytes)) throw new Error('post body does not decode to the CAR bytes')
  if (car.roots.length !== 1) throw new Error(`expected one root, got ${car.roots.length}`)
  for (const block of car.blocks) {
    const digest = createHash('sha256').update(block.payload).digest()
    if (block.cid.multihash.code !== 0x12 || !sameBytes(block.cid.multihash.digest, digest)) {
      throw new Error(`block ${block.cid} does not hash to its CID`)
    }
  }
  const root = car.roots[0]
  const result = { event_cid: root.toString(), blocks: [...car.blocks].map((b) => b.cid.toString()) }
  if (root.code === dagJose.code) {
    checkRoundTrip(dagJose, car.blocks.get(root).payload, 'envelope')
    const event = eventFromCAR(SignedEvent, car)
    checkRoundTrip(dagCbor, event.linkedBlock, 'payload')
    const payload = dagCbor.decode(event.linkedBlock)
    const codec = payloadCodec(payload)
    codecoDecode(codec, payload) // throws with the codec's reason
    const isInit = codec !== DocumentDataEventPayload
    const issuer = isInit ? payload.header.controllers[0] : req.controller
    const { kid } = await verifier.verifyJWS(event.jws, issuer ? { issuer } : {})
    Object.assign(result, {
      signed: true,
      codec: codec.name,
      kid,
      payload_cid: event.jws.link.toString(),
      payload_dag_json: new TextDecoder().decode(dagJson.encode(payload)),
    })
    if (isInit) result.stream_id = (codec === ModelInitEventPayload ? getModelStreamID(root) : getStreamID(root)).toString()
  } else {
    const payload = eventFromCAR(DeterministicInitEventPayload, car)
    const raw = car.blocks.get(root).payload
    checkRoundTrip(dagCbor, raw, 'init')
    Object.assign(result, {
      signed: false,
      codec: DeterministicInitEventPayload.name,
      payload_dag_json: new TextDecoder().decode(dagJson.encode(dagCbor.decode(raw))),
      stream_id: getStreamID(root).toString(),
      controller: payload.header.controllers[0],
    })
  }
  if (req.commit_of !== undefined) result.commit_id = CommitID.fromStream(StreamID.fromString(req.commit_of), root).toString()
  return result
}

// ---------------------------------------------------------------- loop

// the SDK's patch generator alone: getPatchOperations(old, new) (fast-json-patch compare)
const patch = async (req) => ({ patch: getPatchOperations(req.old ?? undefined, req.new ?? undefined) })

// ---------------------------------------------------------------- schema

// A model schema compiled as @ceramic-sdk/model-protocol 0.12.0 (src/codecs.ts) and js-ceramic set ajv
// up: draft 2020-12, strict mode, ajv-formats. compile() throws on any strict-mode violation
// (e.g. strictRequired). A fresh instance per request keeps schemas from piling up in its cache.
async function schema(req) {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowMatchingProperties: false, ownProperties: false, unevaluated: false })
  addFormats(ajv)
  const validate = ajv.compile(req.schema)
  return { valid: (req.contents ?? []).map((content) => validate(content)) }
}

const ops = { build, verify, patch, schema, ping: async () => ({ node: process.version }) }

const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })
for await (const line of lines) {
  if (line.trim() === '') continue
  let reply
  let id = null
  try {
    const req = JSON.parse(line)
    id = req.id ?? null
    const op = ops[req.op]
    if (op === undefined) throw new Error(`unknown op ${JSON.stringify(req.op)}`)
    reply = { id, ok: true, result: await op(req) }
  } catch (e) {
    reply = { id, ok: false, error: String(e?.message ?? e) }
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`)
}
