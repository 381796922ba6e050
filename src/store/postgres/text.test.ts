import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { noPostgres, testDatabase } from '../../../test/helpers/postgres.ts';
import { tsqueryLiteral, tsvectorLiteral } from './text.ts';

test('tsvector literals: folded words with their positions, nothing PostgreSQL would parse', () => {
  assert.equal(tsvectorLiteral('Café, CAFE; naïve—x'), "'cafe':1,2 'naive':3 'x':4");
  assert.equal(tsvectorLiteral("O'Brien <o.brien@example.org>"), "'o':1,3 'brien':2,4 'example':5 'org':6");
  assert.equal(tsvectorLiteral(''), '');
  assert.equal(tsvectorLiteral("'); DROP TABLE messages; --"), "'drop':1 'table':2 'messages':3");
  // One word repeated is kept at 255 positions; a position never passes 16,383.
  const many = tsvectorLiteral('a '.repeat(20_000));
  assert.equal(many.split(',').length, 255);
  assert.ok(!tsvectorLiteral(`${'x '.repeat(17_000)}last`).includes(':16384'));
});

test('tsquery literals: phrases of words, all required, syntax inert', () => {
  assert.equal(tsqueryLiteral('invoice'), "('invoice')");
  assert.equal(
    tsqueryLiteral('Café o.brien@example.org'),
    "('cafe') & ('o' <-> 'brien' <-> 'example' <-> 'org')",
  );
  assert.equal(tsqueryLiteral('"*) OR ('), "('or')");
  assert.equal(tsqueryLiteral('!&|<->:*'), null);
});

test('PostgreSQL reads the literals as to_tsvector and phraseto_tsquery would make them', {
  skip: noPostgres,
}, async () => {
  const db = await testDatabase();
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const text = 'Ünïcode Straße 42nd 3.14 ÆØÅ 東京 résumé, résumé again: x1y2 _under_score';
    const words = tsvectorLiteral(text)
      .split(' ')
      .map((e) => e.slice(1, e.indexOf("'", 1)));
    const r = await c.query(
      "SELECT $1::tsvector = to_tsvector('simple', $2) AS same, $1::tsvector @@ $3::tsquery AS found",
      [
        tsvectorLiteral(text),
        text
          .normalize('NFKD')
          .replace(/\p{M}+/gu, '')
          .toLowerCase()
          .match(/[\p{L}\p{N}]+/gu)!
          .join(' '),
        tsqueryLiteral('Straße 42nd RESUME'),
      ],
    );
    assert.ok(words.length > 5);
    assert.deepEqual(r.rows[0], { same: true, found: true });
  } finally {
    await c.end();
    await db.drop();
  }
});
