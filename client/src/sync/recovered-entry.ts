import type { FromServerChange, RowValues } from '@concord/shared';
import type { OutboxEntry } from '../storage/replica-db';

/** An outbox entry a recovery queues for a row the store lost a change of. */
export function recoveredEntry(
  change: Pick<FromServerChange, 'table' | 'rowguid'>,
  op: OutboxEntry['op'],
  columns: string[],
  base: RowValues,
  baseGeneration: number,
  localGeneration: number,
): OutboxEntry {
  return {
    table: change.table,
    rowguid: change.rowguid,
    op,
    columns,
    base,
    baseGeneration,
    localGeneration,
    inserted: false,
  };
}
