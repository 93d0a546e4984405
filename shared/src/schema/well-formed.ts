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
