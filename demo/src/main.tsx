import { createRoot } from 'react-dom/client';
import { openReplica } from '@concord/client';
import { schema } from '../schema';
import { App } from './App';
import { currentDevice, deviceFetch, isOffline } from './device';
import './styles.css';

const device = currentDevice();
document.title = `Device ${device} — Concord inventory`;
const replica = await openReplica({
  schema,
  url: location.origin,
  name: `concord-demo-${device}`,
  fetch: deviceFetch(device),
  debounceMs: 100,
  backoffMs: 500,
  maxBackoffMs: 5_000,
});
if (!isOffline(device)) replica.start();
createRoot(document.getElementById('root')!).render(<App replica={replica} device={device} />);
if (import.meta.env.PROD && 'serviceWorker' in navigator) void navigator.serviceWorker.register('/sw.js');
