import { useLiveQuery } from 'dexie-react-hooks';
import type { Replica } from '@concord/client';
import { ConflictPanel } from './ConflictPanel';
import { ProductList } from './ProductList';
import { StatusBar } from './StatusBar';
import { seed } from './seed';

/** The branch-office inventory: status bar, products with stock per branch, and the conflict panel. */
export function App({ replica, device }: { replica: Replica; device: string }) {
  const products = useLiveQuery(() => replica.db.table('products').count(), [replica]);
  return (
    <div className="app">
      <StatusBar replica={replica} device={device} />
      <main>
        <section className="products">
          {products === 0 ? (
            <div className="empty">
              <p>No products yet on this device. Sync to receive another device's data, or create a data set.</p>
              <button
                onClick={() => void seed(replica).catch((error: unknown) => alert(`Seeding failed: ${String(error)}`))}
              >
                Seed 3 branches and 300 products
              </button>
            </div>
          ) : (
            <ProductList replica={replica} />
          )}
        </section>
        <ConflictPanel replica={replica} />
      </main>
    </div>
  );
}
