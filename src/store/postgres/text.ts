/**
 * @module Full-text search for PostgreSQL: the tsvector of a text and the tsquery of a search
 * are both built here, from the same words. Text is folded (compatibility decomposition,
 * combining marks removed, lower case) and cut into letter/digit runs, so "Café" is found by
 * "cafe" without a server extension, and an address is found by any of its parts, as in the
 * embedded store; PostgreSQL only stores, indexes and matches.
 */

/** At most this many characters of a field are indexed (a tsvector holds at most 1 MiB). */
const MAX_INDEXED_CHARS = 256 * 1024;

const fold = (text: string): string =>
  text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();

/** The words of `text` as one space-separated string. */
function indexWords(text: string): string {
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

/** PostgreSQL keeps at most this many positions of one lexeme, and none past this one. */
const MAX_POSITIONS = 255;
const MAX_POSITION = 16_383;

/**
 * The tsvector of `text` as PostgreSQL's literal (`'word':1,5 'other':2`), built here from the
 * words indexWords gives: the same vector `to_tsvector('simple', …)` makes of them (the simple
 * configuration only lower-cases, which folding has done), without PostgreSQL parsing the text
 * again. Words are letters and digits only, so they need no quoting beyond the quotes.
 */
export function tsvectorLiteral(text: string): string {
  const words = indexWords(text);
  if (!words) return '';
  const positions = new Map<string, number[]>();
  let pos = 0;
  for (const w of words.split(' ')) {
    pos = Math.min(pos + 1, MAX_POSITION);
    const list = positions.get(w);
    if (!list) positions.set(w, [pos]);
    else if (list.length < MAX_POSITIONS) list.push(pos);
  }
  let out = '';
  for (const [w, list] of positions) out += `${out ? ' ' : ''}'${w}':${list.join(',')}`;
  return out;
}

/** A user's query as PostgreSQL's tsquery literal, or null when it has no word: each term
 * (words joined by . ' @ -) is a phrase of its words in order, and every phrase must match.
 * Built from the same words as the index; syntax characters are never interpreted. */
export function tsqueryLiteral(text: string): string | null {
  const terms = fold(text).match(/[\p{L}\p{N}_]+(?:[.'@-][\p{L}\p{N}_]+)*/gu) ?? [];
  const phrases = terms
    .slice(0, 32)
    .map((t) => (t.match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length <= 500))
    .filter((words) => words.length > 0)
    .map((words) => `(${words.map((w) => `'${w}'`).join(' <-> ')})`);
  return phrases.length > 0 ? phrases.join(' & ') : null;
}
