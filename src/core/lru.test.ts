import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Lru } from './lru.ts';

test('the cache never holds more than its capacity', () => {
  const c = new Lru<number, number>(10);
  for (let i = 0; i < 1000; i++) c.set(i, i);
  assert.ok(c.size <= 10, `size ${c.size}`);
  assert.equal(c.get(999), 999);
  assert.equal(c.get(0), undefined);
});

test('entries used recently survive; the least recently used are forgotten first', () => {
  const c = new Lru<string, number>(4);
  c.set('a', 1);
  c.set('b', 2);
  c.set('c', 3); // young was full (a, b): they become old
  assert.equal(c.get('a'), 1); // a returns to young
  c.set('d', 4); // young (c, a) is full: b, left in old, is dropped
  c.set('e', 5);
  assert.equal(c.get('b'), undefined);
  assert.equal(c.get('a'), 1);
  assert.equal(c.get('d'), 4);
  c.set('d', 6); // replacing does not grow
  assert.equal(c.get('d'), 6);
  c.delete('a');
  assert.equal(c.get('a'), undefined);
  assert.ok(c.size <= 4);
});
