/**
 * @module IMAP4rev2 session (RFC 9051) with IMAP4rev1 (RFC 3501) behaviour for clients that do not
 * ENABLE IMAP4rev2, and the extensions listed in CAPABILITIES.
 * Trust: parses untrusted network bytes; runs unprivileged; reaches data only through services,
 * as the authenticated user. Commands are processed one at a time in arrival order.
 * Invariants: nothing received before STARTTLS is processed after it (ATTACKS.md ST-02); no
 * authentication without TLS unless the listener allows plaintext on loopback (AU-05); a session
 * sees only its own account (IM-09); sequence numbers change only when the client may see an
 * EXPUNGE (RFC 9051 §7.5.1).
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { createDeflateRaw, createInflateRaw, type DeflateRaw, constants as zlibConstants } from 'node:zlib';
import type { Admission, ConnectionGuard } from '../../core/conn-guard.ts';
import { randomId } from '../../core/ids.ts';
import type { Logger } from '../../core/log.ts';
import type { MemoryBudget } from '../../core/memory-budget.ts';
import type { Ctx, Mailbox, MailboxEntry, Origin, Services } from '../../services/index.ts';
import type { MessageView } from '../../services/mail.ts';
import type { ImapCommand } from './commands/types.ts';
import { ImapNo } from './errors.ts';
import { encode, raw, type Value } from './wire/encode.ts';
import { CommandReader, type Frame, type ReaderEvent } from './wire/reader.ts';
import { formatSet, type SeqRange } from './wire/sequence.ts';
import { Args, ImapSyntaxError, tokenize } from './wire/tokens.ts';
import { decodeMutf7, encodeMutf7 } from './wire/utf7.ts';

/** Limits and timeouts of one IMAP listener. */
export interface ImapLimits {
  maxMessageSize: number;
  /** Idle time before login (RFC 9051 §5.4 lets servers be strict before authentication). */
  preAuthTimeoutMs: number;
  /** Idle time after login: at least 30 minutes (RFC 9051 §5.4). */
  idleTimeoutMs: number;
  /** Time one costly command may take (ATTACKS.md IM-06). */
  commandBudgetMs: number;
  /** Time from connecting to signing in, however active the client (ATTACKS.md DS-01). */
  loginDeadlineMs: number;
}

/** What every session of a listener shares. */
export interface ImapDeps {
  services: Pick<Services, 'directory' | 'mail' | 'changes'>;
  /** The command table (commands/index.ts), injected so this module does not import handlers. */
  commands: Record<string, ImapCommand>;
  /** Connection admission shared by every listener of the process. */
  guard: ConnectionGuard;
  /** Authenticated sessions per account, shared by every IMAP listener (IM-11). */
  perUser: { limit: number; counts: Map<number, number> };
  /** The process's memory budget for large literals (DS-06); unbounded when absent. */
  budget?: MemoryBudget;
  hostname: string;
  tls: { key: Buffer; cert: Buffer };
  log: Logger;
  limits: ImapLimits;
}

/** The selected mailbox as this session knows it. */
export interface Selected {
  box: Mailbox;
  readOnly: boolean;
  /** UIDs in sequence-number order. */
  uids: number[];
  entries: Map<number, MailboxEntry>;
  /** Highest modseq whose changes this session has applied. */
  modseq: number;
  /** Expunges seen but not yet reported (reported when sequence numbers may change). */
  pendingExpunge: Set<number>;
}

/** Command limits before login: short commands, few literals, no APPEND (ATTACKS.md IM-02). */
export const PRE_AUTH_LIMITS = {
  maxLine: 8192,
  maxCommand: 16 * 1024,
  maxAppend: 0,
  maxLiterals: 4,
  maxNonSyncLiteral: 4096,
  maxMessage: 0,
};

