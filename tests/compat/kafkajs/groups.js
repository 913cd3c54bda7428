// One kafkajs consumer-group member for the groups_* tests (the event protocol is described in
// tests/compat/groups_common.py; tests/compat/groups_members_test.py --client=kafkajs drives it).
//
//   node groups.js BOOTSTRAP GROUP TOPIC NAME EVENTS SESSION_MS RATE INSTANCE_ID
//
// Needs `kafkajs` resolvable (NODE_PATH from kafkajs/run.py's install). Commits synchronously
// (consumer.commitOffsets) after processing each chunk of 10 records; ownership: GROUP_JOIN carries the
// new assignment, REBALANCING means the current one is given up (kafkajs rejoins eagerly).
// SIGTERM: consumer.disconnect() (LeaveGroup). Ends itself after WORKER_MAX_MS in any case.
'use strict'

const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')

const WORKER_MAX_MS = 220000
const CHUNK = 10
const MAX_PER_BATCH = 50
const STEP_TIMEOUT_MS = 20000

const [bootstrap, groupId, topic, name, eventsPath, sessionArg, rateArg] = process.argv.slice(2)
if (!rateArg) {
  console.error('usage: node groups.js BOOTSTRAP GROUP TOPIC NAME EVENTS SESSION_MS RATE INSTANCE_ID')
  process.exit(2)
}
const sessionTimeout = Number(sessionArg)
const rate = Number(rateArg)
const fd = fs.openSync(eventsPath, 'a')
function emit(ev, fields = {}) {
  fs.writeSync(fd, JSON.stringify(Object.assign({ ev, t: Date.now() / 1000 }, fields)) + '\n')
}
setTimeout(() => process.exit(3), WORKER_MAX_MS).unref()

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
function bounded(promise, label, ms = STEP_TIMEOUT_MS) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${label}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

const kafka = new Kafka({
  clientId: name,
  brokers: [bootstrap],
  logLevel: process.env.SLUICE_KAFKAJS_DEBUG === '1' ? logLevel.DEBUG : logLevel.WARN,
  connectionTimeout: 5000,
  requestTimeout: 15000,
  retry: { retries: 8 },
})
const consumer = kafka.consumer({
  groupId,
  sessionTimeout,
  rebalanceTimeout: 20000,
  heartbeatInterval: 1000,
  maxWaitTimeInMs: 500,
})

let owned = []
const { GROUP_JOIN, REBALANCING, CRASH } = consumer.events
consumer.on(GROUP_JOIN, e => {
  const a = e.payload.memberAssignment[topic] || []
  owned = a.slice().sort((x, y) => x - y)
  emit('assign', { parts: owned, member_id: e.payload.memberId, leader: e.payload.isLeader })
})
consumer.on(REBALANCING, () => {
  emit('revoke', { parts: owned })
  owned = []
})
consumer.on(CRASH, e => emit('error', { err: String(e.payload.error) }))

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  try {
    await bounded(consumer.disconnect(), 'disconnect')
    emit('closed')
    process.exit(0)
  } catch (e) {
    emit('error', { err: String(e) })
    process.exit(1)
  }
}
process.on('SIGTERM', stop)

async function main() {
  await bounded(consumer.connect(), 'connect')
  await bounded(consumer.subscribe({ topics: [topic], fromBeginning: true }), 'subscribe')
  emit('start')
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const p = batch.partition
      const msgs = batch.messages.slice(0, MAX_PER_BATCH)
      for (let i = 0; i < msgs.length; i += CHUNK) {
        if (!isRunning() || isStale() || stopping) break
        const chunk = msgs.slice(i, i + CHUNK)
        emit('proc', { p, recs: chunk.map(m => [Number(m.offset), Number(m.value.toString())]) })
        if (rate > 0) await sleep((chunk.length * 1000) / rate)
        for (const m of chunk) resolveOffset(m.offset)
        // commit what was processed before anything else (heartbeat() throws when a rebalance
        // started, and the partitions may then go to another member)
        const next = Number(chunk[chunk.length - 1].offset) + 1
        try {
          await bounded(consumer.commitOffsets([{ topic, partition: p, offset: String(next) }]),
            'commitOffsets')
          emit('commit', { offs: { [p]: next } })
        } catch (e) {
          emit('commit_error', { err: String(e) })
          throw e
        }
        await heartbeat()
      }
    },
  })
}

main().catch(e => {
  emit('error', { err: String(e && e.stack) })
  process.exit(1)
})
