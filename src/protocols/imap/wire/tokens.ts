/**
 * @module IMAP argument syntax (RFC 9051 §9): turns a framed command into tokens (atoms, strings,
 * parenthesised lists) and offers typed readers for command arguments.
 * Bounds: list nesting depth and token count are limited; NUL, CR and LF in quoted strings and
 * invalid UTF-8 in strings are syntax errors (ATTACKS.md IM-12).
 * Trust: input is raw network bytes.
 */
import type { Frame } from './reader.ts';

/** A syntax error: the command gets `BAD`. */
export class ImapSyntaxError extends Error {
  override name = 'ImapSyntaxError';
}

/** One argument token. Strings keep their bytes; atoms are ASCII. */
export type Token =
  | { t: 'atom'; v: string }
  | { t: 'string'; v: Buffer; literal: boolean }
  | { t: 'list'; v: Token[] };

const MAX_DEPTH = 32;
const MAX_TOKENS = 100_000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

type Lexeme = Token | { t: 'open' } | { t: 'close' };

function lexText(buf: Buffer, out: Lexeme[]): void {
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const c = buf[i]!;
    if (c === 0x20) {
      i++;
    } else if (c === 0x28) {
      out.push({ t: 'open' });
      i++;
    } else if (c === 0x29) {
      out.push({ t: 'close' });
      i++;
    } else if (c === 0x22) {
      const bytes: number[] = [];
      i++;
      for (;;) {
        if (i >= n) throw new ImapSyntaxError('unterminated quoted string');
        const d = buf[i]!;
        if (d === 0x22) break;
        if (d === 0x5c) {
          const e = buf[i + 1];
          if (e !== 0x22 && e !== 0x5c) throw new ImapSyntaxError('invalid escape in quoted string');
          bytes.push(e);
          i += 2;
          continue;
        }
        if (d === 0x00 || d === 0x0d || d === 0x0a)
          throw new ImapSyntaxError('NUL, CR or LF in quoted string');
        bytes.push(d);
        i++;
      }
      i++;
      out.push({ t: 'string', v: Buffer.from(bytes), literal: false });
    } else {
      const start = i;
      let depth = 0;
      while (i < n) {
        const d = buf[i]!;
        if (d === 0x5b) depth++;
        else if (d === 0x5d) depth = Math.max(0, depth - 1);
        else if (depth === 0 && (d === 0x20 || d === 0x28 || d === 0x29)) break;
        else if (d === 0x22 && depth === 0) throw new ImapSyntaxError('quote inside an atom');
        if (d < 0x20 || d === 0x7f) throw new ImapSyntaxError('control character in command');
        i++;
      }
      if (depth > 0) throw new ImapSyntaxError('unbalanced [ in atom');
      out.push({ t: 'atom', v: buf.toString('latin1', start, i) });
    }
    if (out.length > MAX_TOKENS) throw new ImapSyntaxError('too many arguments');
  }
}

/** Splits a frame into its tag, command name and argument tokens. */
export function tokenize(frame: Frame): { tag: string; name: string; args: Token[] } {
  const lexemes: Lexeme[] = [];
  frame.text.forEach((text, i) => {
    lexText(text, lexemes);
    const lit = frame.literals[i];
    if (lit) lexemes.push({ t: 'string', v: lit, literal: true });
  });
  const root: Token[] = [];
  const stack: Token[][] = [root];
  for (const l of lexemes) {
    if (l.t === 'open') {
      if (stack.length > MAX_DEPTH) throw new ImapSyntaxError('lists nested too deeply');
      const list: Token[] = [];
      stack[stack.length - 1]!.push({ t: 'list', v: list });
      stack.push(list);
    } else if (l.t === 'close') {
      if (stack.length === 1) throw new ImapSyntaxError('unbalanced )');
      stack.pop();
    } else stack[stack.length - 1]!.push(l);
  }
  if (stack.length !== 1) throw new ImapSyntaxError('unbalanced (');
  const tag = root.shift();
  if (tag?.t !== 'atom' || !/^[\x21-\x7e]+$/.test(tag.v) || /[(){%*"\\+]/.test(tag.v)) {
    throw new ImapSyntaxError('missing or invalid tag');
  }
  const name = root.shift();
  if (name?.t !== 'atom' || !/^[A-Za-z]+$/.test(name.v))
    throw new ImapSyntaxError(`${tag.v}\0missing or invalid command`);
  return { tag: tag.v, name: name.v.toUpperCase(), args: root };
}

/** Reads command arguments in order. Every reader throws ImapSyntaxError on a mismatch. */
export class Args {
  #i = 0;
  constructor(readonly tokens: Token[]) {}

  get done(): boolean {
    return this.#i >= this.tokens.length;
  }

  peek(): Token | undefined {
    return this.tokens[this.#i];
  }

  next(what: string): Token {
    const t = this.tokens[this.#i++];
    if (!t) throw new ImapSyntaxError(`missing ${what}`);
    return t;
  }

  /** An atom, upper-cased when `upper`. */
  atom(what = 'argument', upper = true): string {
    const t = this.next(what);
    if (t.t !== 'atom') throw new ImapSyntaxError(`${what} must be an atom`);
    return upper ? t.v.toUpperCase() : t.v;
  }

  /** An astring (atom, quoted or literal) as bytes. */
  astringBytes(what = 'argument'): Buffer {
    const t = this.next(what);
    if (t.t === 'atom') return Buffer.from(t.v, 'latin1');
    if (t.t === 'string') return t.v;
    throw new ImapSyntaxError(`${what} must be a string`);
  }

  /** An astring decoded as UTF-8 (invalid UTF-8 is a syntax error). */
  astring(what = 'argument'): string {
    const b = this.astringBytes(what);
    try {
      return utf8.decode(b);
    } catch {
      throw new ImapSyntaxError(`${what} is not valid UTF-8`);
    }
  }

  /** An nstring: NIL or a string. */
  nstring(what = 'argument'): string | null {
    const t = this.peek();
    if (t?.t === 'atom' && t.v.toUpperCase() === 'NIL') {
      this.#i++;
      return null;
    }
    return this.astring(what);
  }

  /** A non-negative number up to 2^63 (RFC 9051 number64). */
  number(what = 'number', max = Number.MAX_SAFE_INTEGER): number {
    const v = this.atom(what);
    if (!/^\d{1,19}$/.test(v)) throw new ImapSyntaxError(`${what} must be a number`);
    const n = Number(v);
    if (n > max) throw new ImapSyntaxError(`${what} is too large`);
    return n;
  }

  /** A parenthesised list. */
  list(what = 'list'): Args {
    const t = this.next(what);
    if (t.t !== 'list') throw new ImapSyntaxError(`${what} must be a parenthesised list`);
    return new Args(t.v);
  }

  /** True and consumed when the next token is a list. */
  isList(): boolean {
    return this.peek()?.t === 'list';
  }

  /** Fails if arguments are left over. */
  end(): void {
    if (!this.done) throw new ImapSyntaxError('too many arguments');
  }
}
