/**
 * A workload's *owner*: the stable thing that pods are replicas of. Pods are
 * ephemeral (web-7d4b9c8f6d-x2k9p lives minutes), so a baseline per pod never
 * learns; a baseline per Deployment / StatefulSet / DaemonSet / Job does.
 * Kubernetes names generated pods `<owner>-<template hash>-<5 random>`,
 * `<owner>-<5 random>` or `<owner>-<ordinal>`; the random parts use the
 * vowel-free alphabet below, so ordinary words are not mistaken for suffixes.
 */
import type { Workload } from '../events/types.ts';

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function isSafeRandom(seg: string, min: number, max: number): boolean {
  if (seg.length < min || seg.length > max) return false;
  for (let i = 0; i < seg.length; i++) if (!SAFE_ALPHABET.includes(seg[i]!)) return false;
  return true;
}

function isDigits(seg: string, min: number): boolean {
  if (seg.length < min) return false;
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Strips Kubernetes' generated suffixes from a pod name: web-7d4b9c8f6d-x2k9p → web, db-0 → db. */
export function podOwnerName(pod: string): string {
  const segs = pod.split('-');
  if (segs.length < 2) return pod;
  const last = segs[segs.length - 1]!;
  if (isSafeRandom(last, 5, 5)) {
    segs.pop();
    // ReplicaSet pod-template hash, or a CronJob's scheduled-minute stamp.
    const prev = segs[segs.length - 1]!;
    if (segs.length >= 2 && (isSafeRandom(prev, 6, 10) || isDigits(prev, 6))) segs.pop();
  } else if (isDigits(last, 1)) {
    segs.pop(); // StatefulSet ordinal
  }
  return segs.join('-');
}

/** The owner key of a workload: namespace/owner[/container], else namespace/image, else the host. */
export function ownerKey(w: Workload): string {
  const ns = w.namespace ?? '';
  if (w.pod) return `pod:${ns}/${podOwnerName(w.pod)}${w.container ? `/${w.container}` : ''}`;
  if (w.image) return `img:${ns}/${w.image}`;
  if (w.container) return `ctr:${w.container}`;
  return `host:${w.host}`;
}
