import { isIdentityName, type IdentityName } from '../identities';
import { isOffline } from './device';

/**
 * Who this device signed in as, kept per device in localStorage so its tabs agree; `?as=hq` (or a
 * branch id) in the address signs in at once. Each identity of a device is its own replica
 * database: a replica belongs to the identity that registered it.
 */
const identityKey = (device: string) => `concord-demo-identity-${device}`;
const tokenKey = (device: string, name: IdentityName) => `concord-demo-token-${device}-${name}`;

export function currentIdentity(device: string): IdentityName | null {
  const asked = new URLSearchParams(location.search).get('as');
  if (isIdentityName(asked)) localStorage.setItem(identityKey(device), asked);
  const kept = localStorage.getItem(identityKey(device));
  return isIdentityName(kept) ? kept : null;
}

export function signIn(device: string, name: IdentityName): void {
  localStorage.setItem(identityKey(device), name);
  reloadWithout('as');
}

export function signOut(device: string): void {
  localStorage.removeItem(identityKey(device));
  reloadWithout('as');
}

function reloadWithout(parameter: string): void {
  const url = new URL(location.href);
  url.searchParams.delete(parameter);
  location.assign(url);
}

interface KeptToken {
  token: string;
  expiresAt: number;
}

/**
 * The replica's `token` function: a token from the demo's development sign-in, kept until a
 * minute before it expires (and across reloads, so the app starts offline). Asked while the
 * server is out of reach, it gives the kept token: the request then fails as offline would.
 */
export function deviceToken(device: string, name: IdentityName): () => Promise<string | undefined> {
  return async () => {
    const kept = JSON.parse(localStorage.getItem(tokenKey(device, name)) ?? 'null') as KeptToken | null;
    if (kept && kept.expiresAt - 60_000 > Date.now()) return kept.token;
    if (isOffline(device)) return kept?.token;
    try {
      const response = await fetch('/dev/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ as: name }),
      });
      if (!response.ok) return kept?.token;
      const fresh = (await response.json()) as KeptToken;
      localStorage.setItem(tokenKey(device, name), JSON.stringify(fresh));
      return fresh.token;
    } catch {
      return kept?.token;
    }
  };
}
