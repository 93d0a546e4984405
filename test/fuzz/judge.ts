import type { Replica } from '@concord/client';
import type { ConflictEntry } from '@concord/shared';
import { fuzzSchema } from './fuzz-config';
import type { FuzzServer } from './fuzz-server';
import type { Network } from './network';
import {
  conflictLog,
  duplicateConflicts,
  replicaRows,
  rowDifferences,
  storeRows,
  unaccountedWrites,
  undoneResolutions,
  type Check,
} from './oracle';
import type { WriteRecord } from './writes';

/**
 * The oracle, after the final fault-free sync: no unexpected server error; every replica's rows
 * equal the server's; no outbox entry left; no conflict logged twice for one change; no
 * resolution undone; every write accounted for. Calls `fail` with every check that failed;
 * records the conflict log in `report`.
 */
export async function judge(
  server: FuzzServer,
  slots: readonly { replica: Replica }[],
  network: Network,
  writes: readonly WriteRecord[],
  report: { conflicts: ConflictEntry[] },
  fail: (checks: Check[], message: string) => never,
): Promise<void> {
  const failures: [Check, string[]][] = [];
  if (server.errors.length > 0) failures.push(['server-errors', server.errors.map(String)]);
  const final = await storeRows(server.store, fuzzSchema);
  const differences: string[] = [];
  const outbox: string[] = [];
  for (const [r, slot] of slots.entries()) {
    differences.push(...rowDifferences(final, await replicaRows(slot.replica, fuzzSchema)).map((d) => `r${r} ${d}`));
    const left = await slot.replica.db.table('_changes').toArray();
    if (left.length > 0) outbox.push(`r${r}: ${JSON.stringify(left)}`);
  }
  if (differences.length > 0) failures.push(['convergence', differences]);
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
    replicaOf: network.replicaIds,
    deliveries: network.deliveries,
  });
  if (lost.length > 0) failures.push(['accounting', lost]);
  if (failures.length === 0) return;
  const text = failures.map(([check, lines]) => `${check}:\n    ${lines.slice(0, 12).join('\n    ')}`).join('\n');
  fail(
    failures.map(([check]) => check),
    `${text}\nconflict log:\n    ${log.map((e) => JSON.stringify(e)).join('\n    ')}`,
  );
}
