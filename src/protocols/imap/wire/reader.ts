/**
 * @module IMAP command framing (RFC 9051 §4.3, RFC 7888): splits the client's byte stream into
 * commands, each a list of text fragments and literals. Synchronising literals `{n}` are asked
 * for with a continuation request only when they fit the limits; non-synchronising ones `{n+}`
 * are accepted up to 4096 bytes (LITERAL-) unless the session allows more.
 * Bounds: line length, literal size, total command size and literal count are checked before any
 * byte is kept (ATTACKS.md IM-01, IM-02). Nothing here allocates more than the limits allow, and a
 * large literal is read only when the process's memory budget has room for it (DS-06).
 * Trust: input is raw network bytes.
 */

import { BUDGETED_BYTES, type MemoryBudget, UNBOUNDED_BUDGET } from '../../../core/memory-budget.ts';

/** A framed command: text pieces with literals between them. */
export interface Frame {
  /** Text pieces, always one more than literals; literal i sits between text i and text i+1. */
  text: Buffer[];
  literals: Buffer[];
  /** True if any literal used the literal8 form `~{n}` (RFC 3516). */
  binary: boolean;
  /** Bytes of the memory budget the literals hold; the session gives them back when done. */
  held: number;
}

/** Limits the reader enforces; the session changes them after login. */
export interface ReaderLimits {
  /** Longest command line (without literals). */
  maxLine: number;
  /** Largest command other than APPEND, literals included (ATTACKS.md IM-02: 64 KiB). */
  maxCommand: number;
  /** Largest APPEND command, literals included (0 before login: APPEND needs a session). */
  maxAppend: number;
  /** Most literals in one command. */
  maxLiterals: number;
  /** Largest non-synchronising literal (4096 for LITERAL-, RFC 7888 §4). */
  maxNonSyncLiteral: number;
  /** Largest message one APPEND literal may carry. */
  maxMessage: number;
}

/** What the reader tells the session. */
export type ReaderEvent =
  | { kind: 'frame'; frame: Frame }
  | { kind: 'continue' }
  | { kind: 'too-big'; tag: string; what: string; fatal: boolean; message?: boolean }
  /** A large literal the memory budget has no room for now; its bytes, if sent, are skipped. */
  | { kind: 'busy'; tag: string };

const LITERAL_RE = /(~?)\{(\d{1,10})(\+?)\}$/;

/** Incremental command reader. Feed bytes with `push`; events are returned in order. */
export class CommandReader {
  #buf: Buffer = Buffer.alloc(0);
  #text: Buffer[] = [];
  #literals: Buffer[] = [];
  #binary = false;
  #size = 0;
  /** Bytes still to read for the current literal, or -1 when reading a line. */
  #literalLeft = -1;
  #literalParts: Buffer[] = [];
  /** Bytes of a refused literal still to skip. */
  #skip = 0;
  /** Budget bytes taken for the command being read. */
  #held = 0;

  constructor(
    public limits: ReaderLimits,
    private readonly budget: MemoryBudget = UNBOUNDED_BUDGET,
  ) {}

  /** Discards everything buffered (STARTTLS: bytes sent before the handshake never count; a
   * closed connection gives back what its unfinished command held). */
  reset(): void {
    this.#buf = Buffer.alloc(0);
    this.#startCommand();
    this.#skip = 0;
  }

  /** True when a command is partly received (for idle timeouts that differ mid-command). */
  get busy(): boolean {
    return this.#buf.length > 0 || this.#text.length > 0 || this.#literalLeft >= 0;
  }

  #startCommand(): void {
    this.budget.give(this.#held);
    this.#held = 0;
    this.#text = [];
    this.#literals = [];
    this.#binary = false;
    this.#size = 0;
    this.#literalLeft = -1;
    this.#literalParts = [];
  }

