import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode, raw } from './encode.ts';
import { CommandReader, type ReaderEvent } from './reader.ts';
import { formatSet, inSet, MAX_RANGES, parseSequenceSet } from './sequence.ts';
import { Args, ImapSyntaxError, tokenize } from './tokens.ts';
import { decodeMutf7, encodeMutf7 } from './utf7.ts';

const limits = {
  maxLine: 1000,
  maxCommand: 2000,
  maxAppend: 10_000,
  maxLiterals: 3,
  maxNonSyncLiteral: 100,
  maxMessage: 5000,
};
const kinds = (evs: ReaderEvent[]) =>
  evs.map((e) => (e.kind === 'too-big' ? `too-big:${e.tag}:${e.fatal}` : e.kind));

describe('CommandReader', () => {
  test('lines, CRLF or LF, split across chunks', () => {
    const r = new CommandReader(limits);
    assert.deepEqual(kinds(r.push(Buffer.from('a NOOP\r\nb NO'))), ['frame']);
    assert.deepEqual(kinds(r.push(Buffer.from('OP\n'))), ['frame']);
  });
  test('a synchronising literal asks for continuation, then completes the frame', () => {
    const r = new CommandReader(limits);
    assert.deepEqual(kinds(r.push(Buffer.from('a LOGIN {3}\r\n'))), ['continue']);
    const evs = r.push(Buffer.from('bob "pw"\r\n'));
    assert.equal(evs.length, 1);
    const f = evs[0]!.kind === 'frame' ? evs[0]!.frame : null;
    assert.ok(f);
    assert.equal(f.literals[0]!.toString(), 'bob');
    assert.deepEqual(
      tokenize(f).args.map((t) => (t.t === 'string' ? t.v.toString() : t.t)),
      ['bob', 'pw'],
    );
  });
  test('LITERAL+ needs no continuation; literal8 is marked binary', () => {
    const r = new CommandReader(limits);
    const evs = r.push(Buffer.from('a APPEND x ~{3+}\r\nabc\r\n'));
    assert.deepEqual(kinds(evs), ['frame']);
    assert.equal(evs[0]!.kind === 'frame' && evs[0]!.frame.binary, true);
  });
  test('oversized literals: synchronising ones are refused and reading goes on; non-synchronising ones end the connection', () => {
    const r = new CommandReader(limits);
    assert.deepEqual(kinds(r.push(Buffer.from('a SEARCH TEXT {5000}\r\nb NOOP\r\n'))), [
      'too-big:a:false',
      'frame',
    ]);
    assert.deepEqual(kinds(r.push(Buffer.from('c SEARCH TEXT {101+}\r\n'))), ['too-big:c:true']);
  });
  test('APPEND may carry more than other commands; literal count is bounded', () => {
    const r = new CommandReader(limits);
    assert.deepEqual(kinds(r.push(Buffer.from('a APPEND x {5000}\r\n'))), ['continue']);
    const one = new CommandReader(limits);
    const big = one.push(Buffer.from('b APPEND x {5001}\r\nc NOOP\r\n'));
    assert.deepEqual(
      kinds(big),
      ['too-big:b:false', 'frame'],
      'a message over the size limit, then reading goes on',
    );
    assert.ok(big[0]!.kind === 'too-big' && big[0]!.message);
    const r2 = new CommandReader(limits);
    let evs: ReaderEvent[] = [];
    for (let i = 0; i < 4; i++)
      evs = evs.concat(
        r2.push(Buffer.from(`${i === 0 ? 'a SEARCH TEXT ' : 'x '}{1}\r\n`)),
        r2.push(Buffer.from('x')),
      );
    assert.ok(kinds(evs).includes('too-big:a:false'));
  });
  test('an endless line is cut at the limit', () => {
    const r = new CommandReader(limits);
    const evs = r.push(Buffer.alloc(1500, 0x61));
    assert.equal(evs.length, 1);
    assert.ok(evs[0]!.kind === 'too-big' && evs[0]!.fatal);
  });
});

