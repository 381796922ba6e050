/**
 * @module The writer thread of the embedded store. It owns the connection that files deliveries
 * and makes the frequent mailbox writes (flags, expunge, copy), so the commit's fsync never blocks
 * the thread that serves connections. Requests that arrive while a commit runs are committed
 * together in the next one (group commit, DESIGN.md §3).
 * Trust: messages come only from the store module in the same process.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './database.ts';
import { createGroupWriter, type WriteRequest } from './group.ts';

const port = parentPort;
if (!port) throw new Error('writer-worker must run in a worker thread');
const db = openDatabase((workerData as { path: string }).path, { migrate: false });
const commit = createGroupWriter(db);
let pending: WriteRequest[] = [];
let scheduled = false;

port.on('message', (msg: WriteRequest | 'close') => {
  if (msg === 'close') {
    flush();
    db.close();
    port.close();
    return;
  }
  pending.push(msg);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});

function flush(): void {
  scheduled = false;
  if (pending.length === 0) return;
  const work = pending;
  pending = [];
  for (const r of commit(work)) port!.postMessage(r);
}
