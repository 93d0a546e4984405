import type { ColumnType } from './define-schema';
import { describeValue } from './describe-value';
import { isIsoDate } from './is-iso-date';
import { isWellFormed } from './well-formed';

/** How deep a `json` value may nest; deeper values are refused on both sides alike. */
export const MAX_JSON_DEPTH = 64;

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
