import type { Replica } from '@concord/client';
import type { ConflictEntry } from '@concord/shared';
import { fuzzSchema } from './fuzz-config';
import type { FuzzServer } from './fuzz-server';
import type { Network } from './network';
import {
  conflictLog,
  duplicateConflicts,
  phantomValues,
  replicaRows,
  rowDifferences,
  shown,
  storeRows,
  unaccountedWrites,
  undoneResolutions,
  type Check,
} from './oracle';
import type { WriteRecord } from './writes';

/**
 * The oracle, after the final fault-free sync: no unexpected server error; no wrong answer the
 * wire saw (a late copy of a push, a spoiled change); every replica's rows equal the server's;
 * no outbox entry left; no conflict logged twice for one change; no resolution undone; every
 * write accounted for; no final value that no write wrote; every replica's `validate()` finds it
 * equal to the server (the checksums agree with the row-by-row comparison). Calls `fail` with every check that
 * failed; records the conflict log in `report`.
 */
export async function judge(
  server: FuzzServer,
  slots: readonly { replica: Replica }[],
  network: Network,
  writes: readonly WriteRecord[],
  report: { conflicts: ConflictEntry[] },
  fail: (checks: Check[], message: string) => never,
  { maxBodyBytes }: { maxBodyBytes: number },
): Promise<void> {
  const failures: [Check, string[]][] = [];
  if (server.errors.length > 0) failures.push(['server-errors', server.errors.map(String)]);
  if (network.findings.length > 0) failures.push(['wire', network.findings]);
  const final = await storeRows(server.store, fuzzSchema);
  const differences: string[] = [];
  const outbox: string[] = [];
  for (const [r, slot] of slots.entries()) {
    differences.push(...rowDifferences(final, await replicaRows(slot.replica, fuzzSchema)).map((d) => `r${r} ${d}`));
    const left = await slot.replica.db.table('_changes').toArray();
    if (left.length > 0) outbox.push(`r${r}: ${shown(left)}`);
  }
  if (differences.length > 0) failures.push(['convergence', differences]);
  const unequal: string[] = [];
  for (const [r, slot] of slots.entries()) {
    const validation = await slot.replica.validate().catch((error: unknown) => ({ ok: false, error: String(error) }));
    if (!validation.ok && differences.length === 0) unequal.push(`r${r}: ${shown(validation)}`);
  }
  if (unequal.length > 0) failures.push(['validation', unequal]);
  if (outbox.length > 0) failures.push(['outbox', outbox]);
  const log = await conflictLog(server.store);
  report.conflicts = log;
  const duplicates = duplicateConflicts(log);
  if (duplicates.length > 0) failures.push(['duplicates', duplicates]);
  const undone = undoneResolutions(log, final);
  if (undone.length > 0) failures.push(['resolutions', undone]);
  const lost = unaccountedWrites({
    schema: fuzzSchema,
    writes,
    final,
    log,
    lostLog: server.lostConflicts,
    replicaOf: network.replicaIds,
    deliveries: network.deliveries,
    spoils: network.spoils,
    hugeBeyond: maxBodyBytes ? maxBodyBytes / 2 : Number.POSITIVE_INFINITY,
  });
  if (lost.length > 0) failures.push(['accounting', lost]);
  const phantoms = phantomValues(writes, final);
  if (phantoms.length > 0) failures.push(['phantoms', phantoms]);
  if (failures.length === 0) return;
  const text = failures.map(([check, lines]) => `${check}:\n    ${lines.slice(0, 12).join('\n    ')}`).join('\n');
  fail(
    failures.map(([check]) => check),
    `${text}\nconflict log:\n    ${log.map((e) => shown(e)).join('\n    ')}` +
      (server.lostConflicts.length > 0
        ? `\nentries lost by restores:\n    ${server.lostConflicts.map((e) => shown(e)).join('\n    ')}`
        : ''),
  );
}
