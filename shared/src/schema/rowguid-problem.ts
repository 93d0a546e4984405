import { MAX_ID_LENGTH } from './max-id-length';
import { describeValue } from './describe-value';
import { isWellFormed } from './well-formed';

/** Why `rowguid` cannot name a row, or undefined: a non-empty, well-formed string of at most 128 characters. */
export function rowguidProblem(rowguid: unknown): string | undefined {
  if (typeof rowguid !== 'string' || rowguid.length === 0)
    return `a rowguid must be a non-empty string, got ${describeValue(rowguid)}`;
  if (rowguid.length > MAX_ID_LENGTH) {
    return `a rowguid is at most ${MAX_ID_LENGTH} characters, got ${rowguid.length}`;
  }
  if (!isWellFormed(rowguid)) return 'a rowguid must be well-formed UTF-16 (it has a lone surrogate)';
  if (rowguid.includes('\u0000')) return 'a rowguid must not hold U+0000';
  return undefined;
}
