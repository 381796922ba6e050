import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseSubject, formatThreads, threadReferences } from './sort.ts';

test('RFC 5256 base subject', () => {
  const cases: [string, string][] = [
    ['Re: hello', 'hello'],
    ['RE: Re: Fwd: hello', 'hello'],
    ['[list] Re: [other] hello', 'hello'],
    ['Re[2]: hello', 'hello'],
    ['hello (fwd)', 'hello'],
    ['[Fwd: hello]', 'hello'],
    ['  Hello   World  ', 'hello world'],
    ['=?UTF-8?Q?Re=3A_Gr=C3=BC=C3=9Fe?=', 'grüße'],
    ['[only a blob]', '[only a blob]'],
    ['', ''],
  ];
  for (const [input, want] of cases) assert.equal(baseSubject(input), want, input);
});

const item = (seq: number, id: string, subject: string, refs: string[], day = seq) => ({
  seq,
  uid: seq,
  size: 1,
  receivedAt: day * 86_400_000,
  sentAt: day * 86_400_000,
  envelope: {
    date: null,
    subject,
    from: null,
    sender: null,
    replyTo: null,
    to: null,
    cc: null,
    bcc: null,
    inReplyTo: null,
    messageId: id ? `<${id}>` : null,
  },
  references: refs.map((r) => `<${r}>`),
});
const thread = (items: ReturnType<typeof item>[]) => formatThreads(threadReferences(items), (i) => i.seq);

test('REFERENCES: replies hang under what they answer, a chain is written flat', () => {
  assert.equal(
    thread([
      item(1, 'a', 'Plans', []),
      item(2, 'b', 'Re: Plans', ['a']),
      item(3, 'c', 'Re: Plans', ['a', 'b']),
      item(4, 'x', 'Other', []),
    ]),
    '(1 2 3)(4)',
  );
});

test('REFERENCES: branches, each level sorted by date', () => {
  assert.equal(
    thread([
      item(1, 'a', 'Plans', []),
      item(2, 'c', 'Re: Plans', ['a'], 5),
      item(3, 'b', 'Re: Plans', ['a'], 3),
      item(4, 'd', 'Re: Plans', ['a', 'b'], 4),
    ]),
    '(1 (3 4)(2))',
  );
});

test('REFERENCES: a missing message becomes a dummy; its children are promoted when it has one', () => {
  // b is not in the mailbox: c and d both refer to it, so they share a dummy parent.
  assert.equal(thread([item(1, 'c', 'Re: Lost', ['b']), item(2, 'd', 'Re: Lost', ['b'])]), '((1)(2))');
  // Only one message refers to the missing one: no dummy is kept.
  assert.equal(thread([item(1, 'c', 'Re: Alone', ['b'])]), '(1)');
  // A missing message in the middle of a chain: the reply hangs under the nearest present one.
  assert.equal(thread([item(1, 'a', 'Chain', []), item(2, 'c', 'Re: Chain', ['a', 'b'])]), '(1 2)');
});

test('REFERENCES: threads with the same base subject are gathered; the original leads its replies', () => {
  // No references at all, as from a client that drops them: the reply joins by subject.
  assert.equal(thread([item(1, 'a', 'Budget', []), item(2, 'b', 'Re: Budget', [])]), '(1 2)');
  // Two originals with the same subject: a dummy holds both.
  assert.equal(thread([item(1, 'a', 'Budget', []), item(2, 'b', 'Budget', [])]), '((1)(2))');
});

test('REFERENCES: duplicate ids, self-references and loops never hang or lose a message', () => {
  const out = thread([
    item(1, 'a', 'Loop', ['b']),
    item(2, 'b', 'Re: Loop', ['a']),
    item(3, 'a', 'Loop again', ['a']),
    item(4, '', 'No id', ['a', 'b', 'a']),
  ]);
  for (const n of ['1', '2', '3', '4']) assert.match(out, new RegExp(`\\b${n}\\b`), out);
  assert.equal(out.match(/\d+/g)!.length, 4, `each message once: ${out}`);
});
