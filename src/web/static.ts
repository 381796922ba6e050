/**
 * @module The webmail's files: the built single-page application (`webmail/dist`, made by
 * `npm run build:webmail`) read into memory once at start, and served only under the names that
 * were found then (ATTACKS.md R6: a static handler driven by a manifest; a request never names a
 * file, and nothing written later into any folder is ever served).
 * Trust: the files come from the installed package, not from users or mail.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

/** One file to serve. */
export interface StaticFile {
  body: Uint8Array;
  type: string;
  /** Whether the name carries a content hash, so it may be cached for good. */
  immutable: boolean;
}

/** The folder the webmail is built into. */
export const WEBMAIL_DIST = new URL('../../webmail/dist/', import.meta.url).pathname;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
};

/** Largest file and most files taken from the folder (a built app is far below both). */
const MAX_FILE = 8 * 1024 * 1024;
const MAX_FILES = 200;

/**
 * The files of a built app by URL path (`/` for index.html), or an empty map when the folder
 * does not exist. Only regular files with a known type are taken; links are not followed.
 */
export function loadStaticFiles(folder: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st || files.size >= MAX_FILES) continue;
      if (st.isDirectory()) walk(path);
      const type = TYPES[extname(name)];
      if (!st.isFile() || !type || st.size > MAX_FILE || !/^[A-Za-z0-9_.-]+$/.test(name)) continue;
      const url = `/${relative(folder, path).split(sep).join('/')}`;
      files.set(url === '/index.html' ? '/' : url, {
        body: readFileSync(path),
        type,
        immutable: url.startsWith('/assets/'),
      });
    }
  };
  walk(folder);
  return files;
}

/**
 * The policy of the webmail's pages: scripts, styles, connections and images only from this
 * origin (or `data:`). No image ever loads from elsewhere: remote images of a message, once the
 * user allows them, are fetched by the server (`Email/remoteImage`) and shown as `data:` URLs.
 */
export const WEBMAIL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The response for one file. */
export function staticResponse(file: StaticFile): Response {
  return new Response(file.body, {
    headers: {
      'Content-Type': file.type,
      'Content-Length': String(file.body.length),
      'Content-Security-Policy': WEBMAIL_CSP,
      'Cache-Control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    },
  });
}
