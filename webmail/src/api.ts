/**
 * The webmail's only ways to the server: the sign-in and account API under /auth/ and JMAP
 * (requests, uploads, downloads and push). The session cookie is HttpOnly; the CSRF token the
 * server hands out at sign-in goes with every request that changes something.
 */

export const CAPS = [
  'urn:ietf:params:jmap:core',
  'urn:ietf:params:jmap:mail',
  'urn:ietf:params:jmap:submission',
  'urn:ietf:params:jmap:vacationresponse',
  'urn:portcullis:params:jmap:safebody',
];

/** An error the server answered with. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail?: string,
  ) {
    super(detail ?? code);
  }
}

/** A signed-in browser session. */
export interface Session {
  username: string;
  csrfToken: string;
}

async function authCall<T>(method: string, path: string, csrf: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: {
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(csrf ? { 'X-CSRF-Token': csrf } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 204) return undefined as T;
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, json.error ?? 'error', json.detail);
  return json as T;
}

/** The session of this browser, or null when nobody is signed in. */
export async function resume(): Promise<Session | null> {
  try {
    return await authCall<Session>('GET', '/auth/session', '');
  } catch {
    return null;
  }
}

/** Signs in; throws ApiError `second-factor` when a TOTP or recovery code is needed. */
export const signIn = (username: string, password: string, code?: string): Promise<Session> =>
  authCall('POST', '/auth/login', '', { username, password, ...(code ? { code } : {}) });

/** Account settings under /auth/ for the signed-in session. */
export const account = (csrf: string) => ({
  signOut: () => authCall<void>('POST', '/auth/logout', csrf),
  sessions: () =>
    authCall<{
      sessions: { id: string; remote: string; userAgent: string; lastSeenAt: number; current: boolean }[];
    }>('GET', '/auth/sessions', csrf),
  revokeSession: (id: string) => authCall<void>('DELETE', `/auth/sessions/${encodeURIComponent(id)}`, csrf),
  changePassword: (password: string, newPassword: string, code?: string) =>
    authCall<void>('POST', '/auth/password', csrf, { password, newPassword, ...(code ? { code } : {}) }),
  status: () =>
    authCall<{ totp: { enrolled: boolean; recoveryCodes: number } | null }>('GET', '/auth/session', csrf),
  beginTotp: (password: string) =>
    authCall<{ secret: string; uri: string }>('POST', '/auth/totp', csrf, { password }),
  confirmTotp: (code: string) =>
    authCall<{ recoveryCodes: string[] }>('POST', '/auth/totp/confirm', csrf, { code }),
  removeTotp: (password: string, code: string) =>
    authCall<void>('POST', '/auth/totp/remove', csrf, { password, code }),
  appPasswords: () =>
    authCall<{
      appPasswords: {
        id: number;
        label: string;
        scopes: string[];
        createdAt: number;
        lastUsedAt: number | null;
      }[];
    }>('GET', '/auth/app-passwords', csrf),
  addAppPassword: (password: string, label: string, scopes: string[], code?: string) =>
    authCall<{ password: string }>('POST', '/auth/app-passwords', csrf, {
      password,
      label,
      scopes,
      ...(code ? { code } : {}),
    }),
  removeAppPassword: (id: number) => authCall<void>('DELETE', `/auth/app-passwords/${id}`, csrf),
});

type Call = [string, Record<string, unknown>, string];

/** Tries of a request the server turned away for too many at once (another tab or device of
 * the account was busy), and the pause before each next one. */
const BUSY_TRIES = 6;
const BUSY_PAUSE_MS = 150;

/**
 * A JMAP client bound to the signed-in account. It keeps to the server's `maxConcurrentRequests`
 * (requests beyond it wait their turn here), and retries a request refused because other
 * clients of the same account filled the server's count.
 */
export class Jmap {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  private constructor(
    readonly accountId: string,
    readonly username: string,
    private readonly csrf: string,
    private readonly slots: number,
  ) {}

  static async open(session: Session): Promise<Jmap> {
    const response = await fetch('/jmap/session', { credentials: 'same-origin' });
    if (!response.ok) throw new ApiError(response.status, 'session');
    const s = await response.json();
    const limit = Number(s.capabilities?.['urn:ietf:params:jmap:core']?.maxConcurrentRequests);
    return new Jmap(
      s.primaryAccounts['urn:ietf:params:jmap:mail'],
      s.username,
      session.csrfToken,
      Number.isInteger(limit) && limit > 0 ? limit : 1,
    );
  }

  private async turn(): Promise<void> {
    if (this.active < this.slots) {
      this.active++;
      return;
    }
    // The finishing request hands its place over directly.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private done(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  /** Runs method calls in one request; each answer by call id. A method error throws. */
  async request(calls: Call[]): Promise<Map<string, Record<string, any>>> {
    await this.turn();
    let response: Response;
    try {
      for (let tries = 1; ; tries++) {
        response = await fetch('/jmap/api', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': this.csrf },
          body: JSON.stringify({ using: CAPS, methodCalls: calls }),
        });
        if (response.status !== 429 || tries >= BUSY_TRIES) break;
        await new Promise((r) => setTimeout(r, BUSY_PAUSE_MS * tries));
      }
    } finally {
      this.done();
    }
    if (!response.ok) throw new ApiError(response.status, 'request', await response.text());
    const body = await response.json();
    const out = new Map<string, Record<string, any>>();
    for (const [name, args, id] of body.methodResponses as Call[]) {
      if (name === 'error') throw new ApiError(400, String(args['type']), String(args['description'] ?? ''));
      out.set(id, args);
    }
    return out;
  }

  /** One method call's answer. */
  async call(name: string, args: Record<string, unknown>): Promise<Record<string, any>> {
    return (await this.request([[name, { accountId: this.accountId, ...args }, '0']])).get('0')!;
  }

  /** Uploads a file, reporting progress from 0 to 1; resolves to its blob id. */
  upload(
    file: Blob,
    onProgress: (fraction: number) => void,
  ): Promise<{ blobId: string; size: number; type: string }> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `/jmap/upload/${encodeURIComponent(this.accountId)}`);
      xhr.setRequestHeader('X-CSRF-Token', this.csrf);
      xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
      xhr.onload = () =>
        xhr.status === 201
          ? resolve(JSON.parse(xhr.responseText))
          : reject(new ApiError(xhr.status, 'upload', xhr.responseText));
      xhr.onerror = () => reject(new ApiError(0, 'upload', 'the upload failed'));
      xhr.send(file);
    });
  }

  /** The download address of a blob (served as an attachment, never rendered by the browser). */
  downloadUrl(blobId: string, name: string, type: string): string {
    const safeName = name.replace(/[/\\]/g, '_') || 'attachment';
    return `/jmap/download/${encodeURIComponent(this.accountId)}/${encodeURIComponent(blobId)}/${encodeURIComponent(safeName)}?type=${encodeURIComponent(type)}`;
  }

  /** Calls `onChange` whenever the account changes (JMAP push over an event stream). */
  watch(onChange: () => void): () => void {
    const source = new EventSource('/jmap/eventsource?types=*&closeafter=no&ping=60');
    source.addEventListener('state', () => onChange());
    return () => source.close();
  }
}
