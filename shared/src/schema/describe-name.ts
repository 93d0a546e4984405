import { PROTOCOL_LIMITS } from '../protocol/version';
import { isStorableName, toWellFormed } from './well-formed';

/** A name from a request, safe to print and to store: at most 128 characters, well-formed, no U+0000. */
export function describeName(name: string): string {
  const short = name.length > PROTOCOL_LIMITS.maxIdLength ? `${name.slice(0, PROTOCOL_LIMITS.maxIdLength)}…` : name;
  return isStorableName(short) ? short : toWellFormed(short).replaceAll('\u0000', '\uFFFD');
}