describe('tokenize', () => {
  const toks = (line: string) =>
    tokenize({ text: [Buffer.from(line)], literals: [], binary: false, held: 0 });
  test('tag, command, atoms, quoted strings with escapes, lists, bracket atoms', () => {
    const t = toks('A1 fetch 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>) "a \\"q\\" \\\\b"');
    assert.equal(t.tag, 'A1');
    assert.equal(t.name, 'FETCH');
    assert.deepEqual(t.args[1], {
      t: 'list',
      v: [
        { t: 'atom', v: 'FLAGS' },
        { t: 'atom', v: 'BODY.PEEK[HEADER.FIELDS (From To)]<0.100>' },
      ],
    });
    assert.deepEqual(t.args[2], { t: 'string', v: Buffer.from('a "q" \\b'), literal: false });
  });
  const bad = [
    '',
    'A1',
    '* NOOP',
    'A+1 NOOP',
    'A1 LOGIN "us\0er" x',
    'A1 X "unterminated',
    'A1 X ((a)',
    'A1 X a)',
    'A1 X [a',
    'A1 X "bad \\x escape"',
    `A1 X ${'('.repeat(40)}${')'.repeat(40)}`,
  ];
  for (const line of bad)
    test(`refuses ${JSON.stringify(line.slice(0, 40))}`, () =>
      assert.throws(() => toks(line), ImapSyntaxError));
  test('Args readers', () => {
    const a = new Args(toks('t X "bücher" NIL 42 (a b) atom').args);
    assert.equal(a.astring(), 'bücher');
    assert.equal(a.nstring(), null);
    assert.equal(a.number(), 42);
    assert.equal(a.list().atom(), 'A');
    assert.equal(a.atom('x', false), 'atom');
    a.end();
    const invalid = tokenize({
      text: [Buffer.from('t X "\xff"', 'latin1')],
      literals: [],
      binary: false,
      held: 0,
    });
    assert.throws(() => new Args(invalid.args).astring(), /UTF-8/);
    assert.throws(() => new Args(toks('t X 99999999999999999999').args).number(), ImapSyntaxError);
  });
});

describe('sequence sets (ATTACKS.md IM-05)', () => {
  test('ranges, stars and reversed ranges', () => {
    const set = parseSequenceSet('1:3,7,*,10:8');
    assert.ok(inSet(set, 2, 100) && inSet(set, 9, 100) && inSet(set, 100, 100));
    assert.ok(!inSet(set, 5, 100));
    assert.deepEqual(parseSequenceSet('1:4294967295'), [[1, 4294967295]]);
  });
  test('limits and syntax', () => {
    assert.throws(() => parseSequenceSet('0'), ImapSyntaxError);
    assert.throws(() => parseSequenceSet('4294967296'), ImapSyntaxError);
    assert.throws(() => parseSequenceSet('1:2:3'), ImapSyntaxError);
    assert.throws(() => parseSequenceSet('$'), ImapSyntaxError);
    assert.throws(
      () =>
        parseSequenceSet(
          Array(MAX_RANGES + 1)
            .fill('1')
            .join(','),
        ),
      /too many ranges/,
    );
  });
  test('formatSet compacts', () => assert.equal(formatSet([5, 1, 2, 3, 9, 10]), '1:3,5,9:10'));
});

describe('modified UTF-7 (RFC 3501 §5.1.3)', () => {
  const cases: [string, string][] = [
    ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
    ['A&B', 'A&-B'],
    ['Entwürfe', 'Entw&APw-rfe'],
    ['INBOX', 'INBOX'],
  ];
  for (const [plain, encoded] of cases) {
    test(plain, () => {
      assert.equal(encodeMutf7(plain), encoded);
      assert.equal(decodeMutf7(encoded), plain);
    });
  }
  test('invalid input', () => {
    assert.equal(decodeMutf7('&Jjo'), null);
    assert.equal(decodeMutf7('&!!-'), null);
    assert.equal(decodeMutf7('bad\u00e9'), null);
  });
});

test('encode quotes safe strings and uses literals otherwise', () => {
  assert.equal(encode(['a"b', null, 3, raw('\\Seen')]).toString(), '("a\\"b" NIL 3 \\Seen)');
  assert.equal(encode('line\r\nbreak').toString(), '{11}\r\nline\r\nbreak');
  assert.equal(encode('é', false).toString(), '{2}\r\né');
});
