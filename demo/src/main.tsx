import { createRoot } from 'react-dom/client';
import { openReplica } from '@concord/client';
import { schema } from '../schema';
import { App } from './App';
import { currentDevice, deviceFetch, isOffline } from './device';
import { identityLabel } from '../identities';
import { currentIdentity, deviceToken } from './identity';
import { SignIn } from './SignIn';
import './styles.css';

const device = currentDevice();
const identity = currentIdentity(device);
const root = createRoot(document.getElementById('root')!);
if (!identity) {
  document.title = `Device ${device} — sign in — Concord inventory`;
  root.render(<SignIn device={device} />);
} else {
  document.title = `Device ${device} (${identityLabel(identity)}) — Concord inventory`;
  const replica = await openReplica({
    schema,
    url: location.origin,
    name: `concord-demo-${device}-${identity}`,
    fetch: deviceFetch(device),
    token: deviceToken(device, identity),
    debounceMs: 100,
    backoffMs: 500,
    maxBackoffMs: 5_000,
  });
  if (!isOffline(device)) replica.start();
  root.render(<App replica={replica} device={device} identity={identity} />);
}
if (import.meta.env.PROD && 'serviceWorker' in navigator) void navigator.serviceWorker.register('/sw.js');
