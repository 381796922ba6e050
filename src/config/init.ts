/**
 * @module Creating a data folder: configuration file, per-install secret and TLS certificate.
 * Every install gets its own secret and key (ATTACKS.md R10, PX-08); nothing ships in the package.
 * Files that hold secrets are created with mode 0600 in a folder of mode 0700.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generate } from 'selfsigned';
import { stringify } from 'smol-toml';
import { UsageError } from '../core/errors.ts';
import { CONFIG_FILE, parseHostPort } from './load.ts';
import { type Config, storeProblem } from './schema.ts';

/** Files `init` writes, relative to the data folder. */
export const TLS_CERT_FILE = 'tls/cert.pem';
export const TLS_KEY_FILE = 'tls/key.pem';
export const SECRET_FILE = 'secrets/install.key';

/** Options of `portcullis init`. */
export interface InitOptions {
  hostname: string;
  /** `sqlite`, or the URL of a PostgreSQL database (config key `store`). */
  store?: string;
  listeners?: Partial<Config['listeners']>;
}

/** Creates the data folder's configuration, secret and certificate. Refuses an initialised folder. */
export async function initDataDir(dataDir: string, options: InitOptions): Promise<void> {
  const host = options.hostname.toLowerCase();
  parseHostPort(`${host}:1`, 'hostname');
  const storeError = options.store === undefined ? null : storeProblem(options.store);
  if (storeError) throw new UsageError(`--store: ${storeError}`);
  if (existsSync(join(dataDir, CONFIG_FILE))) {
    throw new UsageError(`${resolve(dataDir)} is already initialised`);
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(join(dataDir, 'tls'), { mode: 0o700 });
  mkdirSync(join(dataDir, 'secrets'), { mode: 0o700 });
  writeFileSync(join(dataDir, SECRET_FILE), randomBytes(32).toString('base64url') + '\n', { mode: 0o600 });
  const pems = await generate([{ name: 'commonName', value: host }], {
    algorithm: 'sha256',
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 825 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: host }] },
    ],
  });
  writeFileSync(join(dataDir, TLS_KEY_FILE), pems.private, { mode: 0o600 });
  writeFileSync(join(dataDir, TLS_CERT_FILE), pems.cert, { mode: 0o644 });
  const doc: Record<string, unknown> = { hostname: host };
  if (options.store !== undefined && options.store !== 'sqlite') doc['store'] = options.store;
  if (options.listeners) doc['listeners'] = options.listeners;
  const text = `# Portcullis configuration: every key is described in docs/config.md.\n${stringify(doc)}\n`;
  writeFileSync(join(dataDir, CONFIG_FILE), text, { mode: 0o600 });
}

/** The TLS key and certificate the listeners use: configured files, or the generated ones. */
export function loadTls(dataDir: string, config: Config): { key: Buffer; cert: Buffer } {
  const certPath = config.tls.cert || join(dataDir, TLS_CERT_FILE);
  const keyPath = config.tls.key || join(dataDir, TLS_KEY_FILE);
  try {
    return { key: readFileSync(keyPath), cert: readFileSync(certPath) };
  } catch (err) {
    throw new UsageError(`tls: cannot read ${(err as NodeJS.ErrnoException).path ?? certPath}`);
  }
}

/** Points the data folder's configuration at another store (after `migrate`), keeping the rest
 * of the file as it is. */
export function setStore(dataDir: string, store: string): void {
  const problem = storeProblem(store);
  if (problem) throw new UsageError(`store: ${problem}`);
  const path = join(dataDir, CONFIG_FILE);
  const text = readFileSync(path, 'utf8');
  const line = `store = ${JSON.stringify(store)}`;
  // Top-level keys come before the first [section]; an existing store line is replaced in place.
  const next = /^store\s*=.*$/m.test(text)
    ? text.replace(/^store\s*=.*$/m, line)
    : text.replace(/^(?!#)/m, `${line}\n`);
  writeFileSync(path, next, { mode: 0o600 });
}
