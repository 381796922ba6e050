import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createDiskWatermark } from './disk.ts';

test('the watermark: low below the threshold, read at most every 5 s, off at 0', async () => {
  let now = 0;
  let left = 1000;
  let reads = 0;
  const store = {
    spaceLeft: async () => {
      reads++;
      return left;
    },
  };
  const low = createDiskWatermark(store, { now: () => now }, 500);
  assert.equal(await low(), false);
  left = 100;
  assert.equal(await low(), false, 'still the cached answer');
  now += 5_000;
  const [a, b] = await Promise.all([low(), low()]);
  assert.deepEqual([a, b, reads], [true, true, 2], 'one read for both callers');
  now += 5_000;
  left = 600;
  assert.equal(await low(), false);
  const failing = createDiskWatermark(
    { spaceLeft: () => Promise.reject(new Error('EIO')) },
    { now: () => now },
    500,
  );
  assert.equal(await failing(), false, 'an unreadable volume refuses nothing');
  const off = createDiskWatermark(store, { now: () => now }, 0);
  left = 0;
  assert.equal(await off(), false);
});
