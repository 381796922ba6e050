/**
 * @module Events per key within the last hour, in this process: the sliding window behind the
 * hourly limits (messages submitted, remote images fetched per account). Keys with no event in
 * the hour are forgotten.
 */
import type { Clock } from './clock.ts';

export function hourlyCounts<K>(clock: Clock) {
  const times = new Map<K, number[]>();
  /** The key's event times within the hour; drops older ones, and the key when none is left. */
  const recent = (key: K): number[] => {
    const hourAgo = clock.now() - 3_600_000;
    const list = (times.get(key) ?? []).filter((t) => t > hourAgo);
    if (list.length > 0) times.set(key, list);
    else times.delete(key);
    return list;
  };
  return {
    /** Events of `key` within the last hour. */
    count: (key: K): number => recent(key).length,
    /** Counts one event of `key` now. */
    add(key: K): void {
      times.set(key, [...recent(key), clock.now()]);
    },
  };
}
