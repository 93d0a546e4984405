import { beforeEach } from 'vitest';
import type { TestServerOptions } from '../support/test-server';
import { useTestWorld } from '../support/test-world';
import type { StoreKind, StoreLocation } from './store-fixtures';

/**
 * A test world whose servers keep their data in a database of one store kind. Call `each(kind)`
 * inside a `describe.each(storeKinds)`: every test of it then gets a fresh, empty database.
 */
export function useStoreWorld() {
  const world = useTestWorld();
  let location: StoreLocation | undefined;
  return {
    ...world,
    each(kind: StoreKind): void {
      beforeEach(async () => {
        location = await world.location(kind);
      });
    },
    /** A fresh server on this test's database. */
    start(options?: TestServerOptions) {
      if (!location) throw new Error('call each(kind) in the describe first');
      return world.start({ ...options, store: location.open() });
    },
  };
}
