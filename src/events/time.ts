/**
 * RFC 3339 date-time parsing, written by hand because it is on the hot path and
 * must also reject what Date.parse would leniently accept ("2024-02-30", no zone…).
 *
 * Falco writes `2016-08-04T16:17:57.881781397Z` (always 9 fraction digits, UTC);
 * falcosidekick re-serializes with Go's RFC3339Nano (trailing zeros dropped, any
 * offset). Both are RFC 3339 `date-time`: up to 9 fraction digits accepted here.
 */

const MAX_FRACTION_DIGITS = 9;
/** 400 Gregorian years are exactly 146,097 days. */
const MS_PER_400_YEARS = 146_097 * 86_400_000;

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Epoch milliseconds of an RFC 3339 date-time (sub-millisecond digits truncated),
 * or NaN when `s` is not one. A leap second (:60) is accepted and lands on the next second.
 */
export function parseRfc3339(s: string): number {
  // Validation and normalization parse the same string back to back: remember the last one.
  if (s === lastText) return lastMs;
  const ms = parse(s);
  lastText = s;
  lastMs = ms;
  return ms;
}

let lastText = '';
let lastMs = NaN;

/**
 * parseRfc3339 without its one-entry memo, for a caller that parses each string once (the fast
 * validator): the memo's check compares the new string with the last one, character by character
 * up to where they differ (the seconds), for nothing.
 */
export function parseRfc3339Once(s: string): number {
  return parse(s);
}

/**
 * The last minute parsed: the character codes of its first 16 characters ("YYYY-MM-DDTHH:MM",
 * already validated) and the epoch ms of that minute. A stream's times share their minute for many
 * events in a row, so most parses only read the seconds, the fraction and the zone. Exact: Date.UTC
 * adds whole milliseconds. Codes rather than the 16-character slice: V8 makes such a slice a view
 * of the whole string, whose characters are slower to read (and which it keeps alive).
 */
const MINUTE_PREFIX = 16;
const minuteCodes = new Uint16Array(MINUTE_PREFIX);
let minuteKnown = false;
let minuteMs = NaN;

/**
 * Whether `s` (at least 20 characters) starts with the last minute parsed. A charCodeAt loop rather
 * than startsWith: the optimizing compiler inlines it, where startsWith is a builtin call.
 */
function sameMinute(s: string): boolean {
  if (!minuteKnown) return false;
  // The minute's last characters change first: compare from the end.
  for (let i = MINUTE_PREFIX - 1; i >= 0; i--) if (s.charCodeAt(i) !== minuteCodes[i]) return false;
  return true;
}

function parse(s: string): number {
  const len = s.length;
  if (len < 20 || len > 35) return NaN;
  if (sameMinute(s)) return parseRest(s, minuteMs);
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 60 ||
    s.charCodeAt(4) !== 45 || // -
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(13) !== 58 || // :
    s.charCodeAt(16) !== 58
  ) {
    return NaN;
  }
  const t = s.charCodeAt(10);
  if (t !== 84 && t !== 116) return NaN; // T or t
  if (day > daysInMonth(year, month)) return NaN;
  // Date.UTC maps years 0..99 to 1900..1999; shift by 400 Gregorian years (a whole cycle) instead.
  const minute0 =
    year < 100
      ? Date.UTC(year + 400, month - 1, day, hour, minute) - MS_PER_400_YEARS
      : Date.UTC(year, month - 1, day, hour, minute);
  for (let i = 0; i < MINUTE_PREFIX; i++) minuteCodes[i] = s.charCodeAt(i);
  minuteKnown = true;
  minuteMs = minute0;
  return parseRest(s, minute0);
}

/** Seconds, fraction and zone after a validated "YYYY-MM-DDTHH:MM" whose epoch ms is `minute0`. */
function parseRest(s: string, minute0: number): number {
  const len = s.length;
  if (s.charCodeAt(16) !== 58) return NaN; // :
  const second = digits(s, 17, 2);
  if (second < 0 || second > 60) return NaN;

  let i = 19;
  let millis = 0;
  if (s.charCodeAt(i) === 46) {
    // .fraction: 1..9 digits; keep the first three as milliseconds.
    i++;
    const start = i;
    while (i < len) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (i - start < 3) millis = millis * 10 + c;
      i++;
    }
    const n = i - start;
    if (n === 0 || n > MAX_FRACTION_DIGITS) return NaN;
    if (n === 1) millis *= 100;
    else if (n === 2) millis *= 10;
  }

  let offsetMinutes = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    // Z or z
    if (i + 1 !== len) return NaN;
  } else if (z === 43 || z === 45) {
    // +HH:MM or -HH:MM
    if (i + 6 !== len || s.charCodeAt(i + 3) !== 58) return NaN;
    const oh = digits(s, i + 1, 2);
    const om = digits(s, i + 4, 2);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offsetMinutes = (oh * 60 + om) * (z === 43 ? 1 : -1);
  } else {
    return NaN;
  }
  return minute0 + second * 1000 + millis - offsetMinutes * 60_000;
}

export function isRfc3339(s: string): boolean {
  return !Number.isNaN(parseRfc3339(s));
}
