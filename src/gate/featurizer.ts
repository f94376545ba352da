/**
 * NormalizedEvent → fixed-length Float64Array in which rare behaviour stands
 * out. Every feature is documented, with the reason it is there, in
 * docs/features.md; the names and their order are the versioned
 * FEATURE_SCHEMA that every model file carries.
 *
 * Score-then-learn: each event is featurized against the state *before* it,
 * then counted, so the first occurrence of something is as rare as it gets.
 * State is one decayed count-min sketch (fixed size) and a capped cache of
 * workload owners: memory is bounded whatever the rate or the cardinality.
 */
import { FalconerError } from '../errors.ts';
import type { NormalizedEvent, Workload } from '../events/types.ts';
import { ADDRESS_CLASS_INDEX, extractPeer, type Peer } from './address.ts';
import { hashInt, hashRange, hashString, mix32, salt } from './hash.ts';
import { ownerKey } from './owner.ts';
import { DecayedCountMinSketch } from './sketch.ts';
import { MAX_TEXT_SCAN, shannonEntropy } from './text-stats.ts';

export const FEATURE_NAMES = Object.freeze([
  'rule_rarity',
  'process_rarity',
  'lineage_rarity',
  'image_process_rarity',
  'dest_port_rarity',
  'dest_class_rarity',
  'path_prefix_rarity',
  'user_rarity',
  'priority_severity',
  'off_hours',
  'cmdline_length',
  'cmdline_entropy',
  'owner_rule_novelty',
  'owner_process_novelty',
  'owner_lineage_novelty',
  'owner_dest_novelty',
  'owner_recent_repeat',
  'command_rarity',
  'owner_command_novelty',
  'rarity_max',
  'novelty_max',
] as const);

export type FeatureName = (typeof FEATURE_NAMES)[number];

/** Bump the version whenever a feature's meaning, order or scale changes: old models are then refused. */
export const FEATURE_SCHEMA: { readonly schemaVersion: string; readonly names: readonly string[] } =
  Object.freeze({
    schemaVersion: 'falconer.features/4',
    names: FEATURE_NAMES,
  });

export const FEATURE_COUNT = FEATURE_NAMES.length;

// Feature indices as plain constants (the featurizer writes ~30 of them per event), checked against FEATURE_NAMES below.
const F_RULE_RARITY = 0;
const F_PROCESS_RARITY = 1;
const F_LINEAGE_RARITY = 2;
const F_IMAGE_PROCESS_RARITY = 3;
const F_DEST_PORT_RARITY = 4;
const F_DEST_CLASS_RARITY = 5;
const F_PATH_PREFIX_RARITY = 6;
const F_USER_RARITY = 7;
const F_PRIORITY_SEVERITY = 8;
const F_OFF_HOURS = 9;
const F_CMDLINE_LENGTH = 10;
const F_CMDLINE_ENTROPY = 11;
const F_OWNER_RULE_NOVELTY = 12;
const F_OWNER_PROCESS_NOVELTY = 13;
const F_OWNER_LINEAGE_NOVELTY = 14;
const F_OWNER_DEST_NOVELTY = 15;
const F_OWNER_RECENT_REPEAT = 16;
const F_COMMAND_RARITY = 17;
const F_OWNER_COMMAND_NOVELTY = 18;
const F_RARITY_MAX = 19;
const F_NOVELTY_MAX = 20;
const FEATURE_INDEX: Readonly<Record<FeatureName, number>> = {
  rule_rarity: F_RULE_RARITY,
  process_rarity: F_PROCESS_RARITY,
  lineage_rarity: F_LINEAGE_RARITY,
  image_process_rarity: F_IMAGE_PROCESS_RARITY,
  dest_port_rarity: F_DEST_PORT_RARITY,
  dest_class_rarity: F_DEST_CLASS_RARITY,
  path_prefix_rarity: F_PATH_PREFIX_RARITY,
  user_rarity: F_USER_RARITY,
  priority_severity: F_PRIORITY_SEVERITY,
  off_hours: F_OFF_HOURS,
  cmdline_length: F_CMDLINE_LENGTH,
  cmdline_entropy: F_CMDLINE_ENTROPY,
  owner_rule_novelty: F_OWNER_RULE_NOVELTY,
  owner_process_novelty: F_OWNER_PROCESS_NOVELTY,
  owner_lineage_novelty: F_OWNER_LINEAGE_NOVELTY,
  owner_dest_novelty: F_OWNER_DEST_NOVELTY,
  owner_recent_repeat: F_OWNER_RECENT_REPEAT,
  command_rarity: F_COMMAND_RARITY,
  owner_command_novelty: F_OWNER_COMMAND_NOVELTY,
  rarity_max: F_RARITY_MAX,
  novelty_max: F_NOVELTY_MAX,
};
for (const [name, index] of Object.entries(FEATURE_INDEX)) {
  if (FEATURE_NAMES[index] !== name)
    throw new Error(`feature index of ${name} is not its place in FEATURE_NAMES`);
}

export interface FeaturizerOptions {
  /** Half-life of every decayed count, in event-time ms (default 12 h). */
  halfLifeMs?: number;
  /** Half-life of the short-term repetition count (default 60 s of event time). */
  recentHalfLifeMs?: number;
  /** Count-min sketch cells per row, a power of two (default 2^16). */
  sketchWidth?: number;
  /** Count-min sketch rows (default 4). */
  sketchDepth?: number;
  /** Workload → owner entries cached (default 4096); the cache is cleared when full. */
  ownerCacheSize?: number;
  /** Office hours [start, end) in local hours, Monday to Friday (default 8–18). */
  officeHours?: { startHour: number; endHour: number };
  /** Local time = UTC + this offset, for office hours (default 0). */
  utcOffsetMinutes?: number;
}

export const DEFAULT_FEATURIZER_OPTIONS: Readonly<Required<FeaturizerOptions>> = Object.freeze({
  halfLifeMs: 12 * 3600 * 1000,
  recentHalfLifeMs: 60_000,
  sketchWidth: 1 << 16,
  sketchDepth: 4,
  ownerCacheSize: 4096,
  officeHours: Object.freeze({ startHour: 8, endHour: 18 }),
  utcOffsetMinutes: 0,
});

