/**
 * @module Change announcements between nodes: one connection per node LISTENs on the changes
 * channel (counters.ts NOTIFYs it at every commit that moves a modseq) and hands each account and
 * modseq to the node's listeners. A lost connection is opened again after a pause; changes made
 * while it was down reach sessions at their next command or poll, as without push.
 */
import type pg from 'pg';
import { CHANGES_CHANNEL } from './counters.ts';
import type { Database } from './database.ts';

type Listener = (accountId: number, modseq: number) => void;

const RECONNECT_MS = 1000;

/** The node's change feed; it connects on the first listener and stops on close. */
export function createChangeFeed(db: Database, onError: (err: unknown) => void) {
  const listeners = new Set<Listener>();
  let client: pg.PoolClient | null = null;
  let starting: Promise<void> | null = null;
  let closed = false;

  const deliver = (msg: pg.Notification): void => {
    const m = /^(\d+) (\d+)$/.exec(msg.payload ?? '');
    if (msg.channel !== CHANGES_CHANNEL || !m) return;
    for (const l of listeners) {
      try {
        l(Number(m[1]), Number(m[2]));
      } catch {
        // A failing listener must not stop the others.
      }
    }
  };

  const start = (): Promise<void> =>
    (starting ??= (async () => {
      try {
        const c = await db.connect();
        if (closed) {
          c.release();
          return;
        }
        c.on('notification', deliver);
        c.on('error', (err) => {
          onError(err);
          c.removeListener('notification', deliver);
          c.release(err);
          client = null;
          starting = null;
          if (!closed) setTimeout(() => void start(), RECONNECT_MS).unref();
        });
        await c.query(`LISTEN ${CHANGES_CHANNEL}`);
        client = c;
      } catch (err) {
        onError(err);
        starting = null;
        if (!closed) setTimeout(() => void start(), RECONNECT_MS).unref();
      }
    })());

  return {
    watch(listener: Listener): () => void {
      listeners.add(listener);
      void start();
      return () => {
        listeners.delete(listener);
      };
    },
    /** Resolves once the node listens (tests and startup use it to avoid a race). */
    ready: (): Promise<void> => start(),
    async close(): Promise<void> {
      closed = true;
      listeners.clear();
      await starting;
      if (client) {
        await client.query(`UNLISTEN ${CHANGES_CHANNEL}`).catch(() => {});
        client.release();
        client = null;
      }
    },
  };
}
