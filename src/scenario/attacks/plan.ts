/**
 * The attack plan of a scenario: how many of each kind (one per kind per 20
 * minutes, at least one), which playbook, from which pod, and when — spread
 * over the scenario in shuffled order. Drawn from its own random stream, so the
 * plan depends only on the seed, the cluster and the duration, never on the rate.
 */
import type { EpisodeContext } from '../background/activity.ts';
import type { Cluster } from '../cluster.ts';
import { mainContainer } from '../cluster.ts';
import { firedRules } from '../detect.ts';
import type { ScenarioRandom } from '../random.ts';
import { RULES } from '../catalog.ts';
import type { Draft } from '../render.ts';
import { falcoTime, NS_PER_SECOND } from '../time.ts';
import type { AttackKind, AttackManifestEntry } from '../types.ts';
import { ATTACK_KINDS } from '../types.ts';
import { CONTAINER_ESCAPE_PLAYBOOKS } from './container-escape.ts';
import { CREDENTIAL_ACCESS_PLAYBOOKS } from './credential-access.ts';
import { CRYPTOMINER_PLAYBOOKS } from './cryptominer.ts';
import { EXFILTRATION_PLAYBOOKS } from './exfiltration.ts';
import { LATERAL_MOVEMENT_PLAYBOOKS } from './lateral-movement.ts';
import type { Playbook } from './playbook.ts';
import { REVERSE_SHELL_PLAYBOOKS } from './reverse-shell.ts';

export const PLAYBOOKS: Readonly<Record<AttackKind, readonly Playbook[]>> = {
  reverse_shell: REVERSE_SHELL_PLAYBOOKS,
  cryptominer: CRYPTOMINER_PLAYBOOKS,
  credential_access: CREDENTIAL_ACCESS_PLAYBOOKS,
  container_escape: CONTAINER_ESCAPE_PLAYBOOKS,
  lateral_movement: LATERAL_MOVEMENT_PLAYBOOKS,
  exfiltration: EXFILTRATION_PLAYBOOKS,
};

/** Minutes of scenario per attack of each kind. */
export const MINUTES_PER_ATTACK = 20;

export interface PlannedAttack {
  readonly manifest: AttackManifestEntry;
  /** Alert drafts of the attack, times relative to the scenario start, in order. */
  readonly drafts: readonly Draft[];
}

export function attacksPerKind(minutes: number): number {
  return Math.max(1, Math.round(minutes / MINUTES_PER_ATTACK));
}

function eligible(cluster: Cluster, p: Playbook): boolean {
  return p.roles.some((r) => cluster.podsOf(r).length > 0);
}

interface Captured {
  dt: number;
  draft: Omit<Draft, 't'>;
}

/** Runs a playbook at `now`, collecting its drafts (relative offsets). */
function capture(
  cluster: Cluster,
  rng: ScenarioRandom,
  startMs: number,
  now: number,
  playbook: Playbook,
): { origin: ReturnType<typeof mainContainer>; drafts: Captured[] } {
  const roles = playbook.roles.filter((r) => cluster.podsOf(r).length > 0);
  const origin = mainContainer(rng.pick(cluster.podsOf(rng.pick(roles))));
  const drafts: Captured[] = [];
  const ctx: EpisodeContext = {
    cluster,
    rng,
    now,
    startMs,
    emit: (dt, rule, facts) => drafts.push({ dt: Math.round(dt), draft: { rule, facts } }),
    kernel: (dt, ev) => {
      for (const rule of firedRules(ev))
        drafts.push({ dt: Math.round(dt), draft: { rule, facts: ev.facts } });
    },
  };
  playbook.run(ctx, origin);
  // Stable sort: equal offsets keep emission order (several rules on one event).
  drafts.sort((a, b) => a.dt - b.dt);
  return { origin, drafts };
}

export function planAttacks(
  cluster: Cluster,
  rng: ScenarioRandom,
  startMs: number,
  durationNs: number,
  minutes: number,
): PlannedAttack[] {
  const perKind = attacksPerKind(minutes);
  const chosen: Playbook[] = [];
  for (const kind of ATTACK_KINDS) {
    const options = PLAYBOOKS[kind].filter((p) => eligible(cluster, p));
    if (options.length === 0) continue;
    const offset = rng.int(options.length);
    for (let i = 0; i < perKind; i++) chosen.push(options[(offset + i) % options.length] as Playbook);
  }
  const order = rng.shuffle(chosen);
  const margin = Math.min(60 * NS_PER_SECOND, durationNs * 0.02);
  const slot = (durationNs - 2 * margin) / Math.max(1, order.length);
  const planned: {
    start: number;
    playbook: Playbook;
    origin: ReturnType<typeof mainContainer>;
    drafts: Captured[];
  }[] = [];
  order.forEach((playbook, j) => {
    const start = Math.round(margin + j * slot + rng.uniform(0, 0.7) * slot);
    const { origin, drafts } = capture(cluster, rng.fork(`attack-${j}`), startMs, start, playbook);
    const span = drafts.length > 0 ? (drafts[drafts.length - 1] as Captured).dt : 0;
    // Short scenarios: squeeze the playbook so it ends before the scenario does.
    const room = durationNs - NS_PER_SECOND - start;
    const scale = span > room && span > 0 ? Math.max(0, room) / span : 1;
    for (const d of drafts) d.dt = Math.round(d.dt * scale);
    planned.push({ start, playbook, origin, drafts });
  });
  planned.sort((a, b) => a.start - b.start);
  return planned.map((p, i) => {
    const id = `atk-${i + 1}`;
    const tag = { id, kind: p.playbook.kind, technique: p.playbook.technique };
    const drafts: Draft[] = p.drafts.map((d) => ({ t: p.start + d.dt, ...d.draft, attack: tag }));
    const rules: string[] = [];
    for (const d of drafts) {
      const name = RULES[d.rule].name;
      if (!rules.includes(name)) rules.push(name);
    }
    const first = drafts[0]?.t ?? p.start;
    const last = drafts[drafts.length - 1]?.t ?? p.start;
    const o = p.origin;
    return {
      drafts,
      manifest: {
        id,
        kind: p.playbook.kind,
        technique: p.playbook.technique,
        techniqueName: p.playbook.techniqueName,
        variant: p.playbook.variant,
        workload: {
          namespace: o.pod.namespace,
          workload: o.pod.workload.name,
          pod: o.pod.name,
          container: o.name,
          containerId: o.id,
          image: `${o.image.repository}:${o.image.tag}`,
          node: o.pod.node.name,
        },
        start: falcoTime(startMs, first).iso,
        end: falcoTime(startMs, last).iso,
        events: drafts.length,
        rules,
      },
    };
  });
}