/** Workload keys longer than this are not cached (their owner is recomputed), which bounds the cache's bytes. */
export const MAX_CACHED_KEY_LENGTH = 256;
/** Estimated bytes per owner-cache entry besides the key's characters (Map slot, string header, a two-number object). */
const OWNER_ENTRY_OVERHEAD = 112;
/** Command lines memoized (two-way sets; an older line is dropped) and the longest memoized: at most ~1.4 MB. */
const COMMAND_CACHE_SIZE = 2048;
const MAX_CACHED_COMMAND_LENGTH = 256;
/** Table slot, string header and a four-field object per memoized command line. */
const COMMAND_ENTRY_OVERHEAD = 136;
/**
 * (workload, rule, process, parent) tuples memoized with their planned keys (two-way sets; an older
 * tuple is dropped), and the most characters of rule + process + parent memoized: at most ~2.3 MB.
 */
const IDENTITY_CACHE_SIZE = 2048;
const MAX_CACHED_IDENTITY_CHARS = 160;
/** Table slot and an IdentityPlan object (strings held besides, counted by their characters). */
const IDENTITY_ENTRY_OVERHEAD = 240;
/** Longest user name and command line an identity entry remembers (its sub-memos). */
const MAX_CACHED_USER_LENGTH = 64;

// Exact decayed totals: how many events carried each categorical feature (the rarity denominators).
const T_RULE = 0;
const T_PROCESS = 1;
const T_LINEAGE = 2;
const T_IMAGE_PROCESS = 3;
const T_PORT = 4;
const T_CLASS = 5;
const T_PATH = 6;
const T_USER = 7;
const T_COMMAND = 8;
const TOTALS = 9;
/** Total index of a queued read whose denominator is the owner's own count. */
const OWNER_TOTAL = -1;
/** Most sketch keys one event reads (owner total + 14 features). */
const MAX_KEYS = 16;
/**
 * Events that can be planned ahead of completion (plan / complete). The slot PLAN_SLOTS is
 * featurize()'s own, so a direct call never disturbs a caller's plan.
 */
export const PLAN_SLOTS = 32;
/** Cells per row of the short-term sketch: it only needs to tell the keys active in the last minutes apart. */
const RECENT_SKETCH_WIDTH = 1 << 14;

const S_RULE = salt('rule');
const S_PROCESS = salt('process');
const S_LINEAGE = salt('lineage');
const S_IMAGE_PROCESS = salt('image→process');
const S_PORT = salt('dest.port');
const S_CLASS = salt('dest.class');
const S_PATH = salt('path.prefix');
const S_USER = salt('user');
const S_OWNER = salt('owner');
const S_OWNER_TOTAL = salt('owner.total');
const S_OWNER_USER = salt('owner.user');
const S_AUDIT_ACTION = salt('audit.action');
const S_OWNER_RULE = salt('owner.rule');
const S_OWNER_PROCESS = salt('owner.process');
const S_OWNER_LINEAGE = salt('owner.lineage');
const S_OWNER_DEST = salt('owner.dest');
const S_OWNER_RECENT = salt('owner.recent');
const S_COMMAND = salt('command');
const S_OWNER_COMMAND = salt('owner.command');
const ARROW = hashString('→');

const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 24 * MS_PER_HOUR;
/** Path components kept in a file-path prefix: /var/run/secrets, /etc/shadow, /proc/#/environ. */
const PATH_COMPONENTS = 3;
/** Command-line words kept in its shape: `sh -c wal-g`, `python3 /app/score.py --port`. */
const COMMAND_WORDS = 3;
/** Characters of each word kept in the shape. */
const COMMAND_WORD_CHARS = 32;

type Fields = NormalizedEvent['fields'];

/** Memoized per command line (see Featurizer.commandStats). */
interface CommandStats {
  readonly text: string;
  readonly lengthBits: number;
  readonly entropy: number;
  readonly shapeKey: number;
}

interface WorkloadHashes {
  readonly owner: number;
  /** -1 when the workload has no image. */
  readonly image: number;
  /** What the hashes were computed from besides the pod key: containers of one pod differ in both. */
  readonly container: string | undefined;
  readonly imageName: string | undefined;
}

/**
 * What plan() derives from an event's identity (workload, rule, process, parent) — pure functions
 * of those four, memoized because a workload repeats the same few tuples all day (see
 * Featurizer.identityPlan). The mixed keys are the planned sketch keys, in plan() order; a sub-memo
 * of the tuple's last command line, connection and user saves their keys too (ints and one string
 * compare instead of hashing).
 */
class IdentityPlan {
  ownerTotal = 0;
  rule = 0;
  ownerRule = 0;
  process = 0;
  lineage = 0;
  ownerProcess = 0;
  ownerLineage = 0;
  /** Mixed image→process key; -1 when the workload has no image (computed per event then). */
  imageProcess = -1;
  processHash = 0;
  /** Short-term repetition key (not mixed). */
  recent = 0;
  /** Last command line seen with this tuple, its stats and its owner→command key (mixed). */
  command: CommandStats | undefined = undefined;
  commandKey = 0;
  ownerCommand = 0;
  /** Last connection: server port and class code (class + 16 when inbound), and its three mixed keys (-2: none yet). */
  peerPort = -2;
  peerCode = -1;
  portKey = 0;
  classKey = 0;
  ownerDest = 0;
  /** Last user name and its mixed key. */
  user: string | undefined = undefined;
  userKey = 0;

  constructor(
    /** Owner and image hashes of the workload: replicas of one owner share their entries. */
    readonly owner: number,
    readonly image: number,
    readonly ruleText: string,
    readonly procName: string,
    readonly pname: string | undefined,
  ) {}
}

/** A usable string field: Falco writes null, "" or "<NA>" for a field without value. */
// Loaded with literal keys (fields['proc.name']) so that each load site keeps its own inline cache.
function usable(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  // Lengths first: comparing with '<NA>' is a call, needed only for four-character values.
  const n = v.length;
  return n === 0 || (n === 4 && v === '<NA>') ? undefined : v;
}

/** Image without tag or digest, so that a new release of the same image keeps its baseline. */
function hashImageRepo(image: string, seed: number): number {
  const slash = image.lastIndexOf('/');
  let end = image.indexOf('@', slash + 1);
  if (end < 0) end = image.indexOf(':', slash + 1);
  if (end < 0) end = image.length;
  return hashRange(image, 0, end, seed);
}

