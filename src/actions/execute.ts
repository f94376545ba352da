/**
 * Executes and rolls back proposals. Before anything is written:
 * the proposal is re-rendered from its kind, target and params and must
 * equal the manifests policy saw; the policy decision must allow it and
 * carry enough distinct approvals. Dry-run (the default) is a server-side
 * dry-run when a cluster is reachable, else the manifests are written to a
 * folder. Each object's state before and after is recorded for rollback.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { ActionProposal } from '../agents/contracts.ts';
import type { ExecuteOutput } from '../agents/contracts.ts';
import { FalconerError, describeError, isFalconerError } from '../errors.ts';
import './errors.ts';
import { KubeObjects, kubeStatusCode, refOf } from './kube.ts';
import type { Plain } from './kube.ts';
import { getAction, parseParams } from './registry.ts';
import type { CrdCatalog } from './schema/crds.ts';
import { assertValidObject } from './schema/validate.ts';
import { absent, canonicalJson, controllerOwned, inverseMergePatch, isAbsent, recreatable } from './state.ts';
import type { Operation } from './types.ts';

export interface Approval {
  by: string;
  at: number;
}

export interface ExecuteOptions {
  /** A cluster to act on; without one (or when it is unreachable) dry-runs write manifests to outputDir. */
  kube?: KubeConfig;
  outputDir: string;
  approvals?: Approval[];
  /** When given, every object is validated against these schemas before it is sent. */
  crds?: CrdCatalog;
  fieldManager?: string;
}

type Output = ExecuteOutput;

function refused(reason: string): Output {
  return { status: 'refused', reason: reason.slice(0, 2000) };
}

/** Renders the proposal again and checks it is exactly what was proposed (and decided on). */
export function renderProposal(proposal: ActionProposal): Operation[] {
  const action = getAction(proposal.kind);
  const params = parseParams(action, proposal.params);
  const ops = action.render(proposal.target, params);
  const rendered = canonicalJson(ops.map((o) => o.object));
  if (rendered !== canonicalJson(proposal.manifests)) {
    throw new FalconerError(
      'ACTION_MANIFEST_MISMATCH',
      'the proposal manifests differ from what its kind, target and params render; refusing to apply something policy did not see',
      { proposalId: proposal.id, kind: proposal.kind },
    );
  }
  return ops;
}

/** Why execution may not proceed, or undefined when the decision and approvals allow it. */
export function gateReason(proposal: ActionProposal, approvals: readonly Approval[]): string | undefined {
  const d = proposal.decision;
  if (d === undefined) return 'no policy decision on this proposal';
  if (!d.allowed) return `denied by policy: ${d.reasons.join('; ')}`;
  if (d.requiresApproval) {
    const needed = Math.max(1, d.approvalsRequired);
    const distinct = new Set(approvals.map((a) => a.by.trim().toLowerCase()).filter((b) => b.length > 0));
    if (distinct.size < needed) return `awaiting approval: ${distinct.size} of ${needed} distinct approvers`;
  }
  return undefined;
}

function parseProposal(input: unknown): ActionProposal {
  const parsed = ActionProposal.safeParse(input);
  if (!parsed.success) {
    throw new FalconerError('ACTION_REFUSED', `malformed proposal: ${parsed.error.message.slice(0, 300)}`);
  }
  return parsed.data;
}

function writeManifests(
  proposal: ActionProposal,
  ops: Operation[],
  outputDir: string,
  label: string,
): string {
  const dir = join(outputDir, proposal.id);
  mkdirSync(dir, { recursive: true });
  ops.forEach((op, i) => {
    const o = op.object;
    const file = `${String(i + 1).padStart(2, '0')}-${label}-${op.verb}-${o.kind.toLowerCase()}-${o.metadata.name}.yaml`;
    const header = `# falconer ${label}: ${op.verb} ${o.apiVersion} ${o.kind}${op.verb === 'merge-patch' ? ' (application/merge-patch+json)' : ''}\n`;
    writeFileSync(join(dir, file), header + stringify(o));
  });
  writeFileSync(join(dir, 'proposal.json'), `${JSON.stringify(proposal, null, 2)}\n`);
  return dir;
}

/** True when the error is the cluster being unreachable (not an API answer). */
function unreachable(err: unknown): boolean {
  return kubeStatusCode(err) === undefined && !isFalconerError(err);
}

