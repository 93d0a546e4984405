import { toWellFormed } from './well-formed';

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
