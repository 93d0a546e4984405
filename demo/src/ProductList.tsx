import { useLiveQuery } from 'dexie-react-hooks';
import { useEffect, useState } from 'react';
import type * as Y from 'yjs';
import type { Replica } from '@concord/client';
import type { IdentityName } from '../identities';

interface Product {
  id: string;
  name: string;
  sku: string;
  price: number;
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
                <NoteEditor replica={replica} id={p.id} label={`notes of ${p.sku}`} />
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

/**
 * A product's notes, collaborative text: the textarea is bound to the field's `Y.Text`, so every
 * keystroke is an edit of the shared document (merged with other devices', never a conflict),
 * and edits from elsewhere show as they arrive.
 */
function NoteEditor({ replica, id, label }: { replica: Replica; id: string; label: string }) {
  const [text, setText] = useState<Y.Text>();
  const [value, setValue] = useState('');
  useEffect(() => {
    let open = true;
    let stop: () => void = () => undefined;
    void replica.crdt('products', id, 'notes').then((doc) => {
      if (!open) return;
      const shared = doc.getText('text');
      const show = () => setValue(shared.toString());
      shared.observe(show);
      stop = () => shared.unobserve(show);
      show();
      setText(shared);
    });
    return () => {
      open = false;
      stop();
    };
  }, [replica, id]);
  const edit = (next: string) => {
    if (!text) return;
    // The edit as one replaced span: the common start and end stay, so others' edits around it survive.
    const now = text.toString();
    let start = 0;
    while (start < now.length && start < next.length && now[start] === next[start]) start++;
    let end = 0;
    while (
      end < now.length - start &&
      end < next.length - start &&
      now[now.length - 1 - end] === next[next.length - 1 - end]
    )
      end++;
    text.doc!.transact(() => {
      text.delete(start, now.length - start - end);
      text.insert(start, next.slice(start, next.length - end));
    });
  };
  return (
    <textarea
      aria-label={label}
      rows={1}
      value={value}
      disabled={!text}
      onChange={(event) => edit(event.target.value)}
    />
  );
}
