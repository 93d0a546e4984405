import { verify } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { expiredToken, TOKEN_SECRET, tokenFor } from '../support/tokens';
import { fuzzAuth } from './fuzz-auth';
import { runCase } from './harness';
import { fixedConfig as config, insert, sync, arm } from './fixed-ops';

describe('replicas survive the token faults', () => {
  it('a replica whose token function hands out an expired token asks again, and its write arrives', async () => {
    const report = await runCase({
      config,
      ops: [insert(0, 1), sync(0), insert(0, 2), arm(0, { kind: 'token-expired', route: 'any', after: 0 }), sync(0, 1)],
    });
    expect(report.faults['token-expired']).toBe(1);
    expect(report.failedSyncs).toBe(0);
  });

  it.each(['push', 'pull'] as const)(
    'a %s sent with another replica’s token is refused and fails only its round',
    async (route) => {
      const report = await runCase({
        config,
        ops: [
          insert(0, 1),
          sync(0),
          insert(0, 2),
          arm(0, { kind: 'wrong-subject', route, after: 0, arg: 1 }),
          sync(0),
          sync(0, 1),
        ],
      });
      expect(report.faults['wrong-subject']).toBe(1);
      expect(report.failedSyncs).toBe(1);
    },
  );
});

describe('the fuzz server’s verifier', () => {
  it('accepts exactly the tokens a server with the shared secret accepts', async () => {
    const tokens = [
      await tokenFor('device-0'),
      await expiredToken('device-0'),
      await tokenFor('device-0', {}, 'another-secret-of-enough-length-for-hs256'),
      await tokenFor(undefined),
      `${await tokenFor('device-0')}x`,
    ];
    const bySecret = await Promise.all(
      tokens.map((token) =>
        verify(token, TOKEN_SECRET, 'HS256').then(
          (claims) => (typeof claims.sub === 'string' ? claims.sub : undefined),
          () => undefined,
        ),
      ),
    );
    const byFuzz = await Promise.all(
      tokens.map(async (token) => {
        const request = new Request('http://concord.fuzz/v1/pull', { headers: { authorization: `Bearer ${token}` } });
        return 'verify' in fuzzAuth ? (await fuzzAuth.verify(request))?.subject : undefined;
      }),
    );
    expect(byFuzz).toEqual(['device-0', undefined, undefined, undefined, undefined]);
    expect(byFuzz).toEqual(bySecret);
  });
});
