import { PRIORITIES, type Priority } from './types.ts';

/**
 * Falco parses priorities case-insensitively and accepts "info" for Informational
 * (falco_common::parse_priority); falcosidekick lower-cases them too. We accept the same set.
 */
const BY_LOWER = new Map<string, Priority>([
  ...PRIORITIES.map((p) => [p.toLowerCase(), p] as const),
  ['info', 'Informational'],
]);

const LEVEL = new Map<Priority, number>(PRIORITIES.map((p, i) => [p, i] as const));

/** The canonical Falco priority for any accepted spelling, or undefined. */
export function parsePriority(value: string): Priority | undefined {
  // Falco itself writes the canonical spelling, so try the exact match first (no allocation).
  switch (value) {
    case 'Emergency':
    case 'Alert':
    case 'Critical':
    case 'Error':
    case 'Warning':
    case 'Notice':
    case 'Informational':
    case 'Debug':
      return value;
  }
  if (value.length > 13) return undefined;
  return BY_LOWER.get(value.toLowerCase());
}

/** 0 = Emergency … 7 = Debug, Falco's own order. */
export function priorityLevel(priority: Priority): number {
  // A switch rather than the map: this runs for every event.
  switch (priority) {
    case 'Emergency':
      return 0;
    case 'Alert':
      return 1;
    case 'Critical':
      return 2;
    case 'Error':
      return 3;
    case 'Warning':
      return 4;
    case 'Notice':
      return 5;
    case 'Informational':
      return 6;
    case 'Debug':
      return 7;
  }
  return LEVEL.get(priority) ?? PRIORITIES.length - 1;
}
