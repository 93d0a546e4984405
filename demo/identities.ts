/**
 * Who may sign in to the demo: headquarters, or one of the three branches. A branch's id is the
 * rowguid of its `branches` row, so a branch identity's `branch` claim names the stock it sees.
 */
export const BRANCHES = [
  { id: 'harbour-street', name: 'Harbour Street', city: 'Lisbon' },
  { id: 'old-town', name: 'Old Town', city: 'Porto' },
  { id: 'riverside', name: 'Riverside', city: 'Coimbra' },
] as const;

export type IdentityName = 'hq' | (typeof BRANCHES)[number]['id'];

export const IDENTITIES: readonly IdentityName[] = ['hq', ...BRANCHES.map((branch) => branch.id)];

export function isIdentityName(value: unknown): value is IdentityName {
  return typeof value === 'string' && (IDENTITIES as readonly string[]).includes(value);
}

/** How an identity is shown. */
export function identityLabel(name: IdentityName): string {
  return name === 'hq' ? 'Headquarters' : BRANCHES.find((branch) => branch.id === name)!.name;
}

/** The claims of an identity's token: HQ sees every branch (`*`) and reviews every conflict. */
export function claimsOf(name: IdentityName): { role: 'hq' | 'branch'; branch: string } {
  return name === 'hq' ? { role: 'hq', branch: '*' } : { role: 'branch', branch: name };
}
