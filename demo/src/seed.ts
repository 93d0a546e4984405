import type { Replica } from '@concord/client';
import { BRANCHES } from '../identities';
const KINDS = ['Hammer', 'Wrench', 'Drill', 'Saw', 'Pliers', 'Level', 'Chisel', 'Clamp', 'Sander', 'Screwdriver'];
const GRADES = ['Basic', 'Pro', 'Heavy-duty', 'Compact', 'Cordless', 'Classic'];
const SIZES = ['S', 'M', 'L', 'XL', '2XL'];

/**
 * Creates a realistic data set in the replica (it syncs like any edit): three branches, 300
 * products and a stock count for every product at every branch. HQ seeds: only it may create
 * the catalogue. A branch's rowguid is its id, which branch identities name in their claims;
 * products and stock get fresh UUIDs.
 */
export async function seed(replica: Replica): Promise<void> {
  const { db } = replica;
  const now = new Date().toISOString();
  await db.transaction('rw', ['branches', 'products', 'stock'], async () => {
    const branchIds = (await db.table('branches').bulkAdd([...BRANCHES], { allKeys: true })) as string[];
    const products = [];
    let n = 0;
    for (const kind of KINDS) {
      for (const grade of GRADES) {
        for (const size of SIZES) {
          n++;
          const sku = `${kind.slice(0, 3).toUpperCase()}-${grade.slice(0, 2).toUpperCase()}-${size}`;
          const price = Math.round((5 + ((n * 37) % 140) + size.length * 2.5) * 100) / 100;
          products.push({ name: `${grade} ${kind} ${size}`, sku, price, updatedAt: now });
        }
      }
    }
    const productIds = (await db.table('products').bulkAdd(products, { allKeys: true })) as string[];
    const stock = branchIds.flatMap((branchId, b) =>
      productIds.map((productId, p) => ({ branchId, productId, qty: (p * 7 + b * 13) % 40 })),
    );
    await db.table('stock').bulkAdd(stock);
  });
}