/**
 * Hash of the first PATH_COMPONENTS components of an absolute path; components
 * made only of digits (pids, fds) become '#', so /proc/4242/environ and
 * /proc/17/environ are one prefix rather than a spray of unique ones.
 */
function hashPathPrefix(path: string, seed: number): number {
  let h = seed;
  let components = 0;
  let i = 0;
  const n = path.length;
  while (i < n && components < PATH_COMPONENTS) {
    while (i < n && path.charCodeAt(i) === 47 /* / */) i++;
    if (i >= n) break;
    const start = i;
    let digitsOnly = true;
    while (i < n && path.charCodeAt(i) !== 47) {
      const c = path.charCodeAt(i);
      if (c < 48 || c > 57) digitsOnly = false;
      i++;
    }
    h = hashInt(0x2f, h);
    h = digitsOnly ? hashInt(0x23, h) : hashRange(path, start, i, h);
    components++;
  }
  return h;
}

/**
 * Hash of a command line's shape: its first COMMAND_WORDS words (split on
 * blanks, quotes and shell operators ignored, each cut to COMMAND_WORD_CHARS),
 * runs of digits folded to '#'. `sh -c wal-g wal-push pg_wal/00000001` and
 * `sh -c 'bash -i >& /dev/tcp/…'` share a program but not a shape.
 */
function hashCommandShape(cmdline: string, seed: number): number {
  let h = seed;
  let words = 0;
  let i = 0;
  const n = Math.min(cmdline.length, MAX_TEXT_SCAN);
  while (i < n && words < COMMAND_WORDS) {
    while (i < n && isCommandSeparator(cmdline.charCodeAt(i))) i++;
    if (i >= n) break;
    let kept = 0;
    let inDigits = false;
    h = hashInt(0x20, h);
    while (i < n && !isCommandSeparator(cmdline.charCodeAt(i))) {
      const c = cmdline.charCodeAt(i++);
      if (kept >= COMMAND_WORD_CHARS) continue;
      if (c >= 48 && c <= 57) {
        if (!inDigits) {
          h = Math.imul(h ^ 0x23, 0x01000193) >>> 0;
          kept++;
        }
        inDigits = true;
      } else {
        h = Math.imul(h ^ c, 0x01000193) >>> 0;
        kept++;
        inDigits = false;
      }
    }
    words++;
  }
  return h;
}

/**
 * Set of a command line in the memo: its length and a sample of its characters (start, middle,
 * end), so the cost does not grow with the line. Lines that collide only share a set.
 */
