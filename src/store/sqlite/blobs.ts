/**
 * @module Blob storage of the embedded store: small blobs in the database (table blob_data),
 * written by the transaction that references them; large ones in the blob folder (blob/fs.ts).
 * Reads look in the database first, then in the folder.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { BLOB_INLINE_MAX_BYTES } from '../../core/limits.ts';
import type { FsBlobStore, FsBlobWriter } from '../blob/fs.ts';
import type { BlobStore, BlobWriter, StagedBlob } from '../types.ts';

const HASH_RE = /^[0-9a-f]{64}$/;

/** Returns a function that writes a staged blob's bytes inside the caller's transaction. */
export function blobStager(db: Database.Database): (blob: StagedBlob) => void {
  const put = db.prepare('INSERT INTO blob_data (hash, data) VALUES (?, ?) ON CONFLICT DO NOTHING');
  return (blob) => {
    if (!blob.staged) return;
    if (!blob.content) throw new Error('staged blob without content');
    put.run(blob.hash, blob.content);
  };
}

/** Reference counting of blobs inside the caller's transaction (table blobs). */
export function blobRefs(db: Database.Database) {
  const add = db.prepare(
    'INSERT INTO blobs (hash, size, refs) VALUES (?, ?, 1) ON CONFLICT (hash) DO UPDATE SET refs = refs + 1',
  );
  const release = db.prepare('UPDATE blobs SET refs = refs - ? WHERE hash = ? RETURNING refs');
  const drop = db.prepare('DELETE FROM blobs WHERE hash = ? AND refs <= 0');
  const dropData = db.prepare('DELETE FROM blob_data WHERE hash = ?');
  return {
    /** One more reference (a new blob starts at one). */
    add(hash: string, size: number): void {
      add.run(hash, size);
    },
    /** Drops `n` references. When none is left the blob's row and inline bytes go, and the hash
     * is returned if its bytes are a file, to be removed once the transaction has committed. */
    release(hash: string, n = 1): string | null {
      const left = release.get(n, hash) as { refs: number } | undefined;
      if (!left || left.refs > 0) return null;
      drop.run(hash);
      return dropData.run(hash).changes === 0 ? hash : null;
    },
  };
}

/** Creates the hybrid blob store over a database and a blob folder. */
export function sqliteBlobStore(db: Database.Database, files: FsBlobStore): BlobStore {
  const get = db.prepare('SELECT data FROM blob_data WHERE hash = ?');
  const getMany = db.prepare(
    'SELECT hash, data FROM blob_data WHERE hash IN (SELECT value FROM json_each(?))',
  );
  const stage = blobStager(db);

  function create(): BlobWriter {
    let chunks: Buffer[] | null = [];
    let file: FsBlobWriter | null = null;
    let size = 0;
    return {
      get size() {
        return size;
      },
      async write(chunk) {
        size += chunk.length;
        if (chunks && size <= BLOB_INLINE_MAX_BYTES) {
          chunks.push(chunk);
          return;
        }
        if (!file) {
          // Too large to keep in memory: move what we have to a file and stream the rest.
          file = files.create();
          for (const c of chunks ?? []) await file.write(c);
          chunks = null;
        }
        await file.write(chunk);
      },
      async finish(prefix): Promise<StagedBlob> {
        if (file) return { ...(await file.commit(prefix)), staged: false };
        const parts = prefix?.length ? [prefix, ...(chunks ?? [])] : (chunks ?? []);
        const content = Buffer.concat(parts);
        return {
          hash: createHash('sha256').update(content).digest('hex'),
          size: content.length,
          content,
          staged: true,
        };
      },
      async abort() {
        chunks = null;
        await file?.abort();
      },
    };
  }

  return {
    create,
    async persist(blob) {
      stage(blob);
      return { hash: blob.hash, size: blob.size };
    },
    async read(hash) {
      if (!HASH_RE.test(hash)) throw new Error('invalid blob hash');
      const row = get.get(hash) as { data: Buffer } | undefined;
      return row ? row.data : files.read(hash);
    },
    async readMany(hashes) {
      if (!hashes.every((h) => HASH_RE.test(h))) throw new Error('invalid blob hash');
      const out = new Map<string, Buffer>();
      for (const row of getMany.all(JSON.stringify([...new Set(hashes)])) as { hash: string; data: Buffer }[])
        out.set(row.hash, row.data);
      for (const h of hashes) if (!out.has(h)) out.set(h, await files.read(h));
      return out;
    },
    async has(hash) {
      if (!HASH_RE.test(hash)) return false;
      return get.get(hash) !== undefined || (await files.has(hash));
    },
    async remove(hashes) {
      await files.remove(hashes);
    },
  };
}
