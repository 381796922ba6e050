import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type CardFilter,
  matchesCard,
  type PropFilter,
  parseVCard,
  VCARD_LIMITS,
  VCardError,
} from './vcard.ts';

const card = (...lines: string[]) => ['BEGIN:VCARD', 'VERSION:3.0', ...lines, 'END:VCARD', ''].join('\r\n');
const ADA = card(
  'UID:ada-1',
  'FN:Ada Lovelace',
  'N:Lovelace;Ada;;;',
  'item1.EMAIL;TYPE=INTERNET,WORK;TYPE=pref:ada@example.org',
  'TEL;TYPE="cell,voice":+44 20 7946 0000',
  'NOTE:Wrote the first program\\, they say',
  'ORG:Analytical Engine',
  ' Society',
);

const prop = (name: string, more: Partial<PropFilter> = {}): PropFilter => ({
  name,
  test: 'anyof',
  isNotDefined: false,
  textMatches: [],
  paramFilters: [],
  ...more,
});
const text = (t: string, matchType: 'equals' | 'contains' | 'starts-with' | 'ends-with' = 'contains') => ({
  text: t,
  collation: 'i;unicode-casemap' as const,
  matchType,
  negate: false,
});

describe('vCards', () => {
  test('a card: UID, version, groups, parameters with lists and quotes, folded lines', () => {
    const c = parseVCard(ADA);
    assert.equal(c.uid, 'ada-1');
    assert.equal(c.version, '3.0');
    const email = c.properties.find((p) => p.name === 'EMAIL')!;
    assert.equal(email.group, 'item1');
    assert.deepEqual(email.params.get('TYPE'), ['INTERNET', 'WORK', 'pref']);
    assert.deepEqual(c.properties.find((p) => p.name === 'TEL')!.params.get('TYPE'), ['cell,voice']);
    assert.equal(c.properties.find((p) => p.name === 'ORG')!.value, 'Analytical EngineSociety');
    assert.equal(
      parseVCard(card('UID:x', 'TEL;CELL:1'))
        .properties.find((p) => p.name === 'TEL')!
        .params.get('CELL')![0],
      'CELL',
    );
  });

  test('refused: not one VCARD, no or two UIDs, unknown version, nesting, oversize, broken lines', () => {
    const refused = [
      'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n',
      card('FN:No uid'),
      card('UID:a', 'UID:b'),
      card(`UID:${'x'.repeat(256)}`),
      ['BEGIN:VCARD', 'VERSION:5.0', 'UID:a', 'END:VCARD'].join('\r\n'),
      `${card('UID:a')}${card('UID:b')}`,
      card('UID:a', 'BEGIN:VCARD', 'END:VCARD'),
      card('UID:a', 'no colon here'),
      card('UID:a', 'X;P="unclosed:v'),
      card('UID:a', `NOTE:${'x'.repeat(VCARD_LIMITS.maxBytes)}`),
      card('UID:a', ...Array.from({ length: VCARD_LIMITS.maxLines }, (_, i) => `X-N:${i}`)),
      card('UID:a', `X${';P=1'.repeat(VCARD_LIMITS.maxParams + 1)}:v`),
      'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\n',
    ];
    for (const t of refused) assert.throws(() => parseVCard(t), VCardError, t.slice(0, 80));
  });

  test('addressbook-query filters: text-match kinds, collations, negation, param-filter, is-not-defined', () => {
    const c = parseVCard(ADA);
    const one = (f: PropFilter) => matchesCard(c, { test: 'anyof', props: [f] });
    assert.equal(one(prop('FN', { textMatches: [text('ada', 'starts-with')] })), true);
    assert.equal(one(prop('FN', { textMatches: [text('LOVELACE', 'ends-with')] })), true);
    assert.equal(one(prop('FN', { textMatches: [text('ada lovelace', 'equals')] })), true);
    assert.equal(one(prop('FN', { textMatches: [text('ada', 'equals')] })), false);
    assert.equal(
      one(prop('FN', { textMatches: [{ ...text('ada'), collation: 'i;octet' }] })),
      false,
      'i;octet is case-sensitive',
    );
    assert.equal(one(prop('FN', { textMatches: [{ ...text('babbage'), negate: true }] })), true);
    assert.equal(one(prop('NOTE', { textMatches: [text('program, they')] })), true, 'escapes undone');
    assert.equal(
      one(
        prop('EMAIL', {
          paramFilters: [{ name: 'type', isNotDefined: false, textMatch: text('work', 'equals') }],
        }),
      ),
      true,
    );
    assert.equal(
      one(prop('EMAIL', { paramFilters: [{ name: 'X-NO', isNotDefined: true, textMatch: null }] })),
      true,
    );
    assert.equal(one(prop('PHOTO', { isNotDefined: true })), true);
    assert.equal(one(prop('PHOTO')), false);
    assert.equal(one(prop('EMAIL')), true, 'a bare prop-filter: the property exists');
    const both: CardFilter = {
      test: 'allof',
      props: [prop('FN', { textMatches: [text('ada')] }), prop('TEL', { textMatches: [text('+44')] })],
    };
    assert.equal(matchesCard(c, both), true);
    assert.equal(matchesCard(c, { ...both, props: [...both.props, prop('PHOTO')] }), false);
    assert.equal(matchesCard(c, { test: 'anyof', props: [prop('PHOTO'), prop('FN')] }), true);
    assert.equal(
      one(prop('FN', { test: 'allof', textMatches: [text('ada'), text('babbage')] })),
      false,
      'allof within a prop-filter',
    );
    assert.equal(matchesCard(c, { test: 'anyof', props: [] }), true, 'no filter: every card');
  });
});
