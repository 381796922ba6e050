/**
 * @module Main-thread side of the writer thread (writer-worker.ts): sends write requests and
 * resolves each caller when the transaction holding its request is committed.
 */
import { Worker } from 'node:worker_threads';
import type { Delivered, NewDelivery } from '../types.ts';
import type { WriteRequest, WriteResponse } from './group.ts';
import type { RunWrite } from './mailboxes.ts';

/** A connection to the writer thread. */
export interface Writer {
  deliver(batch: NewDelivery[]): Promise<Delivered[]>;
  write: RunWrite;
  close(): Promise<void>;
}

// The worker runs TypeScript: a tiny ES module bootstrap loads the entry through tsx's API.
const BOOT = `import { workerData } from 'node:worker_threads';
const { tsImport } = await import(workerData.tsx);
await tsImport(workerData.entry, workerData.entry);`;

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** Starts the writer thread for the database at `path`. */
export function startWriter(path: string): Writer {
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(BOOT)}`), {
    workerData: {
      path,
      tsx: import.meta.resolve('tsx/esm/api'),
      entry: new URL('./writer-worker.ts', import.meta.url).href,
    },
  });
  const waiting = new Map<number, Pending>();
  let next = 1;
  let failure: Error | null = null;
  const failAll = (err: Error): void => {
    failure = err;
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.on('message', (r: WriteResponse) => {
    const w = waiting.get(r.id);
    if (!w) return;
    waiting.delete(r.id);
    if (waiting.size === 0) worker.unref();
    if (r.ok) w.resolve(r.value);
    else w.reject(new Error(r.error));
  });
  worker.on('error', (err) => failAll(err));
  worker.on('exit', (code) => failAll(new Error(`store writer exited (${code})`)));
  worker.unref();
  const request = (r: Omit<WriteRequest, 'id'>): Promise<unknown> => {
    if (failure) return Promise.reject(failure);
    const id = next++;
    return new Promise((resolve, reject) => {
      // Keep the process alive while a commit is outstanding.
      if (waiting.size === 0) worker.ref();
      waiting.set(id, { resolve, reject });
      worker.postMessage({ ...r, id });
    });
  };
  return {
    deliver: (batch) => request({ op: 'deliver', args: [batch] }) as Promise<Delivered[]>,
    write: ((op, args) => request({ op, args } as Omit<WriteRequest, 'id'>)) as RunWrite,
    async close() {
      if (failure) return;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.ref();
      worker.postMessage('close');
      await exited;
    },
  };
}