function commandSet(s: string): number {
  const n = s.length;
  let h = Math.imul(n, 0x9e3779b1);
  const head = n < 8 ? n : 8;
  for (let i = 0; i < head; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  if (n > 8) {
    const mid = n >>> 1;
    const midEnd = mid + 4 < n ? mid + 4 : n;
    for (let i = mid; i < midEnd; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    for (let i = n - 8 > 8 ? n - 8 : 8; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 15;
  return (Math.imul(h, 0x2c1b3c6d) >>> 16) & (COMMAND_CACHE_SIZE / 2 - 1);
}

/**
 * Set of an identity tuple in the memo: the owner hash mixed with the strings' lengths and a few
 * of their characters (first, middle, last), so the cost does not grow with the text.
 */
function identitySet(
  owner: number,
  rule: string,
  procName: string,
  pname: string | undefined,
  pnameLength: number,
): number {
  const rn = rule.length;
  const pn = procName.length;
  let h = Math.imul(owner ^ rn, 0x01000193);
  h = Math.imul(h ^ (pn | (pnameLength << 16)), 0x01000193);
  h = Math.imul(h ^ rule.charCodeAt(rn >>> 1) ^ (rule.charCodeAt(rn - 1) << 16), 0x01000193);
  h = Math.imul(h ^ procName.charCodeAt(0) ^ (procName.charCodeAt(pn - 1) << 16), 0x01000193);
  if (pname !== undefined) h = Math.imul(h ^ pname.charCodeAt(pnameLength >>> 1), 0x01000193);
  h ^= h >>> 15;
  return (Math.imul(h, 0x2c1b3c6d) >>> 16) & (IDENTITY_CACHE_SIZE / 2 - 1);
}

/** Characters an identity entry holds (counted for the memory estimate). */
function identityChars(id: IdentityPlan): number {
  return id.ruleText.length + id.procName.length + (id.pname === undefined ? 0 : id.pname.length);
}

/** Falco's own judgement as a feature, most severe highest (0 for a level out of range). */
function prioritySeverity(level: number): number {
  return Number.isInteger(level) && level >= 0 && level <= 7 ? 7 - level : 0;
}

/** Blanks, quotes and the shell operators that glue words together. */
function isCommandSeparator(c: number): boolean {
  return (
    c === 32 ||
    c === 9 ||
    c === 10 ||
    c === 34 ||
    c === 39 ||
    c === 59 ||
    c === 38 ||
    c === 124 ||
    c === 40 ||
    c === 41
  );
}

export class Featurizer {
  readonly options: Readonly<Required<FeaturizerOptions>>;
  readonly dimensions = FEATURE_COUNT;
  private readonly sketch: DecayedCountMinSketch;
  /** Short-memory counts: how often this owner did exactly this in the last minutes. */
  private readonly recentSketch: DecayedCountMinSketch;
  private readonly owners = new Map<string, WorkloadHashes>();
  private ownerKeyChars = 0;
  /** Command-line memo: COMMAND_CACHE_SIZE / 2 sets of two ways (see commandStats). */
  private readonly commands = new Array<CommandStats | undefined>(COMMAND_CACHE_SIZE).fill(undefined);
  private commandEntries = 0;
  private commandChars = 0;
  /** Identity memo: IDENTITY_CACHE_SIZE / 2 sets of two ways (see identityPlan). */
  private readonly identities = new Array<IdentityPlan | undefined>(IDENTITY_CACHE_SIZE).fill(undefined);
  private identityEntries = 0;
  private identityChars = 0;
  private readonly buffer = new Float64Array(FEATURE_COUNT);
  private readonly peer: Peer = { cls: 'unknown', port: -1, inbound: false };
  // Planned events (see plan()): per slot, the sketch keys to read and learn, and what each read is for.
  /** mix32 of each planned key: mixed once for its read and its update. */
  private readonly planMixed = new Int32Array((PLAN_SLOTS + 1) * MAX_KEYS);
  private readonly planFeature = new Int8Array((PLAN_SLOTS + 1) * MAX_KEYS);
  private readonly planTotal = new Int8Array((PLAN_SLOTS + 1) * MAX_KEYS);
  private readonly planKeys = new Int32Array(PLAN_SLOTS + 1);
  /** The short-term repetition key (not mixed) and the event's own time (NaN when it has none). */
  private readonly planRecentKey = new Float64Array(PLAN_SLOTS + 1);
  private readonly planTime = new Float64Array(PLAN_SLOTS + 1);
  /** Scaled counts read for the slot being completed. */
  private readonly scaledReads = new Float64Array(MAX_KEYS);
  /** complete()'s per-event memo of the logarithms it computed: ratio and Math.log(ratio). */
  private readonly logRatios = new Float64Array(MAX_KEYS);
  private readonly logValues = new Float64Array(MAX_KEYS);
  /** Slot being planned, and its key count so far. */
  private planBase = 0;
  private nPlanned = 0;
  /** Where prefetch() leaves what it read, so that the reads are not optimized away. */
  prefetchSink = 0;
  private learned = 0;
  private readonly offsetMs: number;

  constructor(options: FeaturizerOptions = {}) {
    const opts = { ...DEFAULT_FEATURIZER_OPTIONS, ...stripUndefined(options) };
    if (!Number.isInteger(opts.ownerCacheSize) || opts.ownerCacheSize < 1) {
      throw new FalconerError('CONFIG_INVALID', 'ownerCacheSize must be a positive integer', {
        ownerCacheSize: opts.ownerCacheSize,
      });
    }
    const { startHour, endHour } = opts.officeHours;
    if (!(startHour >= 0 && startHour < endHour && endHour <= 24)) {
      throw new FalconerError('CONFIG_INVALID', 'office hours must satisfy 0 <= startHour < endHour <= 24', {
        startHour,
        endHour,
      });
    }
    if (!Number.isInteger(opts.utcOffsetMinutes) || Math.abs(opts.utcOffsetMinutes) > 14 * 60) {
      throw new FalconerError('CONFIG_INVALID', 'utcOffsetMinutes must be an integer within ±840', {
        utcOffsetMinutes: opts.utcOffsetMinutes,
      });
    }
    this.offsetMs = opts.utcOffsetMinutes * 60_000;
    this.options = Object.freeze(opts);
    this.recentSketch = new DecayedCountMinSketch({
      width: RECENT_SKETCH_WIDTH,
      depth: 4,
      halfLifeMs: opts.recentHalfLifeMs,
      totals: 0,
    });
    this.sketch = new DecayedCountMinSketch({
      width: opts.sketchWidth,
      depth: opts.sketchDepth,
      halfLifeMs: opts.halfLifeMs,
      totals: TOTALS,
    });
  }

  /** Events learnt so far. */
  get eventsLearned(): number {
    return this.learned;
  }

  /** Estimated bytes of state now (sketch + owner cache). */
  stateBytes(): number {
    return (
      this.sketch.bytes +
      this.recentSketch.bytes +
      this.owners.size * OWNER_ENTRY_OVERHEAD +
      this.ownerKeyChars * 2 +
      this.commandEntries * COMMAND_ENTRY_OVERHEAD +
      this.commandChars * 2 +
      // Each identity entry may also hold a command line and a user name (its sub-memos).
      this.identityEntries *
        (IDENTITY_ENTRY_OVERHEAD + (MAX_CACHED_COMMAND_LENGTH + MAX_CACHED_USER_LENGTH) * 2) +
      this.identityChars * 2
    );
  }

  /** The most stateBytes() can ever be with these options: the documented memory bound. */
  get maxStateBytes(): number {
    return (
      this.sketch.bytes +
      this.recentSketch.bytes +
      this.options.ownerCacheSize * (OWNER_ENTRY_OVERHEAD + MAX_CACHED_KEY_LENGTH * 2) +
      COMMAND_CACHE_SIZE * (COMMAND_ENTRY_OVERHEAD + MAX_CACHED_COMMAND_LENGTH * 2) +
      IDENTITY_CACHE_SIZE *
        (IDENTITY_ENTRY_OVERHEAD +
          (MAX_CACHED_IDENTITY_CHARS + MAX_CACHED_COMMAND_LENGTH + MAX_CACHED_USER_LENGTH) * 2)
    );
  }

  /** Owner cache entries (bounded by ownerCacheSize). */
  get ownerCacheEntries(): number {
    return this.owners.size;
  }

  /**
   * Features of `ev` against the state before it, written into `out` (by
   * default a buffer owned by the featurizer and overwritten by the next
   * call: copy it to keep it). With `learn` (default) the event is then counted.
   */
  featurize(ev: NormalizedEvent, out: Float64Array = this.buffer, learn = true): Float64Array {
    this.plan(ev, out, PLAN_SLOTS);
    return this.complete(PLAN_SLOTS, out, learn);
  }

  /**
   * First half of featurize(): everything that does not depend on what was learnt (field reads,
   * hashes, the features that are not counts), into `out` and plan slot `slot` (0 <= slot <
   * PLAN_SLOTS). A caller featurizing a batch plans a few events ahead, then completes them in
   * order with complete(): the same features as featurize() one by one, since planning reads no
   * learnt state, while the sketch reads of consecutive events sit together in a short loop.
   */
  plan(ev: NormalizedEvent, out: Float64Array, slot: number): void {
    if (out.length < FEATURE_COUNT) {
      throw new FalconerError('USAGE', 'feature buffer is shorter than the feature schema', {
        length: out.length,
        expected: FEATURE_COUNT,
      });
    }
    if (!(slot >= 0 && slot <= PLAN_SLOTS)) {
      throw new FalconerError('USAGE', 'plan slot out of range', { slot, slots: PLAN_SLOTS });
    }
    const fields = ev.fields;
    this.planTime[slot] = ev.timeMs;
    this.planBase = slot * MAX_KEYS;
    this.nPlanned = 0;
    // A syscall event with a process (almost all of them): its identity keys come from the memo.
    if (ev.source !== 'k8s_audit') {
      const procName = usable(fields['proc.name']);
      if (procName !== undefined) {
        this.planProcessEvent(ev, fields, procName, out, slot);
        return;
      }
    }

    // An API request's actor is its user (a service account is a workload's identity); a syscall's is its workload.
    const auditUser = ev.source === 'k8s_audit' ? usable(fields['ka.user.name']) : undefined;
    // One owner-cache lookup per event at most (the image hash comes from the same entry).
    let workloadHashes: WorkloadHashes | undefined;
    let owner: number;
    if (auditUser !== undefined) owner = hashString(auditUser, S_OWNER_USER);
    else {
      workloadHashes = this.workloadHashes(ev.workload);
      owner = workloadHashes.owner;
    }
    const ownerTotalKey = hashInt(owner, S_OWNER_TOTAL);
    // Read first: the denominator of every owner novelty.
    this.want(ownerTotalKey, -1, -1);

    // Rule: globally and for this owner.
    const ruleKey = hashString(ev.rule, S_RULE);
    this.want(ruleKey, F_RULE_RARITY, T_RULE);
    const ownerRuleKey = hashInt(owner, hashInt(ruleKey, S_OWNER_RULE));
    this.want(ownerRuleKey, F_OWNER_RULE_NOVELTY, OWNER_TOTAL);

    // Process (syscall) or API action (k8s_audit: verb + resource), its parent / actor, its image.
    let processHash = -1;
    let parentHash = -1;
    const procName = usable(fields['proc.name']);
    if (procName !== undefined) {
      processHash = hashString(procName);
      const pname = usable(fields['proc.pname']);
      parentHash = pname === undefined ? 0 : hashString(pname);
    } else if (ev.source === 'k8s_audit') {
      // The API action: verb and resource when the rule's output carries them, else the rule (which names the action).
      const verb = usable(fields['ka.verb']);
      if (verb !== undefined) {
        const resource = usable(fields['ka.target.resource']) ?? '';
        const sub = usable(fields['ka.target.subresource']) ?? '';
        processHash = hashString(
          sub,
          hashInt(0x2f, hashString(resource, hashInt(0x20, hashString(verb, S_AUDIT_ACTION)))),
        );
      } else {
        processHash = hashString(ev.rule, S_AUDIT_ACTION);
      }
      parentHash = auditUser === undefined ? 0 : hashString(auditUser);
    }
    if (processHash >= 0) {
      const processKey = hashInt(processHash, S_PROCESS);
      this.want(processKey, F_PROCESS_RARITY, T_PROCESS);
      const lineageKey = hashInt(processHash, hashInt(ARROW, hashInt(parentHash, S_LINEAGE)));
      this.want(lineageKey, F_LINEAGE_RARITY, T_LINEAGE);
      const ownerProcessKey = hashInt(owner, hashInt(processKey, S_OWNER_PROCESS));
      this.want(ownerProcessKey, F_OWNER_PROCESS_NOVELTY, OWNER_TOTAL);
      const ownerLineageKey = hashInt(owner, hashInt(lineageKey, S_OWNER_LINEAGE));
      this.want(ownerLineageKey, F_OWNER_LINEAGE_NOVELTY, OWNER_TOTAL);
      const imageBase = this.imageHash(workloadHashes ?? this.workloadHashes(ev.workload), fields);
      if (imageBase >= 0) {
        const imageProcessKey = hashInt(processHash, imageBase);
        this.want(imageProcessKey, F_IMAGE_PROCESS_RARITY, T_IMAGE_PROCESS);
      } else {
        out[F_IMAGE_PROCESS_RARITY] = 0;
      }
    } else {
      out[F_PROCESS_RARITY] = 0;
      out[F_LINEAGE_RARITY] = 0;
      out[F_OWNER_PROCESS_NOVELTY] = 0;
      out[F_OWNER_LINEAGE_NOVELTY] = 0;
      out[F_IMAGE_PROCESS_RARITY] = 0;
    }

    // Network connection: server port and remote address class, globally; the (class, port) pair for this owner.
    const peer = this.peer;
    if (extractPeer(fields, peer)) {
      // Direction is part of every key: serving on 443 and calling out to 443 are different behaviours.
      const cls = ADDRESS_CLASS_INDEX[peer.cls] + (peer.inbound ? 16 : 0);
      const portKey = hashInt(peer.port, hashInt(peer.inbound ? 1 : 0, S_PORT));
      const classKey = hashInt(cls, S_CLASS);
      this.want(portKey, F_DEST_PORT_RARITY, T_PORT);
      this.want(classKey, F_DEST_CLASS_RARITY, T_CLASS);
      const ownerDestKey = hashInt(owner, hashInt(peer.port, hashInt(cls, S_OWNER_DEST)));
      this.want(ownerDestKey, F_OWNER_DEST_NOVELTY, OWNER_TOTAL);
    } else {
      out[F_DEST_PORT_RARITY] = 0;
      out[F_DEST_CLASS_RARITY] = 0;
      out[F_OWNER_DEST_NOVELTY] = 0;
    }

    // Short-term repetition: the same owner doing the same thing (rule, program, parent) again within minutes.
    this.planRecentKey[slot] = hashInt(
      owner,
      hashInt(ruleKey, hashInt(processHash, hashInt(parentHash, S_OWNER_RECENT))),
    );

    this.planPath(fields, out);

    // User (container user, or the API user for k8s_audit).
    const user = usable(fields['user.name']) ?? usable(fields['ka.user.name']);
    if (user !== undefined) {
      const userKey = hashString(user, S_USER);
      this.want(userKey, F_USER_RARITY, T_USER);
    } else {
      out[F_USER_RARITY] = 0;
    }

    out[F_PRIORITY_SEVERITY] = prioritySeverity(ev.priorityLevel);

    // Command line: payloads (base64, one-liners) are long and dense.
    const cmdline = usable(fields['proc.cmdline']);
    if (cmdline !== undefined) {
      const stats = this.commandStats(cmdline);
      out[F_CMDLINE_LENGTH] = stats.lengthBits;
      out[F_CMDLINE_ENTROPY] = stats.entropy;
      const commandKey = stats.shapeKey;
      this.want(commandKey, F_COMMAND_RARITY, T_COMMAND);
      const ownerCommandKey = hashInt(owner, hashInt(commandKey, S_OWNER_COMMAND));
      this.want(ownerCommandKey, F_OWNER_COMMAND_NOVELTY, OWNER_TOTAL);
    } else {
      out[F_CMDLINE_LENGTH] = 0;
      out[F_CMDLINE_ENTROPY] = 0;
      out[F_COMMAND_RARITY] = 0;
      out[F_OWNER_COMMAND_NOVELTY] = 0;
    }
    this.planKeys[slot] = this.nPlanned;
  }

  /**
   * plan() of a non-audit event with a process: the same keys in the same order as the general
   * path, taken from the identity memo (see identityPlan) instead of hashed again.
   */
  private planProcessEvent(
    ev: NormalizedEvent,
    fields: Fields,
    procName: string,
    out: Float64Array,
    slot: number,
  ): void {
    const wh = this.workloadHashes(ev.workload);
    const id = this.identityPlan(wh, ev.rule, procName, usable(fields['proc.pname']));
    const owner = wh.owner;
    this.wantMixed(id.ownerTotal, -1, -1);
    this.wantMixed(id.rule, F_RULE_RARITY, T_RULE);
    this.wantMixed(id.ownerRule, F_OWNER_RULE_NOVELTY, OWNER_TOTAL);
    this.wantMixed(id.process, F_PROCESS_RARITY, T_PROCESS);
    this.wantMixed(id.lineage, F_LINEAGE_RARITY, T_LINEAGE);
    this.wantMixed(id.ownerProcess, F_OWNER_PROCESS_NOVELTY, OWNER_TOTAL);
    this.wantMixed(id.ownerLineage, F_OWNER_LINEAGE_NOVELTY, OWNER_TOTAL);
    if (id.imageProcess !== -1) {
      this.wantMixed(id.imageProcess, F_IMAGE_PROCESS_RARITY, T_IMAGE_PROCESS);
    } else {
      // No image on the workload: container.image.repository of the event, if any (not memoized).
      const imageBase = this.imageHash(wh, fields);
      if (imageBase >= 0) {
        this.want(hashInt(id.processHash, imageBase), F_IMAGE_PROCESS_RARITY, T_IMAGE_PROCESS);
      } else {
        out[F_IMAGE_PROCESS_RARITY] = 0;
      }
    }

    const peer = this.peer;
    if (extractPeer(fields, peer)) {
      const cls = ADDRESS_CLASS_INDEX[peer.cls] + (peer.inbound ? 16 : 0);
      const port = peer.port;
      if (id.peerPort !== port || id.peerCode !== cls) {
        id.portKey = mix32(hashInt(port, hashInt(peer.inbound ? 1 : 0, S_PORT)));
        id.classKey = mix32(hashInt(cls, S_CLASS));
        id.ownerDest = mix32(hashInt(owner, hashInt(port, hashInt(cls, S_OWNER_DEST))));
        id.peerPort = port;
        id.peerCode = cls;
      }
      this.wantMixed(id.portKey, F_DEST_PORT_RARITY, T_PORT);
      this.wantMixed(id.classKey, F_DEST_CLASS_RARITY, T_CLASS);
      this.wantMixed(id.ownerDest, F_OWNER_DEST_NOVELTY, OWNER_TOTAL);
    } else {
      out[F_DEST_PORT_RARITY] = 0;
      out[F_DEST_CLASS_RARITY] = 0;
      out[F_OWNER_DEST_NOVELTY] = 0;
    }

    this.planRecentKey[slot] = id.recent;
    this.planPath(fields, out);

    const user = usable(fields['user.name']) ?? usable(fields['ka.user.name']);
    if (user !== undefined) {
      if (user !== id.user) {
        id.userKey = mix32(hashString(user, S_USER));
        // Short names only: the memo's size stays bounded.
        id.user = user.length <= MAX_CACHED_USER_LENGTH ? user : undefined;
      }
      this.wantMixed(id.userKey, F_USER_RARITY, T_USER);
    } else {
      out[F_USER_RARITY] = 0;
    }

    out[F_PRIORITY_SEVERITY] = prioritySeverity(ev.priorityLevel);

    const cmdline = usable(fields['proc.cmdline']);
    if (cmdline !== undefined) {
      let stats = id.command;
      if (stats === undefined || stats.text !== cmdline) {
        stats = this.commandStats(cmdline);
        id.commandKey = mix32(stats.shapeKey);
        id.ownerCommand = mix32(hashInt(owner, hashInt(stats.shapeKey, S_OWNER_COMMAND)));
        id.command = cmdline.length <= MAX_CACHED_COMMAND_LENGTH ? stats : undefined;
      }
      out[F_CMDLINE_LENGTH] = stats.lengthBits;
      out[F_CMDLINE_ENTROPY] = stats.entropy;
      this.wantMixed(id.commandKey, F_COMMAND_RARITY, T_COMMAND);
      this.wantMixed(id.ownerCommand, F_OWNER_COMMAND_NOVELTY, OWNER_TOTAL);
    } else {
      out[F_CMDLINE_LENGTH] = 0;
      out[F_CMDLINE_ENTROPY] = 0;
      out[F_COMMAND_RARITY] = 0;
      out[F_OWNER_COMMAND_NOVELTY] = 0;
    }
    this.planKeys[slot] = this.nPlanned;
  }

  /** File-path prefix (fd.name when it is a path, else fs.path.name). */
  private planPath(fields: Fields, out: Float64Array): void {
    let path = usable(fields['fd.name']);
    if (path === undefined || path.charCodeAt(0) !== 47) path = usable(fields['fs.path.name']);
    if (path !== undefined && path.charCodeAt(0) === 47) {
      const pathKey = hashPathPrefix(path, S_PATH);
      this.want(pathKey, F_PATH_PREFIX_RARITY, T_PATH);
    } else {
      out[F_PATH_PREFIX_RARITY] = 0;
    }
  }

  /**
   * The identity keys of (workload, rule, process, parent), from a two-way set-associative memo
   * whose set comes from the owner hash and the strings' lengths and a few characters (no scan of
   * the text): a hit compares the owner and image hashes and the three strings. Replicas of one
   * owner (a Deployment's or DaemonSet's pods) share their entries.
   * Tuples longer than MAX_CACHED_IDENTITY_CHARS in all are computed and not kept.
   */
  private identityPlan(
    wh: WorkloadHashes,
    rule: string,
    procName: string,
    pname: string | undefined,
  ): IdentityPlan {
    const pnameLength = pname === undefined ? 0 : pname.length;
    const ids = this.identities;
    const way0 = identitySet(wh.owner, rule, procName, pname, pnameLength) << 1;
    const first = ids[way0];
    if (
      first !== undefined &&
      first.owner === wh.owner &&
      first.image === wh.image &&
      first.ruleText === rule &&
      first.procName === procName &&
      first.pname === pname
    )
      return first;
    const second = ids[way0 + 1];
    if (
      second !== undefined &&
      second.owner === wh.owner &&
      second.image === wh.image &&
      second.ruleText === rule &&
      second.procName === procName &&
      second.pname === pname
    ) {
      // Most recent first, so that the next lookup of this tuple hits the first way.
      ids[way0] = second;
      ids[way0 + 1] = first;
      return second;
    }
    const id = new IdentityPlan(wh.owner, wh.image, rule, procName, pname);
    const owner = wh.owner;
    const ruleKey = hashString(rule, S_RULE);
    const processHash = hashString(procName);
    const parentHash = pname === undefined ? 0 : hashString(pname);
    const processKey = hashInt(processHash, S_PROCESS);
    const lineageKey = hashInt(processHash, hashInt(ARROW, hashInt(parentHash, S_LINEAGE)));
    id.ownerTotal = mix32(hashInt(owner, S_OWNER_TOTAL));
    id.rule = mix32(ruleKey);
    id.ownerRule = mix32(hashInt(owner, hashInt(ruleKey, S_OWNER_RULE)));
    id.process = mix32(processKey);
    id.lineage = mix32(lineageKey);
    id.ownerProcess = mix32(hashInt(owner, hashInt(processKey, S_OWNER_PROCESS)));
    id.ownerLineage = mix32(hashInt(owner, hashInt(lineageKey, S_OWNER_LINEAGE)));
    id.imageProcess = wh.image >= 0 ? mix32(hashInt(processHash, wh.image)) : -1;
    id.processHash = processHash;
    id.recent = hashInt(owner, hashInt(ruleKey, hashInt(processHash, hashInt(parentHash, S_OWNER_RECENT))));
    const chars = rule.length + procName.length + pnameLength;
    if (chars <= MAX_CACHED_IDENTITY_CHARS) {
      if (second !== undefined) {
        this.identityEntries--;
        this.identityChars -= identityChars(second);
      }
      ids[way0 + 1] = first;
      ids[way0] = id;
      this.identityEntries++;
      this.identityChars += chars;
    }
    return id;
  }

  /**
   * Second half of featurize() for the event planned in `slot` into `out`: moves the clocks, reads
   * the planned keys (the counts), writes the count features and the aggregates, and with `learn`
   * counts the event. Events must be completed in stream order, each exactly once after its plan.
   */
  complete(slot: number, out: Float64Array, learn = true): Float64Array {
    const sketch = this.sketch;
    const recentSketch = this.recentSketch;
    const clock = sketch.clockMs;
    const evTime = this.planTime[slot]!;
    const timeMs = Number.isFinite(evTime) ? evTime : Number.isFinite(clock) ? clock : 0;
    const weight = sketch.advance(timeMs);

    const recentKey = this.planRecentKey[slot]!;
    const recentWeight = recentSketch.advance(timeMs);
    const recentScaled = recentSketch.scaledCount(recentKey);
    out[F_OWNER_RECENT_REPEAT] = Math.log2(1 + recentScaled * recentSketch.scale);

    // Outside office hours (piecewise constant on purpose: see docs/features.md).
    out[F_OFF_HOURS] = this.isOffHours(timeMs) ? 1 : 0;

    // Every planned key read in one tight loop, so that the cache misses of the (megabytes-large)
    // sketch overlap instead of queueing behind each feature's arithmetic.
    const base = slot * MAX_KEYS;
    const n = this.planKeys[slot]!;
    const mixed = this.planMixed;
    const scaled = this.scaledReads;
    for (let i = 0; i < n; i++) scaled[i] = sketch.scaledCountMixed(mixed[base + i]!);
    const scale = sketch.scale;
    const ownerTotal = scaled[0]! * scale;
    const features = this.planFeature;
    const totals = this.planTotal;
    // The logarithms computed for this event so far: about a quarter of an event's ratios repeat
    // one of them (an owner's novelties share the owner total and often the count), and a
    // comparison is much cheaper than Math.log. Same value either way.
    const ratios = this.logRatios;
    const logs = this.logValues;
    let known = 0;
    for (let i = 1; i < n; i++) {
      const t = totals[base + i]!;
      // Rarity of a value whose decayed count is c among `total` events: −ln of its smoothed frequency.
      const total = t === OWNER_TOTAL ? ownerTotal : sketch.total(t);
      const ratio = (total + 1) / (scaled[i]! * scale + 1);
      // A value as common as its total (an owner's usual process or command) has ratio 1 and
      // rarity 0, exactly what Math.log(1) gives: skip the call for those.
      let rarity = 0;
      if (ratio !== 1) {
        let k = known - 1;
        while (k >= 0 && ratios[k] !== ratio) k--;
        if (k >= 0) rarity = logs[k]!;
        else {
          rarity = Math.log(ratio);
          ratios[known] = ratio;
          logs[known++] = rarity;
        }
      }
      out[features[base + i]!] = rarity;
    }

    // Aggregates: one dimension in which anything strongly rare (or new for its owner) is extreme,
    // so a random split has more than one chance to isolate it (see docs/features.md).
    out[F_RARITY_MAX] = Math.max(
      out[F_RULE_RARITY]!,
      out[F_PROCESS_RARITY]!,
      out[F_LINEAGE_RARITY]!,
      out[F_IMAGE_PROCESS_RARITY]!,
      out[F_DEST_PORT_RARITY]!,
      out[F_DEST_CLASS_RARITY]!,
      out[F_PATH_PREFIX_RARITY]!,
      out[F_USER_RARITY]!,
      out[F_COMMAND_RARITY]!,
    );
    out[F_NOVELTY_MAX] = Math.max(
      out[F_OWNER_RULE_NOVELTY]!,
      out[F_OWNER_PROCESS_NOVELTY]!,
      out[F_OWNER_LINEAGE_NOVELTY]!,
      out[F_OWNER_DEST_NOVELTY]!,
      out[F_OWNER_COMMAND_NOVELTY]!,
    );

    if (learn) {
      for (let i = 0; i < n; i++) sketch.addMixed(mixed[base + i]!, weight, scaled[i]!);
      // Each count feature has its exact total (the owner total is a sketch key like the others).
      for (let i = 1; i < n; i++) {
        const t = totals[base + i]!;
        if (t !== OWNER_TOTAL) sketch.addTotal(t, weight);
      }
      recentSketch.add(recentKey, recentWeight, recentScaled);
      this.learned++;
    }
    return out;
  }

  private isOffHours(timeMs: number): boolean {
    const local = timeMs + this.offsetMs;
    const day = Math.floor(local / MS_PER_DAY);
    // 1970-01-01 was a Thursday: (day + 4) % 7 gives 0 = Sunday … 6 = Saturday. In 32-bit integers
    // when the day fits (any real event time): a floating-point % is a library call.
    const dayInt = day | 0;
    let weekday: number;
    if (dayInt === day) {
      weekday = (dayInt + 4) % 7;
      if (weekday < 0) weekday += 7;
    } else {
      weekday = (((day + 4) % 7) + 7) % 7;
    }
    if (weekday === 0 || weekday === 6) return true;
    const hour = (local - day * MS_PER_DAY) / MS_PER_HOUR;
    return hour < this.options.officeHours.startHour || hour >= this.options.officeHours.endHour;
  }

  /**
   * Starts fetching the sketch cells of the event planned in `slot` (a read whose value is only
   * accumulated, so the memory loads overlap with the work on the event before it). Changes nothing.
   */
  prefetch(slot: number): void {
    const base = slot * MAX_KEYS;
    const n = this.planKeys[slot]!;
    const mixed = this.planMixed;
    const sketch = this.sketch;
    let sink = this.recentSketch.peekMixed(mix32(this.planRecentKey[slot]!));
    for (let i = 0; i < n; i++) sink += sketch.peekMixed(mixed[base + i]!);
    this.prefetchSink = sink;
  }

  /**
   * Reads the parts of `ev` that plan() reads first (the event, its fields and their most used
   * values) and returns a number to accumulate, so that a caller can bring several events into the
   * cache together before planning them. Changes nothing.
   */
  touch(ev: NormalizedEvent): number {
    const fields = ev.fields;
    const proc = fields['proc.name'];
    const name = fields['fd.name'];
    return (
      ev.timeMs +
      ev.rule.length +
      (typeof proc === 'string' ? proc.length : 0) +
      (typeof name === 'string' ? name.length : 0)
    );
  }

  /**
   * Plans a sketch read whose rarity goes to feature `feature` (-1: none) against total
   * `totalIndex` (OWNER_TOTAL: the owner's count, the first read). The key is also learnt.
   */
  private want(key: number, feature: number, totalIndex: number): void {
    this.wantMixed(mix32(key), feature, totalIndex);
  }

  /** want() of a key already mixed (mix32). */
  private wantMixed(mixed: number, feature: number, totalIndex: number): void {
    const i = this.planBase + this.nPlanned++;
    this.planMixed[i] = mixed;
    this.planFeature[i] = feature;
    this.planTotal[i] = totalIndex;
  }

  /**
   * Length, entropy and shape hash of a command line: pure functions of the
   * string, memoized because the same command lines recur (probes, cron jobs,
   * daemons) and one Map lookup is cheaper than two character scans.
   */
  private commandStats(cmdline: string): CommandStats {
    // A two-way set-associative table whose set comes from a cheap sample of the text, rather than
    // a Map: a Map hashes every character of each event's fresh string before it can compare.
    const commands = this.commands;
    const way0 = commandSet(cmdline) << 1;
    const first = commands[way0];
    if (first !== undefined && first.text === cmdline) return first;
    const second = commands[way0 + 1];
    if (second !== undefined && second.text === cmdline) return second;
    const stats: CommandStats = {
      text: cmdline,
      lengthBits: Math.log2(1 + cmdline.length),
      entropy: shannonEntropy(cmdline),
      shapeKey: hashCommandShape(cmdline, S_COMMAND),
    };
    if (cmdline.length <= MAX_CACHED_COMMAND_LENGTH) {
      // The newest line takes way 0, the previous one moves to way 1, the older one is dropped.
      if (second !== undefined) {
        this.commandEntries--;
        this.commandChars -= second.text.length;
      }
      commands[way0 + 1] = first;
      commands[way0] = stats;
      this.commandEntries++;
      this.commandChars += cmdline.length;
    }
    return stats;
  }

  /**
   * Forgets the memos of pure values (identity keys, command-line statistics, workload owners);
   * features do not change, they are only computed again. Tests use it to check the memos.
   */
  clearMemos(): void {
    this.owners.clear();
    this.ownerKeyChars = 0;
    this.commands.fill(undefined);
    this.commandEntries = 0;
    this.commandChars = 0;
    this.identities.fill(undefined);
    this.identityEntries = 0;
    this.identityChars = 0;
  }

  /** Forgets everything learnt (the owner cache too). */
  reset(): void {
    this.sketch.clear();
    this.recentSketch.clear();
    this.clearMemos();
    this.learned = 0;
  }

  /** Per-workload hashes (owner, image), computed once per workload key while it stays cached. */
  private workloadHashes(w: Workload): WorkloadHashes {
    const cached = this.owners.get(w.key);
    // The key names the pod; the owner and image also depend on the container, so check those too.
    if (cached !== undefined && cached.container === w.container && cached.imageName === w.image)
      return cached;
    const image = w.image;
    const h: WorkloadHashes = {
      owner: hashString(ownerKey(w), S_OWNER),
      image: image === undefined ? -1 : hashImageRepo(image, S_IMAGE_PROCESS),
      container: w.container,
      imageName: image,
    };
    if (w.key.length <= MAX_CACHED_KEY_LENGTH) {
      if (this.owners.size >= this.options.ownerCacheSize) {
        // Clearing (rather than LRU) keeps the hot path to one Map lookup; entries are recomputed on demand.
        this.owners.clear();
        this.ownerKeyChars = 0;
      }
      this.owners.set(w.key, h);
      this.ownerKeyChars += w.key.length;
    }
    return h;
  }

  /** Hash of the workload's image repository (tag dropped), else of container.image.repository; -1 without one. */
  private imageHash(wh: WorkloadHashes, fields: Fields): number {
    const h = wh.image;
    if (h >= 0) return h;
    const repo = usable(fields['container.image.repository']);
    return repo === undefined ? -1 : hashImageRepo(repo, S_IMAGE_PROCESS);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
