import fc from 'fast-check';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Plan } from '../support/dexie-plan';
import { plans } from '../support/dexie-plan-arbitrary';
import { launchChromium } from './support/chromium';
import { openTab, startPageServer, type PageServer } from './support/page-server';

/** The tracked database against plain Dexie in real Chromium IndexedDB: the same answers, the same rows. */

let browser: Browser;
let context: BrowserContext;
let server: PageServer;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());
beforeEach(async () => {
  server = await startPageServer(inject('browserPage'));
  context = await browser.newContext();
});
afterEach(async () => {
  await context?.close();
  await server?.close();
});

describe('in Chromium, the tracked database behaves as plain Dexie', () => {
  it('random sequences of reads and writes, awaited or not, give the same answers and the same rows', async () => {
    const page = await openTab(context, server, 'name=differential&start=0');
    const sample = fc.sample(plans, { numRuns: 60, seed: 20_241_129 });
    const outcomes = await page.evaluate(async (all: Plan[]) => {
      const { replica, Dexie, playPlan } = window.concord;
      const plain = new Dexie('differential-plain');
      plain.version(1).stores({ notes: 'id', stock: 'id' });
      await plain.open();
      const results = [];
      // Both start empty and play the same plans in turn, so they must stay equal throughout.
      for (const plan of all) results.push([await playPlan(replica.db, plan), await playPlan(plain, plan)]);
      plain.close();
      return results;
    }, sample);
    for (const [i, [tracked, plain]] of outcomes.entries()) expect(tracked, JSON.stringify(sample[i])).toEqual(plain);
  });
});
