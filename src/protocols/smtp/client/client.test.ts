import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dataBytes, RelayError, relay } from './client.ts';

test('SM-02: every line-break form becomes CRLF before dot-stuffing, so no lone dot ends DATA early', () => {
  const cases: [string, string][] = [
    ['a\r\n.\r\nb', 'a\r\n..\r\nb\r\n.\r\n'],
    ['a\n.\nb\n', 'a\r\n..\r\nb\r\n.\r\n'],
    ['a\r.\rb', 'a\r\n..\r\nb\r\n.\r\n'],
    ['.start\r\n..two', '..start\r\n...two\r\n.\r\n'],
    ['a\r\n.\r\n.\r\n', 'a\r\n..\r\n..\r\n.\r\n'],
    ['', '.\r\n'],
  ];
  for (const [input, want] of cases)
    assert.equal(dataBytes(Buffer.from(input)).toString(), want, JSON.stringify(input));
});

test('SM-09: CR, LF or NUL in a sender, recipient or EHLO name is refused before anything is sent', async () => {
  const options = {
    host: '127.0.0.1',
    port: 9,
    servername: 'x',
    helo: 'mx.test',
    requireTls: false,
    auth: null,
    timeoutMs: 1000,
  };
  for (const [from, to, helo] of [
    ['a@x.test\r\nRCPT TO:<evil@x.test>', 'b@y.test', 'mx.test'],
    ['a@x.test', 'b@y.test>\r\nDATA', 'mx.test'],
    ['a@x.test', 'b@y.test\0', 'mx.test'],
    ['a@x.test', 'b@y.test', 'mx.test\nMAIL FROM:<x>'],
  ] as const) {
    await assert.rejects(
      relay({ ...options, helo }, { from, to: [to] }, Buffer.from('x')),
      (e: unknown) => e instanceof RelayError && /CR, LF or NUL/.test(e.message),
    );
  }
});
