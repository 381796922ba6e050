/**
 * @module The disk watermark (ATTACKS.md DS-05): below a configured amount of free space on the
 * volume that holds message bytes, new mail is refused with a temporary error (SMTP 452, IMAP
 * `NO [UNAVAILABLE]`, JMAP `serverUnavailable`) so senders retry later, and nothing acknowledged
 * is lost. The free space is read at most every few seconds, not per message.
 */
import type { Clock } from '../core/clock.ts';
import type { Store } from '../store/types.ts';

const RECHECK_MS = 5_000;

/** Whether storage is below the watermark. */
export type DiskWatermark = () => Promise<boolean>;

/** A watermark of `minFreeBytes` (0: never low). */
export function createDiskWatermark(
  store: Pick<Store, 'spaceLeft'>,
  clock: Clock,
  minFreeBytes: number,
): DiskWatermark {
  let checkedAt = -Infinity;
  let low = false;
  let pending: Promise<boolean> | null = null;
  return () => {
    if (minFreeBytes <= 0) return Promise.resolve(false);
    if (clock.now() - checkedAt < RECHECK_MS) return Promise.resolve(low);
    pending ??= store
      .spaceLeft()
      .then(
        (left) => left < minFreeBytes,
        () => false,
      )
      .then((isLow) => {
        low = isLow;
        checkedAt = clock.now();
        pending = null;
        return isLow;
      });
    return pending;
  };
}