function validateAll(ops: Operation[], crds: CrdCatalog | undefined): void {
  if (crds === undefined) return;
  for (const op of ops) {
    if (op.verb === 'delete') continue;
    assertValidObject(op.object, crds, op.verb === 'merge-patch');
    if (op.fallback) assertValidObject(op.fallback, crds);
  }
}

export async function executeAction(input: unknown, options: ExecuteOptions): Promise<Output> {
  let proposal: ActionProposal;
  let ops: Operation[];
  try {
    proposal = parseProposal(input);
    ops = renderProposal(proposal);
    validateAll(ops, options.crds);
  } catch (err) {
    return refused(describeError(err));
  }
  const gate = gateReason(proposal, options.approvals ?? []);
  if (gate !== undefined) return refused(gate);

  if (options.kube === undefined) {
    if (!proposal.dryRun)
      return { status: 'failed', reason: 'no cluster configured: only dry-run is possible' };
    const outputPath = writeManifests(proposal, ops, options.outputDir, 'apply');
    return {
      status: 'dry-run',
      reason: 'no cluster configured: manifests written',
      outputPath,
      after: ops.map((o) => o.object),
    };
  }

  const kube = new KubeObjects(options.kube, options.fieldManager);
  const dryRun = proposal.dryRun;
  const notes: string[] = [];
  let before: Plain[];
  try {
    before = await readBefore(kube, proposal, ops);
  } catch (err) {
    if (unreachable(err) && dryRun) {
      const outputPath = writeManifests(proposal, ops, options.outputDir, 'apply');
      return {
        status: 'dry-run',
        reason: `cluster unreachable (${describeError(err).slice(0, 300)}): manifests written`,
        outputPath,
        after: ops.map((o) => o.object),
      };
    }
    return {
      // A missing target or an object that already exists: a clear refusal, nothing was written.
      status:
        isFalconerError(err, 'ACTION_TARGET_NOT_FOUND') || isFalconerError(err, 'ACTION_REFUSED')
          ? 'refused'
          : 'failed',
      reason: describeError(err),
    };
  }

  const after: Plain[] = [];
  const done: Array<{ op: Operation; index: number; applied: Plain }> = [];
  for (const [index, op] of ops.entries()) {
    try {
      let obj: Plain = op.object;
      if (
        op.verb === 'create' &&
        op.fallback &&
        !(await kube.serves(op.object.apiVersion, op.object.kind, proposal.target.namespace))
      ) {
        notes.push(
          `${op.object.apiVersion} ${op.object.kind} is not served: used ${op.fallback.apiVersion} ${op.fallback.kind}`,
        );
        obj = op.fallback;
      }
      let result: Plain;
      if (op.verb === 'create') result = await kube.create(obj, dryRun);
      else if (op.verb === 'merge-patch') result = await kube.mergePatch(obj, dryRun);
      else {
        await kube.delete(refOf(obj), dryRun);
        result = absent(refOf(obj) as unknown as Plain);
      }
      after.push(result);
      done.push({ op: { ...op, object: obj as never }, index, applied: result });
    } catch (err) {
      const reason = `${op.verb} ${op.object.kind} ${op.object.metadata.name} failed: ${describeError(err).slice(0, 500)}`;
      if (!dryRun && done.length > 0) {
        // Leave nothing half-done: undo what this execution already applied.
        const undo = await undoOps(kube, done, before);
        return {
          status: 'failed',
          reason: `${reason}; undid ${done.length} earlier step(s)${undo ? `: ${undo}` : ''}`,
          before,
        };
      }
      return { status: 'failed', reason, before };
    }
  }
  const reason = [dryRun ? 'server-side dry-run (dryRun=All)' : 'applied', ...notes].join('; ');
  return { status: dryRun ? 'dry-run' : 'applied', reason, before, after };
}

async function readBefore(kube: KubeObjects, proposal: ActionProposal, ops: Operation[]): Promise<Plain[]> {
  const action = getAction(proposal.kind);
  if (action.needs.includes('pod') && !ops.some((o) => o.object.kind === 'Pod')) {
    // Actions about a pod that do not touch it (emit-event) still need it to exist.
    const pod = await kube.read({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: proposal.target.pod ?? '', namespace: proposal.target.namespace },
    });
    if (pod === null) throw notFound('Pod', proposal.target.namespace, proposal.target.pod ?? '');
  }
  const before: Plain[] = [];
  for (const op of ops) {
    const ref = refOf(op.object);
    const current = await kube.read(ref);
    if (current === null && op.verb !== 'create')
      throw notFound(ref.kind, ref.metadata.namespace, ref.metadata.name);
    if (current !== null && op.verb === 'create') {
      throw new FalconerError(
        'ACTION_REFUSED',
        `${ref.kind} ${ref.metadata.name} already exists; not overwriting it`,
        { kind: ref.kind },
      );
    }
    before.push(current ?? absent(ref as unknown as Plain));
  }
  return before;
}

