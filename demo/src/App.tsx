import { useLiveQuery } from 'dexie-react-hooks';
import type { Replica } from '@concord/client';
import type { IdentityName } from '../identities';
import { ConflictPanel } from './ConflictPanel';
import { ProductList } from './ProductList';
import { StatusBar } from './StatusBar';
import { seed } from './seed';

/** The branch-office inventory: status bar, products with stock per branch, and the conflict panel. */
export function App({ replica, device, identity }: { replica: Replica; device: string; identity: IdentityName }) {
  const products = useLiveQuery(() => replica.db.table('products').count(), [replica]);
  return (
    <div className="app">
      <StatusBar replica={replica} device={device} identity={identity} />
      <main>
        <section className="products">
          {products === 0 ? (
            identity === 'hq' ? (
              <div className="empty">
                <p>No products yet on this device. Sync to receive another device's data, or create a data set.</p>
                <button
                  onClick={() =>
                    void seed(replica).catch((error: unknown) => alert(`Seeding failed: ${String(error)}`))
                  }
                >
                  Seed 3 branches and 300 products
                </button>
              </div>
            ) : (
              <div className="empty">
                <p>
                  No products yet on this device. Headquarters creates the catalogue; it arrives with the next sync.
                </p>
              </div>
            )
          ) : (
            <ProductList replica={replica} identity={identity} />
          )}
        </section>
        <ConflictPanel replica={replica} />
      </main>
    </div>
  );
}
