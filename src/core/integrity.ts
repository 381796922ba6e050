/**
 * @module Code integrity (ATTACKS.md LG-05): a manifest of SHA-256 hashes of every file the
 * server runs from its own tree (`bin/`, `src/`, the built webmail it serves, the package files),
 * taken at start and again periodically, so a file dropped into or changed in the code directories (a web shell, as in
 * Hafnium) is noticed while the server runs and across restarts. Third-party packages in
 * node_modules are fixed by the lock file's integrity hashes at install time and not rehashed.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Hashes by path relative to the code root, and one digest over them all. */
export interface Manifest {
  files: Record<string, string>;
  digest: string;
}

/** What differs between two manifests. */
export interface ManifestDiff {
  added: string[];
  changed: string[];
  removed: string[];
}

const COVERED_DIRS = ['bin', 'src', 'webmail/dist'];
const COVERED_FILES = ['package.json', 'package-lock.json'];

/** Hashes the code under `root`. Missing covered entries are simply absent from the manifest. */
export async function codeManifest(root: string): Promise<Manifest> {
  const paths: string[] = [...COVERED_FILES];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(p);
      else paths.push(p);
    }
  };
  for (const dir of COVERED_DIRS) await walk(dir);
  const files: Record<string, string> = {};
  for (const p of paths.sort()) {
    const bytes = await readFile(join(root, p)).catch(() => null);
    if (bytes) files[p] = createHash('sha256').update(bytes).digest('hex');
  }
  const digest = createHash('sha256');
  for (const [p, h] of Object.entries(files)) digest.update(`${p}\0${h}\n`);
  return { files, digest: digest.digest('hex') };
}

/** The files added, changed and removed from `before` to `after`. */
export function compareManifests(before: Manifest, after: Manifest): ManifestDiff {
  const diff: ManifestDiff = { added: [], changed: [], removed: [] };
  for (const [p, h] of Object.entries(after.files)) {
    const was = before.files[p];
    if (was === undefined) diff.added.push(p);
    else if (was !== h) diff.changed.push(p);
  }
  for (const p of Object.keys(before.files)) if (!(p in after.files)) diff.removed.push(p);
  return diff;
}

/** A manifest read back from JSON, or null when the text is not one. */
export function parseManifest(text: string): Manifest | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { files, digest } = value as Record<string, unknown>;
  if (typeof digest !== 'string' || typeof files !== 'object' || files === null || Array.isArray(files))
    return null;
  const out: Record<string, string> = Object.create(null);
  for (const [p, h] of Object.entries(files)) {
    if (typeof h !== 'string') return null;
    out[p] = h;
  }
  return { files: out, digest };
}
