/**
 * No event lost when things die (issue 7): 500,000 Falco alerts go to a
 * 6-partition topic while two detect replicas (child processes, one consumer
 * group) score them; one replica is killed with SIGKILL mid-stream and
 * restarted, then (second test) one broker of a three-broker cluster (RF 3,
 * min.insync.replicas 2) is killed and restarted mid-stream. Every event id must
 * be scored at least once; duplicates are counted and must stay bounded.
 * FALCONER_KAFKA_FAULT_EVENTS overrides the count for a quick local run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { requireComponent } from '../support/components.ts';
import { kafkaInstalled, startKafkaBroker, startKafkaCluster, type KafkaHandle } from './broker.ts';
import {
  expectedIds,
  produceAlerts,
  readIds,
  scoredSoFar,
  sleep,
  startProducer,
  startReplica,
  type Replica,
  type ReplicaSpec,
} from './fixtures.ts';

const EVENTS = Number(process.env.FALCONER_KAFKA_FAULT_EVENTS ?? 500_000);
/**
 * What one fault may cost in redeliveries, whatever EVENTS is: records scored but not yet committed when
 * a consumer dies or is fenced, at most a few batches of 512 per replica, plus those scored while commits
 * fail as the group coordinator moves. Measured: about 2,600 (kill -9) and 3,000 (broker restart).
 */
const DUPLICATE_BOUND = 20_000;
const installed = kafkaInstalled();
let expected: Set<string> | undefined;
const expectedOnce = (): Set<string> => (expected ??= expectedIds(EVENTS));

interface Outcome {
  scored: number;
  unique: number;
  missing: number;
  duplicates: number;
  seconds: number;
}

/** Runs two replicas over EVENTS alerts; `fault` runs once when ~40% are scored. */
async function runScenario(
  t: TestContext,
  kafka: KafkaHandle,
  fault: (ctx: { replicas: Replica[]; restart: (i: number) => Promise<void> }) => Promise<void>,
): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-kafka-fault-'));
  const topic = 'falco.events';
  const spec: ReplicaSpec = { brokers: kafka.brokers, topic, group: 'falconer-detect', dataDir: dir };
  const replicas: Replica[] = [];
  const files = new Set<string>();
  t.after(async () => {
    await Promise.all(replicas.map((r) => r.kill9()));
    rmSync(dir, { recursive: true, force: true });
  });
  const ids = expectedOnce();
  const producer = await startProducer(kafka.brokers, topic);
  t.after(() => producer.close());
  const started = Date.now();
  for (const name of ['a', 'b']) {
    const r = await startReplica(name, dir, spec);
    replicas.push(r);
    files.add(r.out);
  }
  const restart = async (i: number): Promise<void> => {
    const old = replicas[i]!;
    replicas[i] = await startReplica(old.name, dir, spec);
  };

  let faulted = false;
  const faultAt = Math.floor(EVENTS * 0.4);
  let faultDone: Promise<void> = Promise.resolve();
  const maybeFault = (): void => {
    if (faulted || scoredSoFar([...files]) < faultAt) return;
    faulted = true;
    faultDone = fault({ replicas, restart });
  };
  await produceAlerts(producer, topic, 0, EVENTS, maybeFault);

  const deadline = Date.now() + 300_000;
  for (;;) {
    maybeFault();
    if (faulted && scoredSoFar([...files]) >= EVENTS) {
      await faultDone;
      const seen = new Set<string>();
      for (const f of files) for (const id of readIds(f)) seen.add(id);
      let missing = 0;
      for (const id of ids) if (!seen.has(id)) missing += 1;
      if (missing === 0) break;
    }
    if (Date.now() > deadline) break;
    await sleep(500);
  }
  await faultDone;
  await Promise.all(replicas.map((r) => r.stop()));

  let scored = 0;
  const seen = new Set<string>();
  for (const f of files) {
    for (const id of readIds(f)) {
      scored += 1;
      seen.add(id);
    }
  }
  let missing = 0;
  for (const id of ids) if (!seen.has(id)) missing += 1;
  const outcome = {
    scored,
    unique: seen.size,
    missing,
    duplicates: scored - seen.size,
    seconds: Math.round((Date.now() - started) / 1000),
  };
  t.diagnostic(JSON.stringify(outcome));
  if (missing > 0 || scored - seen.size > DUPLICATE_BOUND)
    for (const r of replicas) t.diagnostic(`${r.name} stderr: ${r.stderr().slice(-2000)}`);
  return outcome;
}

test(
  `kill -9 of one of two detect replicas mid-stream loses none of ${EVENTS} events`,
  { timeout: 600_000 },
  async (t) => {
    if (!requireComponent(t, 'kafka', installed, 'run: bash scripts/kafka.sh install')) return;
    const starting = startKafkaBroker();
    expectedOnce(); // computed while the broker starts
    const kafka = await starting;
    t.after(() => kafka.stop());
    const outcome = await runScenario(t, kafka, async ({ replicas, restart }) => {
      await replicas[0]!.kill9();
      await sleep(1000);
      await restart(0);
    });
    assert.equal(outcome.missing, 0, 'every event id scored at least once');
    assert.equal(outcome.unique, EVENTS);
    assert.ok(
      outcome.duplicates <= DUPLICATE_BOUND,
      `duplicates ${outcome.duplicates} within ${DUPLICATE_BOUND}`,
    );
  },
);

test(
  `a broker of three restarted mid-stream (RF 3, min ISR 2) loses none of ${EVENTS} events`,
  { timeout: 600_000 },
  async (t) => {
    if (!requireComponent(t, 'kafka', installed, 'run: bash scripts/kafka.sh install')) return;
    const starting = startKafkaCluster();
    expectedOnce();
    const kafka = await starting;
    t.after(() => kafka.stop());
    const outcome = await runScenario(t, kafka, async () => {
      await kafka.stopNode(2, true);
      await sleep(2000);
      await kafka.startNode(2);
    });
    assert.equal(outcome.missing, 0, 'every event id scored at least once');
    assert.equal(outcome.unique, EVENTS);
    // When the stopped broker was the group's coordinator, the group rebalances: offsets cannot be
    // committed until it settles (up to the rebalance timeout, 30 s, plus a session timeout, 10 s),
    // and the new owners re-read from the last commit. Observed once: 166,848 of 500,000 in 93 s.
    // So the bound here is that much traffic; no loss is the hard requirement.
    const rate = EVENTS / Math.max(outcome.seconds, 1);
    const bound = Math.max(DUPLICATE_BOUND, Math.ceil(rate * (30 + 10)));
    assert.ok(outcome.duplicates <= bound, `duplicates ${outcome.duplicates} within ${bound}`);
  },
);