/** Extensions offered in every state. */
const CAPABILITIES = [
  'IMAP4rev1',
  'IMAP4rev2',
  'LITERAL+',
  'SASL-IR',
  'ID',
  'ENABLE',
  'IDLE',
  'NAMESPACE',
  'UNSELECT',
  'CHILDREN',
  'UIDPLUS',
  'MOVE',
  'CONDSTORE',
  'QRESYNC',
  'ESEARCH',
  'LIST-EXTENDED',
  'LIST-STATUS',
  'SPECIAL-USE',
  'QUOTA',
  'QUOTA=RES-STORAGE',
  'STATUS=SIZE',
  'BINARY',
  'UTF8=ACCEPT',
  'MULTIAPPEND',
  'SORT',
  'THREAD=ORDEREDSUBJECT',
  'THREAD=REFERENCES',
];

/** One IMAP connection. */
export class Session {
  state: 'not-authenticated' | 'authenticated' | 'selected' | 'logout' = 'not-authenticated';
  ctx: Ctx | null = null;
  readonly id = randomId(8);
  secure: boolean;
  readonly enabled = new Set<string>();
  selected: Selected | null = null;
  clientId: string | null = null;
  authFailures = 0;
  /** Set while IDLE runs: its tag. */
  idleTag: string | null = null;
  /** Set while AUTHENTICATE waits for the client's response. */
  saslStep: ((line: string) => Promise<void>) | null = null;

  #socket: Socket;
  #reader: CommandReader;
  #queue: Promise<void> = Promise.resolve();
  #epoch = 0;
  #unwatch: (() => void) | null = null;
  #closed = false;
  #accountId: number | null = null;
  #deflate: DeflateRaw | null = null;
  #deadline = 0;
  #loginTimer: NodeJS.Timeout;
  #remote: string;

