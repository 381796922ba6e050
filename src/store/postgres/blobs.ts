/**
 * @module Blobs in PostgreSQL: `blob_data` holds the bytes, `blobs` counts the references of
 * messages, uploads and queue entries. A finished blob is staged: its bytes are written by the
 * transaction that first references it, so one commit covers the message and its bytes. The
 * BlobStore interface stays the same for an S3-compatible store later.
 */
import { createHash } from 'node:crypto';
import type { BlobStore, BlobWriter, StagedBlob } from '../types.ts';
import type { Database, Sql } from './database.ts';

const HASH_RE = /^[0-9a-f]{64}$/;

/** Writes a staged blob's bytes inside the caller's transaction. */
export async function stageBlob(sql: Sql, blob: StagedBlob): Promise<void> {
  if (!blob.staged) return;
  if (!blob.content) throw new Error('staged blob without content');
  await sql.run('INSERT INTO blob_data (hash, data) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
    blob.hash,
    blob.content,
  ]);
}

/** One more reference to a blob (a new blob starts at one). */
export async function addBlobRef(sql: Sql, hash: string, size: number): Promise<void> {
  await sql.run(
    'INSERT INTO blobs (hash, size, refs) VALUES ($1, $2, 1) ON CONFLICT (hash) DO UPDATE SET refs = blobs.refs + 1',
    [hash, size],
  );
}

/** Drops `n` references; when none is left the blob and its bytes go with the transaction. */
export async function releaseBlob(sql: Sql, hash: string, n = 1): Promise<void> {
  const left = await sql.one('UPDATE blobs SET refs = refs - $1 WHERE hash = $2 RETURNING refs', [n, hash]);
  if (!left || (left['refs'] as number) > 0) return;
  await sql.run('DELETE FROM blobs WHERE hash = $1 AND refs <= 0', [hash]);
  await sql.run('DELETE FROM blob_data WHERE hash = $1', [hash]);
}

/** The blob store over the database. Bytes are gathered in memory (a message is bounded by the
 * SMTP size limit) and hashed when the blob is finished. */
export function postgresBlobStore(db: Database): BlobStore {
  function create(): BlobWriter {
    let chunks: Buffer[] | null = [];
    let size = 0;
    return {
      get size() {
        return size;
      },
      async write(chunk) {
        if (!chunks) throw new Error('blob already finished');
        size += chunk.length;
        chunks.push(chunk);
      },
      async finish(prefix): Promise<StagedBlob> {
        if (!chunks) throw new Error('blob already finished');
        const content = Buffer.concat(prefix?.length ? [prefix, ...chunks] : chunks);
        chunks = null;
        return {
          hash: createHash('sha256').update(content).digest('hex'),
          size: content.length,
          content,
          staged: true,
        };
      },
      async abort() {
        chunks = null;
      },
    };
  }
  return {
    create,
    async persist(blob) {
      await stageBlob(db, blob);
      return { hash: blob.hash, size: blob.size };
    },
    async read(hash) {
      if (!HASH_RE.test(hash)) throw new Error('invalid blob hash');
      const row = await db.one('SELECT data FROM blob_data WHERE hash = $1', [hash]);
      if (!row) throw new Error(`blob ${hash} not found`);
      return row['data'] as Buffer;
    },
    async readMany(hashes) {
      if (!hashes.every((h) => HASH_RE.test(h))) throw new Error('invalid blob hash');
      const out = new Map<string, Buffer>();
      const rows = await db.rows('SELECT hash, data FROM blob_data WHERE hash = ANY($1)', [
        [...new Set(hashes)],
      ]);
      for (const r of rows) out.set(r['hash'] as string, r['data'] as Buffer);
      for (const h of hashes) if (!out.has(h)) throw new Error(`blob ${h} not found`);
      return out;
    },
    async has(hash) {
      if (!HASH_RE.test(hash)) return false;
      return (await db.one('SELECT 1 FROM blob_data WHERE hash = $1', [hash])) !== undefined;
    },
    async remove(hashes) {
      // Bytes persisted for a use that never came (no reference row) are dropped here.
      await db.run(
        'DELETE FROM blob_data d WHERE hash = ANY($1) AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.hash = d.hash)',
        [hashes],
      );
    },
  };
}
