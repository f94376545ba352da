export { redactSecrets, REDACTION_RULES, type RedactionRule } from './redact.ts';
export {
  Fencer,
  FENCE_TAG,
  fenceProblems,
  neutralizeMarkers,
  sanitizeUntrusted,
  stripInvisible,
  truncateText,
  type FencerOptions,
} from './fence.ts';
