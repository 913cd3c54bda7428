// Sluice compatibility test with kafkajs (the version pinned in package-lock.json).
//
//   node compat.js HOST:PORT
//
// Needs `kafkajs` resolvable (run.py sets NODE_PATH to the cached install). Prints one
// "ok - ..." / "not ok - ..." line per check and a closing "N passed, N failed" line; exits 0
// only if every check passed. Every await on the network is bounded by a timeout, and a global
// watchdog ends the process if anything is still pending after OVERALL_TIMEOUT_MS.
//
// kafkajs's Consumer only works inside a consumer group, which the broker does not have yet, so
// the read-back uses kafkajs's own lower layer: a Cluster (the object Admin/Producer build on),
// its Broker for the partition leader, and Broker.fetch, which sends Fetch (v11 here) and decodes
// the record batches with kafkajs's decoder. The group-based read comes with the groups issue.
//
// Every partition is a Raft group (docs/replication.md): its log starts with two control batches
// (the configuration and the first leader's barrier), so the first record is not at offset 0.
// Expected offsets come from the producers' acknowledged base offsets and the log ends from
// ListOffsets; the raw fetch sees Raft's entries as empty batches (no records), so it checks that
// the offsets no record took are exactly those entries.
'use strict'

const { Kafka, logLevel, CompressionTypes } = require('kafkajs')
const Cluster = require('kafkajs/src/cluster')
const { createLogger, LEVELS } = require('kafkajs/src/loggers')
const LoggerConsole = require('kafkajs/src/loggers/console')
const defaultSocketFactory = require('kafkajs/src/network/socketFactory')

const STEP_TIMEOUT_MS = 30000
const OVERALL_TIMEOUT_MS = 120000
const PARTITIONS = 3
const PER_PARTITION = 400 // messages per partition and per producer run

const bootstrap = process.argv[2]
if (!bootstrap) {
  console.error('usage: node compat.js HOST:PORT')
  process.exit(2)
}
const debug = process.env.SLUICE_KAFKAJS_DEBUG === '1'
const level = debug ? logLevel.DEBUG : logLevel.WARN

const watchdog = setTimeout(() => {
  console.log(`not ok - overall timeout: still running after ${OVERALL_TIMEOUT_MS} ms`)
  console.log(`${passed} passed, ${failed + 1} failed`)
  process.exit(1)
}, OVERALL_TIMEOUT_MS)

let passed = 0
let failed = 0
function check(name, ok, detail = '') {
  if (ok) {
    passed++
    console.log(`ok - ${name}`)
  } else {
    failed++
    console.log(`not ok - ${name}${detail ? ' ' + detail : ''}`)
  }
  return ok
}

// Resolves or rejects like `promise`, or rejects after `ms` with a message naming the step.
function bounded(promise, label, ms = STEP_TIMEOUT_MS) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${label}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

// Runs one named step; a thrown error becomes a failed check and the step's result is null.
async function step(name, fn) {
  try {
    return await bounded(fn(), name)
  } catch (e) {
    check(name, false, `(${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e})`)
    return null
  }
}

const clientOpts = {
  clientId: 'sluice-compat-kafkajs',
  brokers: [bootstrap],
  connectionTimeout: 3000,
  requestTimeout: 10000,
  retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2000 },
}
const kafka = new Kafka({ ...clientOpts, logLevel: level })

const keyOf = (run, p, i) => `k-${run}-${p}-${i}`
const valueOf = (run, p, i) => `value ${run} partition ${p} #${i} ` + 'x'.repeat(i % 50)

// `tsBase`: when set, record i gets the CreateTime tsBase + i; otherwise kafkajs stamps Date.now().
async function produceRun(producer, topic, run, compression, tsBase = null) {
  // One send per partition batch, so the records of a partition keep their order.
  const results = []
  for (let chunk = 0; chunk < PER_PARTITION; chunk += 100) {
    const topicMessages = []
    for (let p = 0; p < PARTITIONS; p++) {
      const messages = []
      for (let i = chunk; i < chunk + 100; i++) {
        messages.push({
          key: keyOf(run, p, i),
          value: valueOf(run, p, i),
          partition: p,
          headers: { run, seq: String(i) },
          ...(tsBase === null ? {} : { timestamp: String(tsBase + i) }),
        })
      }
      topicMessages.push({ topic, messages })
    }
    results.push(
      ...(await bounded(
        producer.sendBatch({ topicMessages, acks: -1, compression }),
        `sendBatch ${run} ${chunk}`
      ))
    )
  }
  return results
}