  constructor(
    readonly deps: ImapDeps,
    socket: Socket,
    readonly options: {
      implicitTls: boolean;
      plaintextAuth: boolean;
      listener: string;
      admission: Admission;
    },
  ) {
    this.#socket = socket;
    this.#reader = new CommandReader({ ...PRE_AUTH_LIMITS }, deps.budget);
    this.secure = options.implicitTls;
    this.#remote = socket.remoteAddress ?? 'unknown';
    this.#attach(socket);
    // However busy it keeps the connection, a client must sign in in time (ATTACKS.md DS-01).
    this.#loginTimer = setTimeout(() => {
      this.send('* BYE Sign-in took too long');
      this.close();
    }, deps.limits.loginDeadlineMs);
    this.#loginTimer.unref();
    this.send(
      `* OK [CAPABILITY ${this.capabilities().join(' ')}] ${deps.hostname} Portcullis IMAP4rev2 ready`,
    );
  }

  /** Where the session comes from, as the services record it. */
  get origin(): Origin {
    return {
      protocol: 'imap',
      listener: this.options.listener,
      remote: this.#remote,
      sessionId: this.id,
      tls: this.#tlsVersion(),
      client: this.clientId,
    };
  }

  #tlsVersion(): string | null {
    return this.#socket instanceof TLSSocket ? (this.#socket.getProtocol() ?? 'TLS') : null;
  }

  get log(): Logger {
    return this.deps.log;
  }

  get services(): ImapDeps['services'] {
    return this.deps.services;
  }

  /** True when mailbox names and strings travel as UTF-8 (RFC 9051, RFC 6855). */
  get utf8(): boolean {
    return this.enabled.has('IMAP4REV2') || this.enabled.has('UTF8=ACCEPT');
  }

  get rev2(): boolean {
    return this.enabled.has('IMAP4REV2');
  }

  /** Capabilities for the current state (RFC 9051 §7.2.2). */
  capabilities(): string[] {
    const caps = [...CAPABILITIES, `APPENDLIMIT=${this.deps.limits.maxMessageSize}`];
    if (this.state === 'not-authenticated') {
      if (!this.secure) caps.push('STARTTLS');
      if (this.secure || this.options.plaintextAuth) caps.push('AUTH=PLAIN', 'AUTH=LOGIN');
      else caps.push('LOGINDISABLED');
    } else if (!this.#deflate) caps.push('COMPRESS=DEFLATE');
    return caps;
  }

  /** True when LOGIN and AUTHENTICATE are allowed on this connection. */
  get authAllowed(): boolean {
    return this.secure || this.options.plaintextAuth;
  }

  #attach(socket: Socket): void {
    // Responses are written as they are built; without TCP_NODELAY a response of several writes
    // waits for the client's delayed ACK (about 40 ms per command).
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE')
        this.log.info({ sid: this.id, err: err.code ?? err.message }, 'imap socket error');
      this.close();
    });
    socket.on('close', () => this.close());
    socket.setTimeout(
      this.state === 'not-authenticated' ? this.deps.limits.preAuthTimeoutMs : this.deps.limits.idleTimeoutMs,
      () => {
        this.send('* BYE Autologout; idle for too long');
        this.close();
      },
    );
  }

  #onData(chunk: Buffer): void {
    let events: ReaderEvent[];
    try {
      events = this.#reader.push(chunk);
    } catch (err) {
      this.log.error({ sid: this.id, err }, 'imap reader failed');
      this.close();
      return;
    }
    const epoch = this.#epoch;
    for (const ev of events) {
      this.#queue = this.#queue.then(async () => {
        if (epoch === this.#epoch && !this.#closed) await this.#handle(ev);
        else if (ev.kind === 'frame') this.deps.budget?.give(ev.frame.held);
      });
    }
  }

  async #handle(ev: ReaderEvent): Promise<void> {
    if (ev.kind === 'continue') {
      this.send('+ Ready for literal data');
      return;
    }
    if (ev.kind === 'busy') {
      this.send(`${ev.tag} NO [UNAVAILABLE] the server is short of memory; try again shortly`);
      return;
    }
    if (ev.kind === 'too-big') {
      this.send(`${ev.tag} ${ev.message ? 'NO' : 'BAD'} [TOOBIG] ${ev.what}`);
      if (ev.fatal) {
        this.send('* BYE Too much data');
        this.close();
      }
      return;
    }
    try {
      await this.#frame(ev.frame);
    } finally {
      this.deps.budget?.give(ev.frame.held);
    }
  }

  async #frame(frame: Frame): Promise<void> {
    if (this.idleTag !== null) {
      const line = frame.text.map((t) => t.toString('latin1')).join('');
      if (line.toUpperCase() !== 'DONE') {
        this.send(`${this.idleTag} BAD expected DONE`);
      } else this.send(`${this.idleTag} OK IDLE terminated`);
      this.idleTag = null;
      return;
    }
    if (this.saslStep) {
      const step = this.saslStep;
      this.saslStep = null;
      await step(frame.text.map((t) => t.toString('latin1')).join(''));
      return;
    }
    // The tag is known before the rest parses, so that a BAD can carry it.
    const first = frame.text[0]?.toString('latin1') ?? '';
    const candidate = first.slice(0, Math.max(0, first.indexOf(' ')));
    let tag = /^[\x21-\x7e]{1,64}$/.test(candidate) && !/[(){%*"\\+]/.test(candidate) ? candidate : '*';
    try {
      const parsed = tokenize(frame);
      tag = parsed.tag;
      let name = parsed.name;
      const args = new Args(parsed.args);
      let uid = false;
      if (name === 'UID') {
        uid = true;
        name = args.atom('UID command');
      }
      const command = this.deps.commands[uid ? `UID ${name}` : name];
      if (!command) throw new ImapSyntaxError(`unknown command ${name}`);
      if (!command.states.includes(this.state)) {
        throw new ImapSyntaxError(
          this.state === 'not-authenticated'
            ? `${name} needs authentication`
            : `${name} is not valid in this state`,
        );
      }
      this.#deadline = Date.now() + this.deps.limits.commandBudgetMs;
      // Gather the command's responses into as few packets as possible.
      const socket = this.#socket;
      socket.cork();
      try {
        await command.run(this, tag, args, frame);
      } finally {
        process.nextTick(() => socket.uncork());
      }
    } catch (err) {
      if (err instanceof ImapSyntaxError) {
        // tokenize() marks a missing command after a valid tag with a NUL: "tag\0reason".
        const [t, message] = err.message.includes('\0')
          ? (err.message.split('\0') as [string, string])
          : [tag, err.message];
        this.send(`${t} BAD ${message}`);
      } else if (err instanceof ImapNo) {
        this.send(`${tag} NO ${err.code ? `[${err.code}] ` : ''}${err.message}`);
      } else {
        this.log.error({ sid: this.id, err }, 'imap command failed');
        this.send(`${tag} NO [SERVERBUG] internal error`);
      }
    }
  }

  /** Writes one line (CRLF added) or pre-encoded parts. */
  send(line: string | Buffer): void {
    if (this.#closed) return;
    this.sendData(
      typeof line === 'string' ? Buffer.from(`${line}\r\n`) : Buffer.concat([line, Buffer.from('\r\n')]),
    );
  }

  /** Ends the running command with NO [LIMIT] once it has used its time budget; costly commands
   * call this between chunks of work (ATTACKS.md IM-06). */
  checkBudget(): void {
    if (Date.now() > this.#deadline)
      throw new ImapNo('LIMIT', 'command took too long; ask for fewer messages or a narrower search');
  }

  /** Writes bytes that already hold whole response lines (CRLF included). */
  sendData(data: Buffer): void {
    if (this.#closed) return;
    if (this.#deflate) {
      this.#deflate.write(data);
      this.#deflate.flush(zlibConstants.Z_SYNC_FLUSH);
    } else this.#socket.write(data);
  }

  /** True once COMPRESS=DEFLATE is active. */
  get compressed(): boolean {
    return this.#deflate !== null;
  }

  /**
   * Starts COMPRESS=DEFLATE (RFC 4978) in both directions. Inflated input goes through the same
   * reader limits; a stream that inflates more than 1,000-fold past 16 MiB is a decompression
   * bomb and ends the session (ATTACKS.md IM-10).
   */
  startCompression(): void {
    this.#epoch++;
    this.#reader.reset();
    const socket = this.#socket;
    const inflate = createInflateRaw();
    const deflate = createDeflateRaw();
    let compressedIn = 0;
    let inflatedOut = 0;
    socket.removeAllListeners('data');
    socket.on('data', (chunk: Buffer) => {
      compressedIn += chunk.length;
      inflate.write(chunk);
    });
    inflate.on('data', (chunk: Buffer) => {
      inflatedOut += chunk.length;
      if (inflatedOut > 16 * 1024 * 1024 && inflatedOut > compressedIn * 1000) {
        this.log.warn({ sid: this.id, compressedIn, inflatedOut }, 'imap decompression bomb');
        inflate.destroy();
        this.close();
        return;
      }
      this.#onData(chunk);
    });
    inflate.on('error', () => this.close());
    deflate.on('data', (chunk: Buffer) => socket.write(chunk));
    deflate.on('error', () => this.close());
    this.#deflate = deflate;
  }

  /** Writes `* ` + parts: strings as they are (response syntax), other values encoded. */
  untagged(...parts: (string | Value)[]): void {
    const bufs: Buffer[] = [Buffer.from('*')];
    for (const p of parts) {
      bufs.push(Buffer.from(' '));
      bufs.push(typeof p === 'string' ? Buffer.from(p, 'utf8') : encode(p, this.utf8));
    }
    this.send(Buffer.concat(bufs));
  }

  /** Encodes a mailbox name for this client (UTF-8 or modified UTF-7). */
  mailboxName(name: string): Value {
    return this.utf8 ? Buffer.from(name, 'utf8') : Buffer.from(encodeMutf7(name), 'latin1');
  }

  /** Decodes a mailbox name argument. */
  readMailboxName(args: Args): string {
    const name = args.astring('mailbox');
    if (this.utf8 || !name.includes('&')) return name;
    const decoded = decodeMutf7(name);
    if (decoded === null) throw new ImapNo('CANNOT', 'invalid modified UTF-7 in mailbox name');
    return decoded;
  }

  /** Starts TLS: everything received before the handshake is dropped (ST-02). */
  startTls(): void {
    this.#epoch++;
    this.#reader.reset();
    const plain = this.#socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    plain.setTimeout(0);
    const secure = new TLSSocket(plain, { isServer: true, key: this.deps.tls.key, cert: this.deps.tls.cert });
    this.#socket = secure;
    this.secure = true;
    this.#attach(secure);
  }

  /** Called after a successful login; false when the account has too many sessions. */
  authenticated(ctx: Ctx): boolean {
    if (ctx.principal.kind !== 'account') return false;
    const id = ctx.principal.accountId;
    const { limit, counts } = this.deps.perUser;
    const n = counts.get(id) ?? 0;
    if (n >= limit) return false;
    counts.set(id, n + 1);
    clearTimeout(this.#loginTimer);
    this.options.admission.authenticated();
    this.#accountId = id;
    this.ctx = ctx;
    this.state = 'authenticated';
    this.#reader.limits = {
      maxLine: 64 * 1024,
      maxCommand: 64 * 1024,
      maxAppend: this.deps.limits.maxMessageSize * 2 + 64 * 1024,
      maxLiterals: 100,
      maxNonSyncLiteral: this.deps.limits.maxMessageSize,
      maxMessage: this.deps.limits.maxMessageSize,
    };
    this.#socket.setTimeout(this.deps.limits.idleTimeoutMs);
    this.#unwatch = this.services.changes.watch(ctx, () => {
      if (this.idleTag !== null) this.#queue = this.#queue.then(() => this.refresh(true));
    });
    this.log.info({ sid: this.id, remote: this.origin.remote, user: ctx.principal.address }, 'imap login');
    return true;
  }

  /** Loads a mailbox into the selected state. */
  async select(box: Mailbox, readOnly: boolean): Promise<Selected> {
    const entries = await this.services.mail.listEntries(this.ctx!, box.id);
    if (!entries.ok) throw new ImapNo('NONEXISTENT', 'no such mailbox');
    const sel: Selected = {
      box,
      readOnly,
      uids: entries.value.map((e) => e.uid),
      entries: new Map(entries.value.map((e) => [e.uid, e])),
      modseq: box.modseq,
      pendingExpunge: new Set(),
    };
    this.selected = sel;
    this.state = 'selected';
    return sel;
  }

  deselect(): void {
    this.selected = null;
    this.state = 'authenticated';
  }

  /** Sequence number of a UID (1-based), or 0. */
  seqOf(uid: number): number {
    const uids = this.selected?.uids ?? [];
    let lo = 0;
    let hi = uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = uids[mid]!;
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** UIDs a set names, as sequence numbers or UIDs, in ascending order; never expanded (IM-05). */
  resolve(set: SeqRange[], byUid: boolean): number[] {
    const sel = this.selected;
    if (!sel || sel.uids.length === 0) return [];
    const uids = sel.uids;
    const out = new Set<number>();
    const maxUid = uids[uids.length - 1]!;
    for (const [a, b] of set) {
      if (byUid) {
        const x = a ?? maxUid;
        const y = b ?? maxUid;
        const lo = Math.min(x, y);
        const hi = Math.max(x, y);
        // Walk the mailbox, not the numbers written: cost is bounded by the mailbox size.
        let i = lowerBound(uids, lo);
        while (i < uids.length && uids[i]! <= hi) out.add(uids[i++]!);
      } else {
        const x = a ?? uids.length;
        const y = b ?? uids.length;
        const lo = Math.max(1, Math.min(x, y));
        const hi = Math.min(uids.length, Math.max(x, y));
        for (let s = lo; s <= hi; s++) out.add(uids[s - 1]!);
      }
    }
    return [...out].sort((p, q) => p - q);
  }

  /** Applies changes made elsewhere and reports them; EXPUNGE only when `allowExpunge`. */
  async refresh(allowExpunge: boolean): Promise<void> {
    const sel = this.selected;
    if (!sel || !this.ctx) return;
    const delta = await this.services.mail.mailboxDelta(this.ctx, sel.box.id, sel.modseq);
    if (!delta.ok) return;
    for (const uid of delta.value.expunged) if (sel.entries.has(uid)) sel.pendingExpunge.add(uid);
    let added = 0;
    const changed: MailboxEntry[] = [];
    for (const e of delta.value.entries) {
      const known = sel.entries.get(e.uid);
      if (!known) {
        if (sel.pendingExpunge.has(e.uid)) continue;
        if (e.uid > (sel.uids[sel.uids.length - 1] ?? 0)) {
          sel.uids.push(e.uid);
          sel.entries.set(e.uid, e);
          added++;
        }
      } else if (e.modseq > known.modseq) {
        sel.entries.set(e.uid, e);
        if (known.flags.join(' ') !== e.flags.join(' ') || this.enabled.has('CONDSTORE')) changed.push(e);
      }
    }
    if (allowExpunge && sel.pendingExpunge.size > 0) this.reportExpunges([...sel.pendingExpunge]);
    if (added > 0) this.untagged(`${sel.uids.length} EXISTS`);
    for (const e of changed) {
      const seq = this.seqOf(e.uid);
      if (seq > 0) this.untagged(`${seq} FETCH`, this.flagItems(e, true));
    }
    sel.modseq = Math.max(sel.modseq, delta.value.highestModseq);
  }

  /** Removes UIDs from the session and reports them (VANISHED with QRESYNC, else EXPUNGE). */
  reportExpunges(uids: number[]): void {
    const sel = this.selected;
    if (!sel) return;
    const gone = uids.filter((u) => sel.entries.has(u)).sort((a, b) => a - b);
    if (gone.length === 0) return;
    if (this.enabled.has('QRESYNC')) {
      this.untagged(`VANISHED ${formatSet(gone)}`);
      const doomed = new Set(gone);
      sel.uids = sel.uids.filter((u) => !doomed.has(u));
    } else {
      // Highest first, so each number is valid when the client applies it.
      for (const uid of [...gone].reverse()) {
        const seq = this.seqOf(uid);
        sel.uids.splice(seq - 1, 1);
        this.untagged(`${seq} EXPUNGE`);
      }
    }
    for (const u of gone) {
      sel.entries.delete(u);
      sel.pendingExpunge.delete(u);
    }
  }

  /** `(FLAGS (…) UID n MODSEQ (n))` items for an entry. */
  flagItems(e: MailboxEntry, withUid: boolean): Value {
    const items: Value[] = [raw('FLAGS'), e.flags.map(raw)];
    if (withUid) items.push(raw('UID'), e.uid);
    if (this.enabled.has('CONDSTORE')) items.push(raw('MODSEQ'), [e.modseq]);
    return items;
  }

  /** Loads messages with their parsed caches, by id. */
  async messages(ids: number[]): Promise<Map<number, MessageView>> {
    const out = new Map<number, MessageView>();
    for (const m of await this.messageList(ids)) out.set(m.id, m);
    return out;
  }

  /** Loads messages with their parsed caches, in the order of `ids` (missing ones left out). */
  async messageList(ids: number[]): Promise<MessageView[]> {
    const r = await this.services.mail.getMessages(this.ctx!, ids);
    return r.ok ? r.value : [];
  }

  logout(): void {
    this.state = 'logout';
    this.send('* BYE Portcullis logging out');
  }

  /** Ends the connection after pending output is written. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#loginTimer);
    this.#reader.reset();
    if (this.#deflate) {
      this.#deflate.end();
      this.#deflate.once('end', () => this.#socket.end());
    }
    this.#unwatch?.();
    this.#unwatch = null;
    if (this.#accountId !== null) {
      const counts = this.deps.perUser.counts;
      const n = (counts.get(this.#accountId) ?? 1) - 1;
      if (n > 0) counts.set(this.#accountId, n);
      else counts.delete(this.#accountId);
      this.#accountId = null;
    }
    if (!this.#deflate) this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 2000).unref();
  }

  /** Resolves when every queued command has been handled (for tests of the session). */
  get drained(): Promise<void> {
    return this.#queue;
  }
}

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
