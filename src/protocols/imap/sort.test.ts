import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseSubject } from './sort.ts';

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