// Reads [from, to) of one partition with Broker.fetch, following the offsets like a consumer does;
// the offsets no record took (Raft's entries, served as empty batches) are listed in out.skipped.
async function readPartition(cluster, topic, partition, from, to) {
  const metadata = cluster.findTopicPartitionMetadata(topic)
  const leader = metadata.find(m => m.partitionId === partition).leader
  const broker = await cluster.findBroker({ nodeId: leader })
  const out = []
  out.skipped = []
  let offset = from
  const deadline = Date.now() + STEP_TIMEOUT_MS
  while (offset < to) {
    if (Date.now() > deadline) throw new Error(`read of partition ${partition} stuck at ${offset}`)
    const response = await bounded(
      broker.fetch({
        maxWaitTime: 500,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 1,
        topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: 8 << 10 }] }],
      }),
      `fetch ${topic}/${partition}@${offset}`,
      10000
    )
    const part = response.responses[0].partitions[0]
    if (part.errorCode !== 0) throw new Error(`fetch error code ${part.errorCode}`)
    if (Number(part.lastStableOffset) !== Number(part.highWatermark)) {
      throw new Error(`last_stable_offset ${part.lastStableOffset} != high watermark ${part.highWatermark}`)
    }
    if (part.preferredReadReplica !== -1) {
      throw new Error(`preferred_read_replica ${part.preferredReadReplica}`)
    }
    let advanced = false
    for (const m of part.messages) {
      const o = Number(m.offset)
      if (o < offset) continue // the whole batch comes back; skip what was already read
      // Offsets no record took: Raft's entries, which Fetch serves as empty batches.
      for (; offset < o; offset++) out.skipped.push(offset)
      out.push(m)
      offset++
      advanced = true
    }
    if (!advanced && part.messages.length === 0 && Number(part.highWatermark) > offset) {
      // only empty batches in this answer: step over them like a consumer does
      out.skipped.push(offset)
      offset++
    }
  }
  return out
}