  /** Feeds bytes; returns the events they complete. */
  push(chunk: Buffer): ReaderEvent[] {
    const events: ReaderEvent[] = [];
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    for (;;) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, this.#buf.length);
        this.#skip -= n;
        this.#buf = this.#buf.subarray(n);
        if (this.#skip > 0) return events;
        continue;
      }
      if (this.#literalLeft >= 0) {
        const n = Math.min(this.#literalLeft, this.#buf.length);
        if (n > 0) this.#literalParts.push(this.#buf.subarray(0, n));
        this.#literalLeft -= n;
        this.#buf = this.#buf.subarray(n);
        if (this.#literalLeft > 0) return events;
        this.#literals.push(Buffer.concat(this.#literalParts));
        this.#literalParts = [];
        this.#literalLeft = -1;
        continue;
      }
      const nl = this.#buf.indexOf(0x0a);
      if (nl < 0) {
        if (this.#buf.length > this.limits.maxLine) {
          const tag = this.#tagOf(this.#buf);
          this.#buf = Buffer.alloc(0);
          this.#startCommand();
          events.push({ kind: 'too-big', tag, what: 'command line too long', fatal: true });
        }
        return events;
      }
      let line = this.#buf.subarray(0, nl);
      this.#buf = this.#buf.subarray(nl + 1);
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      if (line.length > this.limits.maxLine) {
        const tag = this.#tagOf(this.#text[0] ?? line);
        this.#startCommand();
        events.push({ kind: 'too-big', tag, what: 'command line too long', fatal: false });
        continue;
      }
      this.#size += line.length;
      const m = LITERAL_RE.exec(line.toString('latin1'));
      if (!m) {
        this.#text.push(line);
        events.push({
          kind: 'frame',
          frame: { text: this.#text, literals: this.#literals, binary: this.#binary, held: this.#held },
        });
        this.#held = 0;
        this.#startCommand();
        continue;
      }
      const size = Number(m[2]);
      const nonSync = m[3] === '+';
      this.#text.push(line.subarray(0, line.length - m[0].length));
      const tag = this.#tagOf(this.#text[0]!);
      const append = /^[^ ]+ (?:UID )?APPEND /i.test(this.#text[0]!.toString('latin1'));
      // A message over the size limit is refused as such (NO [TOOBIG]), before it is sent.
      const message = append && this.limits.maxMessage > 0 && size > this.limits.maxMessage;
      const tooBig =
        message ||
        this.#size + size > (append ? this.limits.maxAppend : this.limits.maxCommand) ||
        this.#literals.length + 1 > this.limits.maxLiterals ||
        (nonSync && size > this.limits.maxNonSyncLiteral);
      if (tooBig) {
        this.#startCommand();
        if (nonSync) {
          // The client sends the bytes anyway (RFC 7888 §5): refuse, and hang up rather than
          // read an unbounded amount of data.
          events.push({ kind: 'too-big', tag, what: 'literal too big', fatal: true });
          return events;
        }
        // A synchronising literal is never sent without our continuation: refuse it and go on
        // reading commands (RFC 9051 §7.5: the client must not send the literal).
        events.push(
          message
            ? { kind: 'too-big', tag, what: 'message too big', fatal: false, message }
            : { kind: 'too-big', tag, what: 'literal too big', fatal: false },
        );
        continue;
      }
      if (size >= BUDGETED_BYTES && !this.budget.take(size)) {
        this.#startCommand();
        // A non-synchronising literal comes anyway: its bytes are skipped, never kept.
        if (nonSync) this.#skip = size;
        events.push({ kind: 'busy', tag });
        continue;
      }
      if (size >= BUDGETED_BYTES) this.#held += size;
      if (m[1] === '~') this.#binary = true;
      this.#size += size;
      this.#literalLeft = size;
      if (!nonSync) events.push({ kind: 'continue' });
    }
  }

  #tagOf(line: Buffer): string {
    const sp = line.indexOf(0x20);
    const tag = line.subarray(0, sp < 0 ? Math.min(line.length, 64) : Math.min(sp, 64)).toString('latin1');
    return /^[\x21-\x7e]+$/.test(tag) && !/[(){%*"\\+]/.test(tag) ? tag : '*';
  }
}
