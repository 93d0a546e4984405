import type { Resolver } from '@concord/shared';
import { mergeEachColumn } from './merge-each-column';

export interface MergeTextOptions {
  /** Put between the server's and the uploaded part. Default `'\n'`. */
  delimiter?: string;
}

/**
 * Keeps both texts: their common prefix, then the server's remainder, the delimiter, and the
 * uploaded remainder (the delimiter only between two non-empty parts). Equal texts stay as they
 * are, and a side that still holds the base value did not edit the text, so the other side's
 * text is taken. A null side takes the other side's text. Not symmetric: the part that reached
 * the server first comes first.
 */
export function mergeText({ delimiter = '\n' }: MergeTextOptions = {}): Resolver {
  if (typeof delimiter !== 'string') throw new Error('mergeText({ delimiter }) needs a string delimiter');
  return mergeEachColumn({
    name: delimiter === '\n' ? 'mergeText' : `mergeText(${JSON.stringify(delimiter)})`,
    accepts: ['string'],
    expected: 'a string',
    is: (value): value is string => typeof value === 'string',
    merge: ({ base, server, client }) => {
      if (server === client || client === base) return server;
      if (server === base) return client;
      const shared = commonPrefix(server, client);
      const [ours, theirs] = [server.slice(shared), client.slice(shared)];
      return server.slice(0, shared) + ours + (ours && theirs ? delimiter : '') + theirs;
    },
  });
}

/** Length of the common prefix in UTF-16 units, never ending inside a surrogate pair. */
function commonPrefix(a: string, b: string): number {
  let length = 0;
  while (length < a.length && length < b.length && a.charCodeAt(length) === b.charCodeAt(length)) length++;
  const last = a.charCodeAt(length - 1);
  return length > 0 && last >= 0xd800 && last <= 0xdbff ? length - 1 : length;
}
