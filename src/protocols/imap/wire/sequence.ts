/**
 * @module Sequence sets (RFC 9051 §9 sequence-set), kept as ranges and never expanded into
 * arrays: `1:4294967295` costs one range (ATTACKS.md IM-05). `*` is resolved against the mailbox
 * when the set is used.
 */
import { ImapSyntaxError } from './tokens.ts';

/** A range; `null` bounds mean `*` (the largest number in use). */
export type SeqRange = [number | null, number | null];

/** Most ranges accepted in one set. */
export const MAX_RANGES = 1000;
const MAX_NUMBER = 4294967295;

/** Parses a sequence set; `$` (saved result, RFC 5182) is refused. */
export function parseSequenceSet(text: string): SeqRange[] {
  const parts = text.split(',');
  if (parts.length > MAX_RANGES) throw new ImapSyntaxError('too many ranges in sequence set');
  return parts.map((p) => {
    const [a, b, extra] = p.split(':');
    if (extra !== undefined || a === undefined) throw new ImapSyntaxError(`invalid sequence set ${text}`);
    const num = (s: string): number | null => {
      if (s === '*') return null;
      if (!/^[1-9]\d{0,9}$/.test(s)) throw new ImapSyntaxError(`invalid sequence number ${s}`);
      const n = Number(s);
      if (n > MAX_NUMBER) throw new ImapSyntaxError(`sequence number ${s} is too large`);
      return n;
    };
    const lo = num(a);
    return [lo, b === undefined ? lo : num(b)];
  });
}

/** True when `n` is in the set, with `*` meaning `max`. */
export function inSet(set: SeqRange[], n: number, max: number): boolean {
  for (const [a, b] of set) {
    const x = a ?? max;
    const y = b ?? max;
    if (n >= Math.min(x, y) && n <= Math.max(x, y)) return true;
  }
  return false;
}

/** Formats ascending numbers as a compact set: `1:3,7,9:10`. */
export function formatSet(numbers: number[]): string {
  const sorted = [...numbers].sort((a, b) => a - b);
  const out: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
