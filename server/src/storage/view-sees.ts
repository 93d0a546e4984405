import type { PartitionView } from './store';

/** Whether a download through `view` sees a row of `table` in `partition`; no view sees every row. */
export function viewSees(view: PartitionView | undefined, table: string, partition = ''): boolean {
  return (
    !view ||
    view.whole.includes(table) ||
    view.parts.some(([viewTable, viewPartition]) => viewTable === table && viewPartition === partition)
  );
}
