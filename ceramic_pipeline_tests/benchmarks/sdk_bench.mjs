// SDK side of bench_events.py: times the official @ceramic-sdk 0.12.0 on the inputs read from stdin
// and prints one JSON object. Uses the packages installed in ../conformance/node_modules
// (`npm ci` there). Run pinned to a core by the caller (taskset).
//
// stdin: {seed_hex, model, fields, uniques_hex: [...], contents: [...], repeat, warmup}
// stdout: {list_init: {events, seconds}, set_init_data: {events, seconds}, digests: {...}}
// `seconds` is the best of `repeat` timed passes; digests are sha256 over every POST body
// (joined with "\n") so the caller can check both sides produced the same bytes.

import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const require = createRequire(new URL('../conformance/package.json', import.meta.url))
const load = (name) => import(pathToFileURL(require.resolve(name)).href)

const { carToString, createSignedInitEvent, eventToCAR, signedEventToCAR } = await load('@ceramic-sdk/events')
const { StreamID } = await load('@ceramic-sdk/identifiers')
const { ModelInstanceClient, createInitHeader } = await load('@ceramic-sdk/model-instance-client')
const { getAuthenticatedDID } = await load('@didtools/key-did')

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const did = await getAuthenticatedDID(new Uint8Array(Buffer.from(input.seed_hex, 'hex')))
const model = StreamID.fromString(input.model)
const uniques = input.uniques_hex.map((h) => new Uint8Array(Buffer.from(h, 'hex')))
const modelDefinition = { accountRelation: { type: 'set', fields: input.fields } }

// (a) list MID: signed init event -> CAR -> POST body (what ModelInstanceClient.createInstance does).
async function listInit(n, bodies) {
  for (let i = 0; i < n; i++) {
    const header = createInitHeader({ model, controller: did, unique: uniques[i] })
    const event = await createSignedInitEvent(did, input.contents[i], header)
    bodies.push(carToString(signedEventToCAR(event)))
  }
  return n
}

// (b) set MID: deterministic init + first data event, through the SDK client (createInstance + postData).
async function setInitData(n, bodies) {
  const client = new ModelInstanceClient({
    did,
    ceramic: {
      async postEventType(codec, event) {
        const car = eventToCAR(codec, event)
        bodies.push(carToString(car))
        return car.roots[0]
      },
    },
  })
  for (let i = 0; i < n; i++) {
    const content = input.contents[i]
    const initCommit = await client.createInstance({ model, modelDefinition, content })
    await client.postData({ currentID: initCommit, currentContent: undefined, newContent: content })
  }
  return 2 * n
}

async function timed(fn) {
  await fn(Math.min(input.warmup, input.contents.length), []) // let the JIT settle
  let best = Number.POSITIVE_INFINITY
  let events = 0
  let digest = ''
  for (let r = 0; r < input.repeat; r++) {
    const bodies = []
    const start = process.hrtime.bigint()
    events = await fn(input.contents.length, bodies)
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9)
    digest = createHash('sha256').update(bodies.join('\n')).digest('hex')
  }
  return { events, seconds: best, digest }
}

const list = await timed(listInit)
const set = await timed(setInitData)
process.stdout.write(
  `${JSON.stringify({
    node: process.version,
    list_init: { events: list.events, seconds: list.seconds },
    set_init_data: { events: set.events, seconds: set.seconds },
    digests: { list_init: list.digest, set_init_data: set.digest },
  })}\n`,
)
