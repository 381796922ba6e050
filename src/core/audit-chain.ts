/**
 * @module The audit log's hash chain (ATTACKS.md §3.3): every record is canonical JSON (RFC 8785
 * JCS: keys sorted, no insignificant whitespace, ECMAScript number and string forms) carrying its
 * `seq` and the previous record's hash; its own hash is SHA-256(prev_hash ‖ canonical record).
 * Changing, removing, inserting or reordering a record breaks every later link.
 * Trust: pure functions over data the services produced; verification treats stored text as
 * untrusted and reports the first record that does not fit.
 */
import { createHash } from 'node:crypto';

/** The hash before the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** A JSON value. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** RFC 8785 canonical JSON of a value (objects' keys sorted by UTF-16 code units). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('non-finite number');
    return JSON.stringify(value ?? null);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The hash of a record's canonical text under the previous hash. */
export function chainHash(prevHash: string, canonical: string): string {
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

/** A record sealed into the chain. */
export interface ChainedRecord {
  seq: number;
  /** Canonical JSON of the record, `seq` and `prev_hash` included. */
  text: string;
  hash: string;
}

/** Seals `fields` as record `seq` after `prevHash`. */
export function seal(fields: Record<string, Json>, seq: number, prevHash: string): ChainedRecord {
  const text = canonicalJson({ ...fields, seq, prev_hash: prevHash });
  return { seq, text, hash: chainHash(prevHash, text) };
}

/** Where a chain check failed. */
export interface ChainBreak {
  seq: number;
  reason: string;
}

/**
 * Checks records in order against the chain starting after (`startSeq`, `startHash`); returns
 * the first break, or null. Each record's text must parse, name its own seq and the previous
 * hash, be in canonical form, and hash to the stored hash.
 */
export function verifyChain(
  records: Iterable<ChainedRecord>,
  startSeq: number,
  startHash: string,
): { break: ChainBreak | null; last: { seq: number; hash: string } } {
  let seq = startSeq;
  let hash = startHash;
  for (const r of records) {
    const fail = (reason: string) => ({ break: { seq: r.seq, reason }, last: { seq, hash } });
    if (r.seq !== seq + 1)
      return fail(`expected record ${seq + 1} here (a record is missing or out of order)`);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(r.text) as Record<string, unknown>;
    } catch {
      return fail('the record is not JSON');
    }
    if (parsed['seq'] !== r.seq) return fail('the record names another sequence number');
    if (parsed['prev_hash'] !== hash) return fail('the record does not follow the previous one');
    if (canonicalJson(parsed) !== r.text) return fail('the record is not in canonical form');
    if (chainHash(hash, r.text) !== r.hash) return fail('the record does not match its hash');
    seq = r.seq;
    hash = r.hash;
  }
  return { break: null, last: { seq, hash } };
}
