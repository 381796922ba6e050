/**
 * A small WebDAV client for tests that send exact requests (methods, headers and bodies as
 * given) to a server's HTTP listener as one user, with HTTP Basic.
 */

/** A user's address and password. */
export interface DavUser {
  address: string;
  password: string;
}

/** What a DAV request answered. */
export interface DavReply {
  status: number;
  text: string;
  etag: string;
}

/** Sends DAV requests to `base` (scheme, host and port) as a user, or with no credentials; a
 * body without a Content-Type gets `defaultType` when given. */
export function davRequester(base: () => string, defaultType?: string) {
  return async (
    who: DavUser | null,
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<DavReply> => {
    const r = await fetch(`${base()}${path}`, {
      method,
      headers: {
        ...(who
          ? { Authorization: `Basic ${Buffer.from(`${who.address}:${who.password}`).toString('base64')}` }
          : {}),
        ...(body !== undefined && defaultType && !headers['Content-Type']
          ? { 'Content-Type': defaultType }
          : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body }),
    });
    return { status: r.status, text: await r.text(), etag: r.headers.get('etag') ?? '' };
  };
}
