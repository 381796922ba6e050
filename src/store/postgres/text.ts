/**
 * @module Full-text search words for PostgreSQL. Text is folded here (compatibility
 * decomposition, combining marks removed, lower case) and cut into letter/digit runs before
 * PostgreSQL's `simple` configuration indexes it, so "Café" is found by "cafe" without a
 * server extension, and an address is found by any of its parts, as in the embedded store.
 */

/** At most this many characters of a field are indexed (a tsvector holds at most 1 MiB). */
const MAX_INDEXED_CHARS = 256 * 1024;

const fold = (text: string): string =>
  text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();

/** The words of `text` as one space-separated string, ready for `to_tsvector('simple', …)`. */
export function indexWords(text: string): string {
  const words = fold(text.slice(0, MAX_INDEXED_CHARS * 2)).match(/[\p{L}\p{N}]+/gu) ?? [];
  let out = '';
  for (const w of words) {
    if (out.length + w.length + 1 > MAX_INDEXED_CHARS) break;
    // PostgreSQL ignores words over 2,047 bytes; such a run is not a word anyone searches for.
    if (w.length > 500) continue;
    out += out ? ` ${w}` : w;
  }
  return out;
}

/** The phrases of a user's query: each term (words joined by . ' @ -) is one phrase, and every
 * phrase must match. Syntax characters are never interpreted. */
export function queryPhrases(text: string): string[] {
  const terms = fold(text).match(/[\p{L}\p{N}_]+(?:[.'@-][\p{L}\p{N}_]+)*/gu) ?? [];
  return terms
    .slice(0, 32)
    .map((t) => (t.match(/[\p{L}\p{N}]+/gu) ?? []).join(' '))
    .filter(Boolean);
}
