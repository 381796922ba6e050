/**
 * @module A bounded map that forgets what was used least recently, in two generations: hits in
 * the young generation cost one lookup (no reordering), which matters when a search touches
 * every message of a mailbox.
 */

/** Cache of at most `capacity` entries. Entries live in `young` until it holds half the capacity;
 * then `young` becomes `old` and the previous `old` is dropped. A hit in `old` moves the entry
 * back to `young`, so anything used within the last capacity/2 insertions survives. */
export class Lru<K, V> {
  #young = new Map<K, V>();
  #old = new Map<K, V>();
  readonly #half: number;

  constructor(capacity: number) {
    this.#half = Math.max(1, Math.floor(capacity / 2));
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  get(key: K): V | undefined {
    const v = this.#young.get(key);
    if (v !== undefined) return v;
    const o = this.#old.get(key);
    if (o !== undefined) {
      this.#old.delete(key);
      this.#put(key, o);
    }
    return o;
  }

  set(key: K, value: V): void {
    this.#old.delete(key);
    this.#put(key, value);
  }

  delete(key: K): void {
    this.#young.delete(key);
    this.#old.delete(key);
  }

  #put(key: K, value: V): void {
    if (!this.#young.has(key) && this.#young.size >= this.#half) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }
}
