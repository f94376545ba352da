/**
 * GitOps delivery: the proposed rules merged into `falconer_rules.yaml` of a
 * git working copy and committed on a new branch `falconer/rule-<incident>`
 * cut from the base branch, with the backtest report in the commit message;
 * the working copy is then put back on the branch it was on. The real `git`
 * CLI through execFile (no shell: no argument is ever interpreted); the
 * message goes through a file, author and committer come from the config.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { FalconerError } from '../../errors.ts';
import { RULES_FILE_NAME } from './configmap.ts';
import { mergeRulesFile } from './rules-file.ts';
import type { DeliveryProposal } from './types.ts';
import { oneLine } from './text.ts';
import './errors.ts';

const run = promisify(execFile);

export interface GitOpsConfig {
  /** The working copy (a clone of the GitOps repository). */
  repoDir: string;
  /** The rules file, relative to the repository (default `falconer_rules.yaml`). */
  rulesPath?: string;
  /** Branch the proposal branches are cut from (default: the branch checked out). */
  baseBranch?: string;
  author: { name: string; email: string };
}

export interface GitDelivery {
  branch: string;
  commit: string;
  rulesPath: string;
  /** The rules file as committed. */
  rulesFile: string;
}

export function branchName(incidentId: string): string {
  const id = incidentId
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+|[.-]+$/g, '');
  return `falconer/rule-${(id.length > 0 ? id : 'incident').slice(0, 80)}`;
}

export function commitMessage(p: DeliveryProposal): string {
  const r = p.report;
  const pct = (x: number): string => `${(x * 100).toFixed(4)} %`;
  return [
    oneLine(`Falconer: proposed Falco rule for incident ${p.incidentId}`, 120),
    '',
    ...p.ruleNames.map((n) => `Rule: ${oneLine(n)}`),
    '',
    'Backtest report:',
    `  valid: ${r.valid}, accepted: ${r.accepted}`,
    `  incident events: ${r.incident.hits}/${r.incident.events} fired (missed ${r.incident.missed})`,
    `  baseline events: ${r.baseline.hits}/${r.baseline.events} fired (${pct(r.baseline.rate)}, limit ${pct(r.baseline.maxRate)})`,
    ...r.perRule.map(
      (b) =>
        `  ${oneLine(b.rule, 120)}: ${b.hits} hits, incident ${b.incident.hits}/${b.incident.events}, other ${b.other.hits}/${b.other.events}`,
    ),
    ...(p.approvedBy !== undefined ? ['', `Approved-by: ${oneLine(p.approvedBy, 120)}`] : []),
    '',
  ].join('\n');
}

export class GitOpsRepository {
  private readonly rulesPath: string;
  constructor(private readonly cfg: GitOpsConfig) {
    const p = normalize(cfg.rulesPath ?? RULES_FILE_NAME);
    if (isAbsolute(p) || p.startsWith('..'))
      throw new FalconerError('RULES_DELIVERY_GIT', `rulesPath must stay inside the repository: ${p}`, {
        rulesPath: p,
      });
    this.rulesPath = p;
  }

  private async git(args: string[]): Promise<string> {
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: this.cfg.author.name,
      GIT_AUTHOR_EMAIL: this.cfg.author.email,
      GIT_COMMITTER_NAME: this.cfg.author.name,
      GIT_COMMITTER_EMAIL: this.cfg.author.email,
      GIT_TERMINAL_PROMPT: '0',
    };
    try {
      const { stdout } = await run('git', args, { cwd: this.cfg.repoDir, env, maxBuffer: 16 * 1024 * 1024 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new FalconerError(
        'RULES_DELIVERY_GIT',
        `git ${args[0]} failed in ${this.cfg.repoDir}: ${oneLine(e.stderr ?? e.message, 300)}`,
        { args: args.slice(0, 3), repoDir: this.cfg.repoDir },
      );
    }
  }

  /** Merge the proposal into the rules file on a new branch and commit it. */
  async deliver(p: DeliveryProposal): Promise<GitDelivery> {
    const original = (await this.git(['rev-parse', '--abbrev-ref', 'HEAD'])).trim();
    const base = this.cfg.baseBranch ?? original;
    const branch = branchName(p.incidentId);
    await this.git(['check-ref-format', '--branch', branch]);
    const exists = await this.git(['branch', '--list', branch]);
    if (exists.trim() !== '')
      throw new FalconerError('RULES_DELIVERY_GIT', `branch ${branch} already exists`, { branch });
    const msgDir = await mkdtemp(join(tmpdir(), 'falconer-commit-'));
    try {
      await this.git(['checkout', '-q', '-b', branch, base]);
      let done = false;
      try {
        const file = join(this.cfg.repoDir, this.rulesPath);
        const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return undefined;
          throw err;
        });
        const rulesFile = mergeRulesFile(existing, p.yaml);
        await writeFile(file, rulesFile);
        const msgFile = join(msgDir, 'message');
        await writeFile(msgFile, commitMessage(p));
        await this.git(['add', '--', this.rulesPath]);
        await this.git(['commit', '-q', '--no-verify', '--cleanup=verbatim', '-F', msgFile]);
        const commit = (await this.git(['rev-parse', 'HEAD'])).trim();
        done = true;
        return { branch, commit, rulesPath: this.rulesPath, rulesFile };
      } finally {
        await this.git(['checkout', '-q', '-f', original]);
        // A failed delivery leaves no half-made branch behind.
        if (!done) await this.git(['branch', '-q', '-D', branch]);
      }
    } finally {
      await rm(msgDir, { recursive: true, force: true });
    }
  }
}