async function main() {
  const topic = `kafkajs-compat-${process.pid}-${Date.now()}`
  const admin = kafka.admin()
  const cluster = new Cluster({
    ...clientOpts,
    logger: createLogger({ level: debug ? LEVELS.DEBUG : LEVELS.WARN, logCreator: LoggerConsole }),
    socketFactory: defaultSocketFactory(),
    enforceRequestTimeout: true,
    metadataMaxAge: 300000,
    allowAutoTopicCreation: false,
    isolationLevel: 1,
  })
  const producers = []
  try {
    // ---- admin ----
    await step('admin connect', () => admin.connect())
    const created = await step('admin createTopics', () =>
      admin.createTopics({
        topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
        waitForLeaders: true,
        timeout: 10000,
      })
    )
    check('admin createTopics returns true for a new topic', created === true, `(got ${created})`)
    const again = await step('admin createTopics again', () =>
      admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], timeout: 10000 })
    )
    check('admin createTopics returns false for an existing topic', again === false, `(got ${again})`)

    const topics = await step('admin listTopics', () => admin.listTopics())
    check('listTopics contains the new topic', Array.isArray(topics) && topics.includes(topic))

    const md = await step('admin fetchTopicMetadata', () => admin.fetchTopicMetadata({ topics: [topic] }))
    if (md) {
      const t = md.topics.find(x => x.name === topic)
      check('fetchTopicMetadata: topic present', !!t)
      if (t) {
        const ids = t.partitions.map(p => p.partitionId).sort()
        check(
          `fetchTopicMetadata: ${PARTITIONS} partitions with a leader and no error`,
          t.partitions.length === PARTITIONS &&
            ids.every((id, i) => id === i) &&
            t.partitions.every(p => p.partitionErrorCode === 0 && p.leader >= 0 && p.replicas.includes(p.leader)),
          JSON.stringify(t.partitions)
        )
      }
    }
    const desc = await step('admin describeCluster', () => admin.describeCluster())
    if (desc) {
      check(
        'describeCluster: controller is one of the brokers',
        desc.brokers.some(b => b.nodeId === desc.controller),
        JSON.stringify(desc)
      )
    }

    // ---- producers ----
    // The plain run carries explicit timestamps in the past, 1 ms apart; the idempotent run is
    // stamped by kafkajs after tsMiddle. Each run starts at the log end before it.
    const endOf = offsets => {
      const e = {}
      for (const o of offsets || []) e[o.partition] = Number(o.high)
      return e
    }
    const start = endOf(await step('admin fetchTopicOffsets before producing', () => admin.fetchTopicOffsets(topic)))
    const basesOf = (results, p) => (results || []).filter(r => r.partition === p).map(r => Number(r.baseOffset))
    const runOf = b => JSON.stringify([b, b + 100, b + 200, b + 300])
    const tsPlain = Date.now() - 60000
    const plain = kafka.producer({ allowAutoTopicCreation: false })
    producers.push(plain)
    await step('producer (acks -1) connect', () => plain.connect())
    const r1 = await step('producer acks -1: 1200 records, no compression', () =>
      produceRun(plain, topic, 'plain', CompressionTypes.None, tsPlain)
    )
    if (r1) {
      check(
        'producer acks -1: every batch acknowledged without error',
        r1.length === 4 * PARTITIONS && r1.every(r => r.errorCode === 0),
        JSON.stringify(r1.slice(0, 3))
      )
      const bases = basesOf(r1, 0)
      check(
        `producer acks -1: base offsets ${runOf(start[0])} (from the log end before the run, 100 apart)`,
        JSON.stringify(bases) === runOf(start[0]),
        JSON.stringify(bases)
      )
    }
    const tsMiddle = Date.now()
    const middle = endOf(await step('admin fetchTopicOffsets between the runs', () => admin.fetchTopicOffsets(topic)))
    check(
      'the plain run filled each partition from its start to the log end (400 records)',
      [...Array(PARTITIONS).keys()].every(p => middle[p] === start[p] + PER_PARTITION && basesOf(r1, p)[0] === start[p]),
      JSON.stringify({ start, middle })
    )

    const idem = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false })
    producers.push(idem)
    await step('idempotent producer connect', () => idem.connect())
    const r2 = await step('idempotent producer: 1200 records, gzip (sends InitProducerId to the controller)', () =>
      produceRun(idem, topic, 'idem', CompressionTypes.GZIP)
    )
    if (r2) {
      check(
        'idempotent producer: every batch acknowledged without error',
        r2.length === 4 * PARTITIONS && r2.every(r => r.errorCode === 0),
        JSON.stringify(r2.slice(0, 3))
      )
      const bases = basesOf(r2, 1)
      check(
        `idempotent producer: base offsets ${runOf(middle[1])} (from the log end before the run, 100 apart)`,
        JSON.stringify(bases) === runOf(middle[1]),
        JSON.stringify(bases)
      )
    }
    const total = 2 * PER_PARTITION
    // Where each partition's records are, from the acknowledgements: the plain run's first record,
    // the idempotent run's first, and the end right after the last.
    const first = {}
    const second = {}
    const end = {}
    for (let p = 0; p < PARTITIONS; p++) {
      first[p] = Math.min(...basesOf(r1, p))
      second[p] = Math.min(...basesOf(r2, p))
      end[p] = Math.max(...basesOf(r2, p)) + 100
    }

    // ---- offsets ----
    const offs = await step('admin fetchTopicOffsets', () => admin.fetchTopicOffsets(topic))
    if (offs) {
      check(
        `fetchTopicOffsets: low 0, high right after the last acknowledged record (${JSON.stringify(end)}) in every partition`,
        offs.length === PARTITIONS &&
          offs.every(o => o.low === '0' && o.high === String(end[o.partition]) && o.offset === String(end[o.partition])),
        JSON.stringify(offs)
      )
    }
    const byTs0 = await step('admin fetchTopicOffsetsByTimestamp (before the first record)', () =>
      admin.fetchTopicOffsetsByTimestamp(topic, tsPlain - 1000)
    )
    if (byTs0) {
      check(
        `offsets by timestamp before everything are the first record's (${JSON.stringify(first)})`,
        byTs0.length === PARTITIONS && byTs0.every(o => o.offset === String(first[o.partition])),
        JSON.stringify(byTs0)
      )
    }
    const byTsIn = await step('admin fetchTopicOffsetsByTimestamp (inside an uncompressed batch)', () =>
      admin.fetchTopicOffsetsByTimestamp(topic, tsPlain + 250)
    )
    if (byTsIn) {
      check(
        'offsets by timestamp inside an uncompressed batch are the exact record (the 251st)',
        byTsIn.length === PARTITIONS && byTsIn.every(o => o.offset === String(first[o.partition] + 250)),
        JSON.stringify(byTsIn)
      )
    }
    const byTsMid = await step('admin fetchTopicOffsetsByTimestamp (between the two runs)', () =>
      admin.fetchTopicOffsetsByTimestamp(topic, tsMiddle)
    )
    if (byTsMid) {
      check(
        `offsets by timestamp between the runs are the second run's first record (${JSON.stringify(second)})`,
        byTsMid.length === PARTITIONS && byTsMid.every(o => o.offset === String(second[o.partition])),
        JSON.stringify(byTsMid)
      )
    }
    const byTsLate = await step('admin fetchTopicOffsetsByTimestamp (in the future)', () =>
      admin.fetchTopicOffsetsByTimestamp(topic, Date.now() + 3600000)
    )
    if (byTsLate) {
      // The broker answers offset -1; kafkajs maps that to the high watermark.
      check(
        'offsets by timestamp in the future are the end',
        byTsLate.length === PARTITIONS && byTsLate.every(o => o.offset === String(end[o.partition])),
        JSON.stringify(byTsLate)
      )
    }

    // ---- read back with the low-level fetch ----
    await step('low-level cluster connect', async () => {
      await cluster.connect()
      await cluster.addTargetTopic(topic)
    })
    for (let p = 0; p < PARTITIONS; p++) {
      const all = await step(`fetch partition ${p} from the beginning`, () => readPartition(cluster, topic, p, 0, end[p]))
      if (!all) continue
      const msgs = all.filter(m => !m.isControlRecord)
      const control = all.filter(m => m.isControlRecord)
      check(
        `fetch partition ${p}: the offsets no record took are exactly the Raft configuration and leader barrier before the first record, served without records`,
        control.length === 0 &&
          JSON.stringify(all.skipped) === JSON.stringify([...Array(first[p]).keys()]),
        JSON.stringify({ skipped: all.skipped, control: control.map(m => m.offset) })
      )
      // the acknowledged base offsets say where each record must be
      const offsetOf = n => (n < PER_PARTITION ? first[p] + n : second[p] + n - PER_PARTITION)
      let bad = null
      for (let n = 0; n < msgs.length && !bad; n++) {
        const run = n < PER_PARTITION ? 'plain' : 'idem'
        const i = n % PER_PARTITION
        const m = msgs[n]
        const key = m.key && m.key.toString()
        const value = m.value && m.value.toString()
        const hRun = m.headers && m.headers.run && m.headers.run.toString()
        const hSeq = m.headers && m.headers.seq && m.headers.seq.toString()
        if (Number(m.offset) !== offsetOf(n)) {
          bad = `record ${n} at offset ${m.offset}, acknowledged at ${offsetOf(n)}`
        } else if (key !== keyOf(run, p, i) || value !== valueOf(run, p, i) || hRun !== run || hSeq !== String(i)) {
          bad = `at offset ${m.offset}: key=${key} value=${value} headers=${hRun}/${hSeq}`
        } else if (run === 'idem' ? Number(m.timestamp) < tsMiddle : Number(m.timestamp) !== tsPlain + i) {
          bad = `at offset ${m.offset}: timestamp ${m.timestamp} (plain run base ${tsPlain}, second run after ${tsMiddle})`
        }
      }
      check(
        `fetch partition ${p}: ${total} records in order at their acknowledged offsets with the same keys, values, headers and timestamps`,
        msgs.length === total && !bad,
        bad || `(got ${msgs.length})`
      )
    }
    const past = await step('fetch at an offset beyond the end', async () => {
      const broker = await cluster.findBroker({ nodeId: cluster.findTopicPartitionMetadata(topic)[0].leader })
      try {
        const r = await broker.fetch({
          maxWaitTime: 100,
          topics: [{ topic, partitions: [{ partition: 0, fetchOffset: String(end[0] + 10), maxBytes: 1024 }] }],
        })
        return `no error: ${JSON.stringify(r.responses[0].partitions[0]).slice(0, 200)}`
      } catch (e) {
        return e.type || String(e)
      }
    })
    check('fetch beyond the end fails with OFFSET_OUT_OF_RANGE', past === 'OFFSET_OUT_OF_RANGE', `(got ${past})`)

    // ---- delete ----
    for (const pr of producers) await step('producer disconnect', () => pr.disconnect())
    producers.length = 0
    await step('admin deleteTopics', () => admin.deleteTopics({ topics: [topic], timeout: 10000 }))
    const after = await step('admin listTopics after delete', () => admin.listTopics())
    check('deleted topic is gone from listTopics', Array.isArray(after) && !after.includes(topic))
  } finally {
    for (const pr of producers) await bounded(pr.disconnect(), 'producer disconnect').catch(() => {})
    await bounded(cluster.disconnect(), 'cluster disconnect').catch(() => {})
    await bounded(admin.disconnect(), 'admin disconnect').catch(() => {})
  }
}

main()
  .catch(e => check('unexpected error', false, String(e && e.stack)))
  .finally(() => {
    clearTimeout(watchdog)
    console.log(`${passed} passed, ${failed} failed`)
    process.exit(failed === 0 && passed > 0 ? 0 : 1)
  })
