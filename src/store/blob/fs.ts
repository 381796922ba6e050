/**
 * @module Content-addressed blob files under `<data>/blobs` (the embedded blob store).
 * A blob is written to a temporary file while its SHA-256 is computed, then fsync'd, renamed to
 * `blobs/<first two hex digits>/<hash>` and the directory entry fsync'd (DESIGN.md §3). Concurrent
 * commits share one directory fsync. File names are always hashes computed here; no caller
 * supplies a path (ATTACKS.md R6).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { type FileHandle, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobRef } from '../types.ts';

const HASH_RE = /^[0-9a-f]{64}$/;

/** Runs fsync on directories, letting every request that arrives during one sync share the next. */
class DirSyncer {
  #state = new Map<string, { running: Promise<void> | null; queued: Promise<void> | null }>();

  sync(dir: string): Promise<void> {
    let state = this.#state.get(dir);
    if (!state) {
      state = { running: null, queued: null };
      this.#state.set(dir, state);
    }
    const s = state;
    if (s.queued) return s.queued;
    const start = (): Promise<void> => {
      s.running = fsyncPath(dir).finally(() => {
        s.running = null;
      });
      return s.running;
    };
    if (!s.running) return start();
    s.queued = s.running.then(() => {
      s.queued = null;
      return start();
    });
    return s.queued;
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Streams one blob into a temporary file; `commit` makes it durable under its hash. */
export interface FsBlobWriter {
  write(chunk: Buffer): Promise<void>;
  readonly size: number;
  /** Makes the blob durable under its hash, with `prefix` in front of what was written. */
  commit(prefix?: Buffer): Promise<BlobRef>;
  abort(): Promise<void>;
}

/** The blob folder: files named by their SHA-256. */
export interface FsBlobStore {
  create(): FsBlobWriter;
  /** Writes bytes already in memory durably. */
  put(content: Buffer): Promise<BlobRef>;
  read(hash: string): Promise<Buffer>;
  has(hash: string): Promise<boolean>;
  remove(hashes: string[]): Promise<void>;
}

/** Opens the blob folder rooted at `root`, removing temporary files a crash left behind. */
export function openFsBlobStore(root: string): FsBlobStore {
  const tmp = join(root, 'tmp');
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(tmp)) rmSync(join(tmp, name), { force: true });
  const syncer = new DirSyncer();
  const knownShards = new Set<string>();

  const pathOf = (hash: string): string => {
    if (!HASH_RE.test(hash)) throw new Error('invalid blob hash');
    return join(root, hash.slice(0, 2), hash);
  };

  async function ensureShard(shard: string): Promise<void> {
    if (knownShards.has(shard)) return;
    const dir = join(root, shard);
    const created = await mkdir(dir, { recursive: true, mode: 0o700 });
    // A new shard directory must itself be durable in the root before files in it count.
    if (created !== undefined) await syncer.sync(root);
    knownShards.add(shard);
  }

  function create(): FsBlobWriter {
    let hash = createHash('sha256');
    const tmpPath = join(tmp, randomBytes(12).toString('hex'));
    let handle: FileHandle | null = null;
    let size = 0;
    let done = false;
    return {
      get size() {
        return size;
      },
      async write(chunk: Buffer) {
        if (done) throw new Error('blob writer is closed');
        if (chunk.length === 0) return;
        handle ??= await open(tmpPath, 'wx+', 0o600);
        hash.update(chunk);
        size += chunk.length;
        await handle.write(chunk);
      },
      async commit(prefix) {
        if (done) throw new Error('blob writer is closed');
        done = true;
        handle ??= await open(tmpPath, 'wx+', 0o600);
        if (prefix?.length) {
          // The prefix arrives last: copy the body behind it into a second file (large
          // messages only; small ones never reach a file).
          const body = handle;
          handle = await open(`${tmpPath}p`, 'wx', 0o600);
          await rename(`${tmpPath}p`, tmpPath);
          hash = createHash('sha256').update(prefix);
          await handle.write(prefix);
          const buf = Buffer.allocUnsafe(1 << 20);
          for (let pos = 0; pos < size; ) {
            const { bytesRead } = await body.read(buf, 0, buf.length, pos);
            if (bytesRead === 0) break;
            hash.update(buf.subarray(0, bytesRead));
            await handle.write(buf.subarray(0, bytesRead));
            pos += bytesRead;
          }
          await body.close();
          size += prefix.length;
        }
        const digest = hash.digest('hex');
        const finalPath = pathOf(digest);
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
        await ensureShard(digest.slice(0, 2));
        let exists = false;
        try {
          exists = (await stat(finalPath)).size === size;
        } catch {}
        if (exists) await unlink(tmpPath);
        else {
          await rename(tmpPath, finalPath);
          await syncer.sync(join(root, digest.slice(0, 2)));
        }
        return { hash: digest, size };
      },
      async abort() {
        if (done) return;
        done = true;
        if (handle) await handle.close();
        await unlink(tmpPath).catch(() => {});
      },
    };
  }

  return {
    create,
    async put(content) {
      const w = create();
      await w.write(content);
      return w.commit();
    },
    read: async (hash) => readFile(pathOf(hash)),
    async has(hash) {
      try {
        await stat(pathOf(hash));
        return true;
      } catch {
        return false;
      }
    },
    async remove(hashes) {
      for (const h of hashes) await unlink(pathOf(h)).catch(() => {});
    },
  };
}
