import { describe, expect, it } from 'vitest';
import type { Resolver, Resolution } from '@concord/shared';
import { additive, average, mergeText } from '@concord/server';
import { conflict, kind, type Sides } from './resolver-support';

describe('column-scope resolvers: additive, average, mergeText', () => {
  const counts = (sides: Omit<Sides, 'table'>) => conflict({ table: 'counts', columns: ['qty'], ...sides });
  it.each<[string, Resolver, Sides, Resolution]>([
    [
      'additive merges both deltas from the base: 10 → 12 and 10 → 7 give 9',
      additive(),
      { table: 'counts', columns: ['qty'], base: { qty: 10 }, server: { qty: 12 }, client: { qty: 7 } },
      { kind: 'merge', values: { qty: 9 } },
    ],
    [
      'additive: two equal sales from one base both count',
      additive(),
      { table: 'counts', columns: ['qty'], base: { qty: 10 }, server: { qty: 8 }, client: { qty: 8 } },
      { kind: 'merge', values: { qty: 6 } },
    ],
    [
      'additive: a missing base counts as 0, so two inserts add up',
      additive(),
      { table: 'counts', columns: ['qty'], server: { qty: 5 }, client: { qty: 3 } },
      { kind: 'merge', values: { qty: 8 } },
    ],
    [
      'additive: a null base counts as 0',
      additive(),
      { table: 'counts', columns: ['price'], base: { price: null }, server: { price: 1.5 }, client: { price: 2 } },
      { kind: 'merge', values: { price: 3.5 } },
    ],
    [
      'additive: a null server value takes the uploaded value',
      additive(),
      { table: 'counts', columns: ['qty'], base: { qty: 1 }, server: { qty: null }, client: { qty: 4 } },
      { kind: 'merge', values: { qty: 4 } },
    ],
    [
      'additive: a null uploaded value takes the server value',
      additive(),
      { table: 'counts', columns: ['qty'], base: { qty: 1 }, server: { qty: 4 }, client: { qty: null } },
      { kind: 'merge', values: { qty: 4 } },
    ],
    [
      'additive: two nulls stay null',
      additive(),
      { table: 'counts', columns: ['qty'], server: { qty: null }, client: { qty: null } },
      { kind: 'merge', values: { qty: null } },
    ],
    [
      'additive as a row resolver merges every conflicting column',
      additive(),
      {
        columns: ['rank', 'score'],
        base: { rank: 1, score: 1 },
        server: { title: 't', rank: 3, score: 1 },
        client: { title: 't', rank: 2, score: 0.5 },
      },
      { kind: 'merge', values: { rank: 4, score: 0.5 } },
    ],
    [
      'average: the mean of the two values',
      average(),
      { table: 'counts', columns: ['price'], base: { price: 1 }, server: { price: 4 }, client: { price: 7 } },
      { kind: 'merge', values: { price: 5.5 } },
    ],
    [
      'average: an integer column is rounded so the mean fits',
      average(),
      { table: 'counts', columns: ['qty'], base: { qty: 0 }, server: { qty: 3 }, client: { qty: 4 } },
      { kind: 'merge', values: { qty: 4 } },
    ],
    [
      'average: a side still at the base did not change the column, so the other is taken',
      average(),
      { table: 'counts', columns: ['price'], base: { price: 1 }, server: { price: 1 }, client: { price: 9 } },
      { kind: 'merge', values: { price: 9 } },
    ],
    [
      'average: a null side takes the other value',
      average(),
      { table: 'counts', columns: ['price'], server: { price: null }, client: { price: 9 } },
      { kind: 'merge', values: { price: 9 } },
    ],
    [
      'average: equal values stay',
      average(),
      { table: 'counts', columns: ['price'], base: { price: 1 }, server: { price: 2 }, client: { price: 2 } },
      { kind: 'merge', values: { price: 2 } },
    ],
    [
      'mergeText: common prefix, the server part, the delimiter, the uploaded part',
      mergeText(),
      {
        table: 'counts',
        columns: ['text'],
        base: { text: 'Buy milk' },
        server: { text: 'Buy milk and eggs' },
        client: { text: 'Buy milk and bread' },
      },
      { kind: 'merge', values: { text: 'Buy milk and eggs\nbread' } },
    ],
    [
      'mergeText: a custom delimiter',
      mergeText({ delimiter: ' | ' }),
      { table: 'counts', columns: ['text'], base: { text: '' }, server: { text: 'left' }, client: { text: 'right' } },
      { kind: 'merge', values: { text: 'left | right' } },
    ],
    [
      'mergeText: equal texts stay as they are',
      mergeText(),
      { table: 'counts', columns: ['text'], base: { text: 'a' }, server: { text: 'ab' }, client: { text: 'ab' } },
      { kind: 'merge', values: { text: 'ab' } },
    ],
    [
      'mergeText: a side that did not edit the text takes the other text',
      mergeText(),
      { table: 'counts', columns: ['text'], base: { text: 'abc' }, server: { text: 'abc' }, client: { text: 'abcd' } },
      { kind: 'merge', values: { text: 'abcd' } },
    ],
    [
      'mergeText: no delimiter when one side only extends the other',
      mergeText(),
      { table: 'counts', columns: ['text'], base: { text: 'ab' }, server: { text: 'abc' }, client: { text: 'abcdef' } },
      { kind: 'merge', values: { text: 'abcdef' } },
    ],
    [
      'mergeText never splits a surrogate pair',
      mergeText(),
      { table: 'counts', columns: ['text'], base: { text: 'a' }, server: { text: 'a😀' }, client: { text: 'a😃' } },
      { kind: 'merge', values: { text: 'a😀\n😃' } },
    ],
    [
      'mergeText: a null side takes the other text',
      mergeText(),
      { table: 'counts', columns: ['text'], server: { text: 'kept' }, client: { text: null } },
      { kind: 'merge', values: { text: 'kept' } },
    ],
  ])('%s', (_name, resolver, sides, expected) => {
    expect(resolver.resolve(conflict(sides))).toEqual(expected);
  });

  it.each([
    ['additive', additive(), { qty: 'many' }, 'additive: the server value of counts.qty, "many", is not a number'],
    ['average', average(), { qty: true }, 'average: the server value of counts.qty, true, is not a number'],
    ['mergeText', mergeText(), { qty: 3 }, 'mergeText: the server value of counts.qty, 3, is not a string'],
  ])('%s refuses a value of the wrong kind with the reason', (_name, resolver, server, reason) => {
    expect(resolver.resolve(counts({ server, client: { qty: 1 } }))).toEqual({ kind: 'reject', reason });
  });

  it.each([
    ['additive', additive()],
    ['average', average()],
    ['mergeText', mergeText()],
  ])('%s cannot merge a delete: the conflict falls to priority', (_name, resolver) => {
    expect(kind(resolver.resolve(counts({ server: null, client: { qty: 1 } })))).toBe('server');
    expect(kind(resolver.resolve(counts({ server: null, client: { qty: 1 }, clientPriority: 5 })))).toBe('client');
    expect(resolver.resolve(counts({ server: { qty: 1 }, client: null })).reason).toMatch(/a delete cannot be merged/);
  });
});
