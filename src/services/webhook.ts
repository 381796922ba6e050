/**
 * @module The webhook: each alert, and each periodic audit checkpoint, is POSTed as JSON to one
 * URL the administrator configured, signed with HMAC-SHA256 of the body (`X-Portcullis-Signature: sha256=HEX`) when a
 * secret is set, so a receiver (a chat bridge, a SIEM) can tell it came from this server.
 * Trust: the URL comes only from configuration, never from a request; redirects are not
 * followed; each attempt has a 5-second deadline and at most three attempts are made, so a slow
 * receiver delays nothing but its own notice.
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from '../core/log.ts';

/** Attempts per alert and the pause after each failed one. */
const ATTEMPTS = 3;
const TIMEOUT_MS = 5000;

/** Checks a configured webhook URL: absolute http or https, no credentials in it. */
export function webhookProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'only http and https URLs';
  if (u.username || u.password) return 'put no credentials in the URL (use the secret)';
  return null;
}

/**
 * One POST on its own connection (no keep-alive: a short-lived CLI process must be able to exit
 * at once); resolves with the status, which is not followed when it is a redirect.
 */
function post(url: string, headers: Record<string, string>, body: string): Promise<number> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: false,
        timeout: TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Creates the sender; `pauseMs` is the wait between attempts (shortened by tests). */
export function createWebhook(deps: { url: string; secret: string; log: Logger; pauseMs?: number }) {
  const { url, secret, log } = deps;
  const pause = deps.pauseMs ?? 2000;
  /** Sends one notice (an alert, or an audit checkpoint to keep elsewhere); `ref` names it in logs. */
  return async (payload: Record<string, unknown>, ref: string): Promise<void> => {
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Portcullis',
    };
    if (secret)
      headers['x-portcullis-signature'] = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        const status = await post(url, headers, body);
        if (status >= 200 && status < 300) return;
        log.warn({ ref, status, attempt }, 'webhook refused');
      } catch (err) {
        log.warn({ ref, err: (err as Error).message, attempt }, 'webhook failed');
      }
      if (attempt < ATTEMPTS) await new Promise((r) => setTimeout(r, pause * attempt));
    }
    log.error({ ref }, 'webhook gave up');
  };
}

/** The sender as the detector uses it. */
export type Webhook = ReturnType<typeof createWebhook>;
