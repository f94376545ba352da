/** Every background activity of a scenario. Steady shares are relative weights of --rate (normalized at run time). */
import type { BackgroundActivity } from './activity.ts';
import { adminSessions } from './admins.ts';
import { nightlyBatch } from './batch.ts';
import { ciPipelines } from './ci.ts';
import { hostPathReads, k8sApiClients, metadataClients, rollouts, secretReads } from './platform.ts';
import { appInbound, appOutbound, paymentsEgress, tracingUdp, walArchive } from './services.ts';

export const BACKGROUND_ACTIVITIES: readonly BackgroundActivity[] = [
  appOutbound,
  appInbound,
  walArchive,
  paymentsEgress,
  tracingUdp,
  k8sApiClients,
  secretReads,
  hostPathReads,
  metadataClients,
  rollouts,
  adminSessions,
  ciPipelines,
  nightlyBatch,
];
