import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../support/dexie-plan';
import { plans } from '../support/dexie-plan-arbitrary';
import { openTab } from './support/page-server';
import { useBrowserPage } from './support/use-browser-page';

/** The tracked database against plain Dexie in real Chromium IndexedDB: the same answers, the same rows. */

const chromium = useBrowserPage();

describe('in Chromium, the tracked database behaves as plain Dexie', () => {
  it('random sequences of reads and writes, awaited or not, give the same answers and the same rows', async () => {
    const { server, context } = chromium;
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
