import { MAX_ID_LENGTH } from './max-id-length';
import { isStorableName, toWellFormed } from './well-formed';

/** A name from a request, safe to print and to store: at most 128 characters, well-formed, no U+0000. */
export function describeName(name: string): string {
  const short = name.length > MAX_ID_LENGTH ? `${name.slice(0, MAX_ID_LENGTH)}…` : name;
  return isStorableName(short) ? short : toWellFormed(short).replaceAll('\u0000', '\uFFFD');
}
