import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ChainedRecord, canonicalJson, GENESIS_HASH, seal, verifyChain } from './audit-chain.ts';

test('canonical JSON: sorted keys, no whitespace, JSON number and string forms (RFC 8785)', () => {
  assert.equal(
    canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1e21, y: 0.5 } }),
    '{"a":[true,null,"x"],"b":1,"c":{"y":0.5,"z":1e+21}}',
  );
  assert.equal(canonicalJson({ '\u00e9': 1, e: 2, E: 3 }), '{"E":3,"e":2,"é":1}');
  assert.equal(canonicalJson('a"\u2028\n'), '"a\\"\u2028\\n"');
  assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
  assert.throws(() => canonicalJson({ a: Number.NaN }));
});

test('a chain verifies; any change, removal, insertion or reordering is found at its record', () => {
  const records: ChainedRecord[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= 5; i++) {
    const r = seal({ action: 'auth.login', n: i }, i, prev);
    records.push(r);
    prev = r.hash;
  }
  assert.deepEqual(verifyChain(records, 0, GENESIS_HASH), { break: null, last: { seq: 5, hash: prev } });
  const changed = records.map((r) => (r.seq === 3 ? { ...r, text: r.text.replace('"n":3', '"n":4') } : r));
  assert.equal(verifyChain(changed, 0, GENESIS_HASH).break?.seq, 3);
  const rehashed = changed.map((r) =>
    r.seq === 3 ? seal({ action: 'auth.login', n: 4 }, 3, records[1]!.hash) : r,
  );
  assert.equal(
    verifyChain(rehashed, 0, GENESIS_HASH).break?.seq,
    4,
    'a re-sealed record breaks the next link',
  );
  assert.equal(verifyChain([records[0]!, records[2]!], 0, GENESIS_HASH).break?.seq, 3, 'removed');
  assert.equal(verifyChain([records[1]!, records[0]!], 0, GENESIS_HASH).break?.seq, 2, 'reordered');
  const spaced = records.map((r) => (r.seq === 2 ? { ...r, text: r.text.replace(':', ': ') } : r));
  assert.equal(verifyChain(spaced, 0, GENESIS_HASH).break?.seq, 2);
  assert.equal(verifyChain(records.slice(2), 2, records[1]!.hash).break, null, 'from a pruned start');
});
