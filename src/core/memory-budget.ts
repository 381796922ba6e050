/**
 * @module The process's memory budget for large buffers (ATTACKS.md DS-06): message literals,
 * request bodies and submitted messages that a connection holds in memory are counted against
 * one budget shared by every listener. A buffer that does not fit is refused with the
 * protocol's "try again later" answer instead of being read, so many connections each driven to
 * their largest buffer cannot exhaust memory; small per-connection buffers (command lines,
 * headers) are bounded by the connection caps instead.
 */

/** Buffers at or above this size are counted against the budget. */
export const BUDGETED_BYTES = 64 * 1024;

/** A shared count of bytes held in large buffers. */
export interface MemoryBudget {
  /** Takes `bytes` if they fit under the limit; false (and nothing taken) otherwise. */
  take(bytes: number): boolean;
  /** Gives back bytes taken earlier. */
  give(bytes: number): void;
  /** Bytes taken now. */
  readonly used: number;
  readonly limit: number;
}

/** A budget of `limit` bytes. */
export function createMemoryBudget(limit: number): MemoryBudget {
  let used = 0;
  return {
    take(bytes) {
      if (bytes < 0 || used + bytes > limit) return false;
      used += bytes;
      return true;
    },
    give(bytes) {
      used = Math.max(0, used - bytes);
    },
    get used() {
      return used;
    },
    limit,
  };
}

/** A budget that never refuses (tests and tools that run no listener). */
export const UNBOUNDED_BUDGET: MemoryBudget = createMemoryBudget(Number.POSITIVE_INFINITY);
