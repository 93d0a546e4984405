/**
 * Which device this tab plays (`?device=A`), and its offline switch. Each device is its own
 * replica database; tabs of one device share it. The switch is kept per device in
 * localStorage, so every tab of the device agrees, and it cuts the replica's network: requests
 * fail as they would with no connection.
 */
export const DEVICES = ['A', 'B', 'C'] as const;

export function currentDevice(): string {
  const asked = new URLSearchParams(location.search).get('device')?.toUpperCase();
  return asked && /^[A-Z0-9]{1,8}$/.test(asked) ? asked : 'A';
}

export const offlineKey = (device: string) => `concord-demo-offline-${device}`;

export function isOffline(device: string): boolean {
  return localStorage.getItem(offlineKey(device)) === '1';
}

export function setOffline(device: string, offline: boolean): void {
  if (offline) localStorage.setItem(offlineKey(device), '1');
  else localStorage.removeItem(offlineKey(device));
}

/** A fetch that fails like a lost connection while the device is switched offline. */
export function deviceFetch(device: string): typeof fetch {
  return (input, init) =>
    isOffline(device) ? Promise.reject(new TypeError('offline (switched off in the demo)')) : fetch(input, init);
}
