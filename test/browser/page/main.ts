import { Dexie } from 'dexie';
import { openReplica, type Replica } from '@concord/client';
import { rowHasher } from '@concord/shared';
import { playPlan } from '../../support/dexie-plan';
import { benchRow } from './bench-rows';
import { browserSchema, browserSchemaV2 } from './schema';

/**
 * Opens the replica named by `?name=` (default `concord`) against this page's origin, starts
 * background sync, and exposes it as `window.concord` for the browser tests. `?start=0` leaves
 * background sync off; `?pageSize=` sets the download page size; `?schema=2` runs the app's next version.
 */
declare global {
  interface Window {
    concord: {
      replica: Replica;
      ready: Promise<Replica>;
      Dexie: typeof Dexie;
      benchRow: typeof benchRow;
      playPlan: typeof playPlan;
      rowHasher: typeof rowHasher;
    };
  }
}

const params = new URLSearchParams(location.search);
const ready = openReplica({
  schema: params.get('schema') === '2' ? browserSchemaV2 : browserSchema,
  url: location.origin,
  name: params.get('name') ?? 'concord',
  debounceMs: 20,
  ...(params.has('pageSize') ? { maxDownloadChanges: Number(params.get('pageSize')) } : {}),
  backoffMs: 100,
  maxBackoffMs: 1_000,
}).then((replica) => {
  window.concord.replica = replica;
  if (params.get('start') !== '0') replica.start();
  const show = () => (document.getElementById('status')!.textContent = JSON.stringify(replica.status));
  replica.subscribe(show);
  show();
  return replica;
});
window.concord = { ready, Dexie, benchRow, playPlan, rowHasher } as Window['concord'];
if (params.get('sw') === '1') void navigator.serviceWorker.register('/sw.js');
