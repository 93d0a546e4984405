import { defineSchema } from '@concord/shared';
import type { PartitionConfig } from '@concord/server';

/** Products for everyone, stock per branch, orders per region and their lines following them. */
export const partitionSchema = defineSchema({
  version: 1,
  tables: {
    products: { columns: { name: 'string', price: 'number' } },
    stock: { columns: { branchId: 'string', sku: 'string', qty: 'integer' } },
    orders: { columns: { region: 'string', note: 'string' } },
    lines: { columns: { orderId: 'string', qty: 'integer' } },
  },
});

export const partitions: PartitionConfig = {
  stock: { column: 'branchId', claim: 'branch' },
  orders: { column: 'region', claim: 'regions', moveOut: true },
  lines: { parent: 'orders', via: 'orderId' },
};

type Rows = Record<string, Record<string, Record<string, unknown>>>;

/** Whether a claim's value (one value, a list, or `*`) holds `value`: the oracle, written apart from the server's code. */
function claimHolds(claim: unknown, value: unknown): boolean {
  const values = Array.isArray(claim) ? claim : [claim];
  return values.includes('*') || (typeof value === 'string' && values.includes(value));
}

/** The rows of `rows` (table → rowguid → values) that an identity with `claims` sees. */
export function partitionRows(rows: Rows, claims: Record<string, unknown>): Rows {
  const keep = (table: string, test: (values: Record<string, unknown>) => boolean) =>
    Object.fromEntries(Object.entries(rows[table] ?? {}).filter(([, values]) => test(values)));
  const orders = keep('orders', (order) => claimHolds(claims.regions, order.region));
  // A line goes where its order goes, tombstoned order included: the server keeps its last values.
  return {
    products: rows.products ?? {},
    stock: keep('stock', (stock) => claimHolds(claims.branch, stock.branchId)),
    orders,
    lines: keep('lines', (line) => claimHolds(claims.regions, regionOf(rows, line.orderId))),
  };
}

function regionOf(rows: Rows, orderId: unknown): unknown {
  return typeof orderId === 'string' ? rows.orders?.[orderId]?.region : undefined;
}
