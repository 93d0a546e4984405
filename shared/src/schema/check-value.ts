import type { ColumnType } from './define-schema';

/** How deep a `json` value may nest; deeper values are refused on both sides alike. */
export const MAX_JSON_DEPTH = 64;

// Without the `u` flag the pattern sees UTF-16 code units, so it finds a surrogate without its pair.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `text` is well-formed UTF-16: no lone surrogate, so it survives UTF-8 and every store unchanged. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** `text` made well-formed: every lone surrogate becomes U+FFFD. */
export function toWellFormed(text: string): string {
  return text.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');
}

/**
 * True when `text` can name something in every store as it is: well-formed, and free of U+0000,
 * which PostgreSQL text cannot hold. Rowguids and ids must be; values may hold U+0000 (they are
 * stored as JSON, where it is escaped).
 */
export function isStorableName(text: string): boolean {
  return isWellFormed(text) && !text.includes('\u0000');
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):?(\d{2}))?)?$/;

/** True for an ISO 8601 date or date-time whose every field exists in the calendar: `2024-02-30` is not a date. */
export function isIsoDate(text: string): boolean {
  const match = ISO_DATE.exec(text);
  if (!match) return false;
  const [year, month, day, hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] = match
    .slice(1)
    .map((field) => (field === undefined ? undefined : Number(field)));
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth(year!, month!)) return false;
  return hour < 24 && minute < 60 && second < 60 && offsetHours < 24 && offsetMinutes < 60;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Why `value` cannot be stored in a column of `type`, or undefined when it can. `null` fits
 * every column. Values must be exact JSON: what the server stores and sends back must be what
 * the replica keeps, so `NaN`, `Infinity`, `Date` objects, class instances, functions and
 * ill-formed strings are refused rather than silently turned into something else, and so is
 * `-0` (JSON has one zero).
 */
export function valueProblem(type: ColumnType, value: unknown): string | undefined {
  if (value === null) return undefined;
  switch (type) {
    case 'string':
      return typeof value !== 'string' ? `got ${describeValue(value)}` : stringProblem(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? zeroProblem(value) : `got ${describeValue(value)}`;
    case 'integer':
      return Number.isSafeInteger(value) ? zeroProblem(value as number) : `got ${describeValue(value)}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `got ${describeValue(value)}`;
    case 'date':
      return typeof value === 'string' && isIsoDate(value) ? undefined : `got ${describeValue(value)}`;
    case 'json':
      return jsonProblem(value, 0);
  }
}

/** True when `value` may be stored in a column of `type` (see `valueProblem`). */
export function fitsColumn(type: ColumnType, value: unknown): boolean {
  return valueProblem(type, value) === undefined;
}

/** -0 has no JSON form of its own: it would come back as 0, so the replica would keep another value. */
function zeroProblem(value: number): string | undefined {
  return Object.is(value, -0) ? 'got -0, which JSON stores as 0: write 0' : undefined;
}

function stringProblem(text: string): string | undefined {
  return isWellFormed(text) ? undefined : 'got a string with a lone surrogate (not well-formed UTF-16)';
}

/** Walks a JSON value; an object property set to `undefined` is absent, as in JSON. */
function jsonProblem(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return stringProblem(value);
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? zeroProblem(value) : `got ${describeValue(value)}, which JSON cannot hold`;
    case 'object': {
      if (value === null) return undefined;
      if (depth >= MAX_JSON_DEPTH) return `got a value nested deeper than ${MAX_JSON_DEPTH} levels`;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          // JSON turns a hole or an undefined element into null: the replica would keep another value.
          if (!(i in value) || value[i] === undefined) return `got an array whose element ${i} is empty or undefined`;
          const problem = jsonProblem(value[i], depth + 1);
          if (problem) return problem;
        }
        return undefined;
      }
      const prototype = Object.getPrototypeOf(value) as object | null;
      if (prototype !== Object.prototype && prototype !== null) {
        return `got ${describeValue(value)}, which is not a plain object (JSON would store something else)`;
      }
      for (const [key, member] of Object.entries(value)) {
        if (!isWellFormed(key)) return 'got a key with a lone surrogate (not well-formed UTF-16)';
        if (member === undefined) continue;
        const problem = jsonProblem(member, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    default:
      return `got ${describeValue(value)}, which JSON cannot hold`;
  }
}

/** A short description of a value for an error message; never the whole of a large value. */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint')
    return `${String(value)}${typeof value === 'bigint' ? 'n' : ''}`;
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return typeof value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const prototype = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
    const name = prototype?.constructor?.name;
    if (prototype !== Object.prototype && prototype !== null && typeof name === 'string') return `a ${name}`;
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) return typeof value;
  // Cut, a surrogate pair may lose its second half: the message stays well-formed all the same.
  return text.length > 60 ? `${toWellFormed(text.slice(0, 57))}...` : text;
}
