/** What every chat format shows about a notification, computed once (pure). */
import type { NotifyInput, Severity } from '../contracts.ts';
import { safeUrl } from './escape.ts';

export const SEVERITY_COLOURS: Readonly<Record<Severity, string>> = {
  low: '#2eb886',
  medium: '#daa038',
  high: '#e8590c',
  critical: '#a30200',
};

const TITLES: Readonly<Record<NotifyInput['kind'], string>> = {
  'incident.opened': 'Incident opened',
  'incident.analysed': 'Incident analysed',
  'actions.proposed': 'Actions proposed',
  'approval.needed': 'Approval needed',
  'remediation.started': 'Remediation started',
  'incident.resolved': 'Incident resolved',
  'incident.dismissed': 'Incident dismissed',
  'incident.updated': 'New activity on incident',
};

export interface ProposalView {
  readonly id: string;
  readonly kind: string;
  /** namespace/pod or namespace/image, untrusted. */
  readonly target: string;
  readonly approveUrl: string | undefined;
  readonly rejectUrl: string | undefined;
  readonly dryRun: boolean;
  readonly requiresApproval: boolean;
}

export interface NotificationView {
  readonly title: string;
  readonly severity: Severity;
  readonly colour: string;
  readonly incidentId: string;
  /** Untrusted (from events). */
  readonly workload: string;
  readonly image: string | undefined;
  readonly verdict: string | undefined;
  readonly confidence: number | undefined;
  readonly techniques: string | undefined;
  /** Untrusted (analysis of attacker data). */
  readonly explanation: string | undefined;
  /** incident.updated: the rules of the signal that joined (untrusted). */
  readonly newActivity: string | undefined;
  readonly proposals: readonly ProposalView[];
  readonly incidentUrl: string | undefined;
}

export function viewOf(n: NotifyInput): NotificationView {
  const severity = n.analysis?.severity ?? n.incident.severity;
  const w = n.incident.workload;
  const workload = w.namespace !== undefined && w.pod !== undefined ? `${w.namespace}/${w.pod}` : w.key;
  return {
    title: TITLES[n.kind],
    severity,
    colour: SEVERITY_COLOURS[severity],
    incidentId: n.incident.id,
    workload,
    image: w.image,
    verdict: n.analysis?.verdict,
    confidence: n.analysis?.confidence,
    techniques:
      n.analysis === undefined || n.analysis.techniques.length === 0
        ? undefined
        : n.analysis.techniques.map((t) => `${t.id} ${t.name}`).join(', '),
    explanation: n.analysis?.explanation,
    newActivity: n.update === undefined ? undefined : n.update.rules.join(', '),
    proposals: n.proposals.map((p) => {
      const links = n.links[p.id];
      return {
        id: p.id,
        kind: p.kind,
        target: [p.target.namespace, p.target.pod ?? p.target.image ?? p.target.ownerName ?? '']
          .filter(Boolean)
          .join('/'),
        approveUrl: links === undefined ? undefined : safeUrl(links.approve),
        rejectUrl: links === undefined ? undefined : safeUrl(links.reject),
        dryRun: p.dryRun,
        requiresApproval: p.decision?.requiresApproval ?? true,
      };
    }),
    incidentUrl: n.incidentUrl === undefined ? undefined : safeUrl(n.incidentUrl),
  };
}