function notFound(kind: string, namespace: string | undefined, name: string): FalconerError {
  return new FalconerError(
    'ACTION_TARGET_NOT_FOUND',
    `${kind} ${namespace ? `${namespace}/` : ''}${name} does not exist`,
    {
      kind,
      namespace,
      name: name.slice(0, 253),
    },
  );
}

/** Undo applied operations, newest first. Returns a description of anything that could not be undone. */
async function undoOps(
  kube: KubeObjects,
  done: Array<{ op: Operation; index: number; applied: Plain }>,
  before: Plain[],
): Promise<string> {
  const problems: string[] = [];
  for (const { op, index, applied } of [...done].reverse()) {
    const prior = before[index] ?? {};
    try {
      if (op.verb === 'create') {
        try {
          await kube.delete(refOf(applied), false);
        } catch (err) {
          if (kubeStatusCode(err) !== 404) throw err;
        }
      } else if (op.verb === 'merge-patch') {
        await kube.mergePatch(inverseMergePatch(op.object, prior), false);
      } else if (!isAbsent(prior)) {
        if (controllerOwned(prior)) continue; // Its controller recreates it.
        await kube.create(recreatable(prior), false);
      }
    } catch (err) {
      problems.push(
        `${op.verb} ${op.object.kind} ${op.object.metadata.name}: ${describeError(err).slice(0, 200)}`,
      );
    }
  }
  return problems.join('; ');
}

/**
 * Restores the state recorded by executeAction: deletes what it created,
 * patches labels, annotations and replicas back, recreates a deleted pod
 * that no controller owns.
 */
export async function rollbackAction(
  input: unknown,
  executed: ExecuteOutput,
  options: ExecuteOptions,
): Promise<Output> {
  let proposal: ActionProposal;
  let ops: Operation[];
  try {
    proposal = parseProposal(input);
    ops = renderProposal(proposal);
  } catch (err) {
    return refused(describeError(err));
  }
  if (executed.status === 'dry-run')
    return { status: 'rolled-back', reason: 'dry-run: nothing was applied, nothing to undo' };
  if (executed.status !== 'applied')
    return refused(`cannot roll back an execution whose status is '${executed.status}'`);
  const before = executed.before ?? [];
  const after = executed.after ?? [];
  if (before.length !== ops.length || after.length !== ops.length) {
    return refused('the execution record does not match the proposal (before/after states missing)');
  }
  if (options.kube === undefined) {
    // No cluster: write the rollback as manifests, for a human to apply.
    const undo = ops
      .map((op, i) => rollbackOp(op, before[i] ?? {}, after[i] ?? {}))
      .filter((o): o is Operation => o !== null);
    const outputPath = writeManifests(proposal, undo, options.outputDir, 'rollback');
    return {
      status: 'failed',
      reason: 'no cluster configured: rollback manifests written, nothing undone',
      outputPath,
    };
  }
  const kube = new KubeObjects(options.kube, options.fieldManager);
  const done = ops.map((op, index) => ({ op, index, applied: after[index] ?? {} }));
  const current: Plain[] = [];
  for (const op of ops)
    current.push(
      (await kube.read(refOf(op.object)).catch(() => null)) ?? absent(refOf(op.object) as unknown as Plain),
    );
  const problems = await undoOps(kube, done, before);
  if (problems) return { status: 'failed', reason: `rollback incomplete: ${problems}`, before: current };
  const restored: Plain[] = [];
  for (const [i, op] of ops.entries()) {
    const ref = refOf(after[i] && !isAbsent(after[i]) ? after[i] : op.object);
    restored.push((await kube.read(ref)) ?? absent(ref as unknown as Plain));
  }
  return { status: 'rolled-back', reason: 'prior state restored', before: current, after: restored };
}

function rollbackOp(op: Operation, before: Plain, after: Plain): Operation | null {
  if (op.verb === 'create') {
    const ref = refOf(isAbsent(after) ? op.object : after);
    return { verb: 'delete', object: ref as never };
  }
  if (op.verb === 'merge-patch')
    return { verb: 'merge-patch', object: inverseMergePatch(op.object, before) as never };
  if (isAbsent(before) || controllerOwned(before)) return null;
  return { verb: 'create', object: recreatable(before) as never };
}
