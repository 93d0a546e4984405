import { useLiveQuery } from 'dexie-react-hooks';
import { useState } from 'react';
import type { Replica } from '@concord/client';
import type { IdentityName } from '../identities';

interface Product {
  id: string;
  name: string;
  sku: string;
  price: number;
  notes: string | null;
}
interface Stock {
  id: string;
  branchId: string;
  productId: string;
  qty: number;
}
interface Branch {
  id: string;
  name: string;
  city: string;
}

const SHOWN = 40;

/**
 * Products (the first 40 by name, or those matching a search) with their stock at every branch
 * the identity sees: HQ all of them, a branch its own. Only HQ may change a price.
 */
export function ProductList({ replica, identity }: { replica: Replica; identity: IdentityName }) {
  const { db } = replica;
  const [search, setSearch] = useState('');
  const hq = identity === 'hq';
  const branches =
    useLiveQuery(
      async () =>
        (await db.table<Branch, string>('branches').orderBy('id').toArray()).filter((b) => hq || b.id === identity),
      [db, hq, identity],
    ) ?? [];
  const products =
    useLiveQuery(async () => {
      const needle = search.trim().toLowerCase();
      const all = await db.table<Product, string>('products').toArray();
      return all
        .filter((p) => !needle || p.name.toLowerCase().includes(needle) || p.sku.toLowerCase().includes(needle))
        .sort((a, b) => a.name.localeCompare(b.name))
        .slice(0, SHOWN);
    }, [db, search]) ?? [];
  const ids = products.map((p) => p.id);
  const stock =
    useLiveQuery(() => db.table<Stock, string>('stock').where('productId').anyOf(ids).toArray(), [db, ids.join()]) ??
    [];
  const stockOf = new Map(stock.map((s) => [`${s.productId}/${s.branchId}`, s]));
  // An edit the replica refuses (a value its column cannot hold) leaves the stored value shown.
  const touch = (id: string, changes: Partial<Product>) =>
    db
      .table('products')
      .update(id, { ...changes, updatedAt: new Date().toISOString() })
      .catch(() => undefined);

  return (
    <>
      <input
        className="search"
        placeholder="Search name or SKU"
        value={search}
        onChange={(event) => setSearch(event.target.value)}
      />
      <table data-testid="products">
        <thead>
          <tr>
            <th>Product</th>
            <th>Price</th>
            {branches.map((b) => (
              <th key={b.id}>
                {b.name}
                <small>{b.city}</small>
              </th>
            ))}
            <th>Notes</th>
          </tr>
        </thead>
        <tbody>
          {products.map((p) => (
            <tr key={p.id} data-sku={p.sku}>
              <td>
                {p.name}
                <small>{p.sku}</small>
              </td>
              <td>
                <EditNumber
                  label={`price of ${p.sku}`}
                  value={p.price}
                  step={0.01}
                  disabled={!hq}
                  onCommit={(price) => void touch(p.id, { price })}
                />
              </td>
              {branches.map((b) => {
                const row = stockOf.get(`${p.id}/${b.id}`);
                if (!row) return <td key={b.id}>—</td>;
                const set = (qty: number) =>
                  void db
                    .table('stock')
                    .update(row.id, { qty: Math.round(qty) })
                    .catch(() => undefined);
                // Relative to the stored count, not the rendered one: quick clicks all count.
                const bump = (delta: number) =>
                  void db
                    .table<Stock, string>('stock')
                    .update(row.id, (s) => {
                      s.qty += delta;
                    })
                    .catch(() => undefined);
                return (
                  <td key={b.id} className="stock">
                    <button aria-label={`less ${p.sku} at ${b.name}`} onClick={() => bump(-1)}>
                      −
                    </button>
                    <EditNumber label={`stock of ${p.sku} at ${b.name}`} value={row.qty} step={1} onCommit={set} />
                    <button aria-label={`more ${p.sku} at ${b.name}`} onClick={() => bump(1)}>
                      +
                    </button>
                  </td>
                );
              })}
              <td>
                <EditText
                  label={`notes of ${p.sku}`}
                  value={p.notes ?? ''}
                  onCommit={(notes) => void touch(p.id, { notes })}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** A number input that writes on Enter or when it loses focus, and follows the stored value otherwise. */
function EditNumber(props: {
  label: string;
  value: number;
  step: number;
  disabled?: boolean;
  onCommit: (value: number) => void;
}) {
  const [draft, setDraft] = useState<string | null>(null);
  const commit = () => {
    if (draft !== null && draft.trim() !== '' && Number(draft) !== props.value) props.onCommit(Number(draft));
    setDraft(null);
  };
  return (
    <input
      type="number"
      aria-label={props.label}
      step={props.step}
      disabled={props.disabled}
      title={props.disabled ? 'only headquarters changes prices' : undefined}
      value={draft ?? String(props.value)}
      onChange={(event) => setDraft(event.target.value)}
      onBlur={commit}
      onKeyDown={(event) => event.key === 'Enter' && commit()}
    />
  );
}

function EditText(props: { label: string; value: string; onCommit: (value: string) => void }) {
  const [draft, setDraft] = useState<string | null>(null);
  const commit = () => {
    if (draft !== null && draft !== props.value) props.onCommit(draft);
    setDraft(null);
  };
  return (
    <input
      aria-label={props.label}
      value={draft ?? props.value}
      onChange={(event) => setDraft(event.target.value)}
      onBlur={commit}
      onKeyDown={(event) => event.key === 'Enter' && commit()}
    />
  );
}
