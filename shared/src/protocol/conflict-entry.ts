import { z } from 'zod';
import { generation } from './fields';
import { rowValues } from '../schema/row-values';

const conflictTypes = ['update-update', 'update-delete', 'delete-update', 'insert-insert', 'failed-change'] as const;
export type ConflictType = (typeof conflictTypes)[number];

export const conflictStatuses = ['resolved', 'open', 'overridden'] as const;
export type ConflictStatus = (typeof conflictStatuses)[number];

export const conflictEntry = z.object({
  id: z.string(),
  table: z.string(),
  rowguid: z.string(),
  columns: z.array(z.string()),
  type: z.enum(conflictTypes),
  resolver: z.string(),
  status: z.enum(conflictStatuses),
  winner: z.string().nullable(),
  loser: z.string().nullable(),
  winningValues: rowValues.nullable(),
  losingValues: rowValues.nullable(),
  reason: z.string(),
  replicaId: z.string(),
  localGeneration: generation,
  generation,
  createdAt: z.string(),
  /** Who settled the entry by hand (`by` of the override), absent until someone does. */
  resolvedBy: z.string().nullable().optional(),
  /** When the entry was last settled by hand. */
  resolvedAt: z.string().nullable().optional(),
});
/** One entry of the conflict log: who won, who lost, with which values, and why. */
export type ConflictEntry = z.infer<typeof conflictEntry>;
