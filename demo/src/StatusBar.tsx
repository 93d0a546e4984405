import { useEffect, useState } from 'react';
import type { Replica } from '@concord/client';
import { identityLabel, type IdentityName } from '../identities';
import { DEVICES, isOffline, offlineKey, setOffline } from './device';
import { signOut } from './identity';
import { useStatus } from './use-status';

/** Device and identity, the offline switch, leader tab, pending changes, last sync, open conflicts and progress. */
export function StatusBar({ replica, device, identity }: { replica: Replica; device: string; identity: IdentityName }) {
  const status = useStatus(replica);
  const [offline, setOfflineState] = useState(() => isOffline(device));
  const apply = (next: boolean) => {
    setOfflineState(next);
    if (next) replica.stop();
    else {
      replica.start();
      void replica.sync().catch(() => undefined);
    }
  };
  const toggle = () => {
    setOffline(device, !offline);
    apply(!offline);
  };
  // Every tab of the device follows the switch, whichever tab was clicked (and whichever leads).
  useEffect(() => {
    const follow = (event: StorageEvent) => {
      if (event.key === offlineKey(device)) apply(isOffline(device));
    };
    window.addEventListener('storage', follow);
    return () => window.removeEventListener('storage', follow);
  });
  const { progress } = status;
  return (
    <header className="status-bar">
      <nav>
        <strong>Device {device}</strong>
        <span data-testid="identity">{identityLabel(identity)}</span>
        <button onClick={() => signOut(device)}>Switch identity</button>
        {DEVICES.filter((d) => d !== device).map((d) => (
          <a key={d} href={`?device=${d}`} target="_blank" rel="noreferrer">
            open {d}
          </a>
        ))}
      </nav>
      <button className={offline ? 'switch off' : 'switch on'} onClick={toggle} data-testid="offline-switch">
        {offline ? 'Offline — reconnect' : 'Online — go offline'}
      </button>
      <span data-testid="sync-state" className={`state ${status.state}`}>
        {status.state}
      </span>
      <span>{status.leader ? 'this tab syncs' : 'another tab syncs'}</span>
      <span data-testid="pending">{status.pending} pending</span>
      <span>last sync {status.lastSyncAt ? new Date(status.lastSyncAt).toLocaleTimeString() : 'never'}</span>
      <span data-testid="open-conflicts">{status.openConflicts} open conflicts</span>
      {status.persisted === false && status.pending > 0 && (
        <span className="warn">storage not persistent: the browser may evict unsynced changes</span>
      )}
      <button onClick={() => void replica.sync().catch(() => undefined)} disabled={offline}>
        Sync now
      </button>
      {progress && progress.total > 0 && (
        <label className="progress">
          {progress.phase} {progress.done.toLocaleString()} / {progress.total.toLocaleString()}
          <progress max={progress.total} value={progress.done} />
        </label>
      )}
      {status.error && status.state === 'error' && <span className="warn">{status.error.message}</span>}
    </header>
  );
}
