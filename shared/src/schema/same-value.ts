/**
 * Equal as replicated values: `undefined` and `null` are one (a missing column holds null), and
 * objects compare by their JSON. Both sides decide "changed" and "identical" with this one rule.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b || (a == null && b == null)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
