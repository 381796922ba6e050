/**
 * @module The JMAP API endpoint's work (RFC 8620 §3): runs the method calls of a validated request
 * in order, resolving result references, checking the account and the capabilities the request
 * declared, and turning expected failures into method-level error responses. A method that throws
 * is a bug: it is logged and answered with serverFail, never with internal detail.
 * Trust: arguments are untrusted; each method validates its own. The account is the caller's
 * own (the services check it again on every call).
 */
import type { Logger } from '../../../core/log.ts';
import type { Result } from '../../../core/result.ts';
import type { Ctx, Services } from '../../../services/index.ts';
import { type Invocation, type JmapRequest, type Responses, resolveReferences } from './request.ts';

/** What a method sees. */
export interface MethodContext {
  ctx: Ctx;
  services: Pick<Services, 'mail' | 'submission' | 'images'>;
  /** The caller's JMAP account id. */
  accountId: string;
  /** This server's name, for trace fields and Message-IDs. */
  hostname: string;
  /** Whether the request came over TLS (recorded in the Received field of sent mail). */
  secure: boolean;
  /** Creation ids of this request (`#key` references) and the ids they became. */
  createdIds: Map<string, string>;
  /** Responses a method adds after its own (EmailSubmission's implicit Email/set). */
  followUps: [string, Record<string, unknown>][];
}

/** A method: its capability and its implementation. Failures are JMAP error types. */
export interface Method {
  capability: string;
  run(mc: MethodContext, args: Record<string, unknown>): Promise<Result<Record<string, unknown>, string>>;
}

/** The JMAP account id of an account. */
export const jmapAccountId = (accountId: number): string => `a${accountId}`;

/** Runs every method call of `request`; returns the methodResponses. */
export async function runRequest(
  request: JmapRequest,
  mc: MethodContext,
  methods: ReadonlyMap<string, Method>,
  log: Logger,
): Promise<Invocation[]> {
  const responses: Responses = [];
  const error = (type: string, description: string | undefined, id: string): void => {
    responses.push(['error', description ? { type, description } : { type }, id]);
  };
  for (const [name, rawArgs, id] of request.methodCalls) {
    const method = methods.get(name);
    if (!method || !request.using.includes(method.capability)) {
      error('unknownMethod', `${name} is not a method of the requested capabilities`, id);
      continue;
    }
    const args = resolveReferences(rawArgs, responses);
    if (!args.ok) {
      error(args.error, args.detail, id);
      continue;
    }
    if ('accountId' in args.value && args.value['accountId'] !== mc.accountId) {
      error('accountNotFound', undefined, id);
      continue;
    }
    try {
      mc.followUps.length = 0;
      const r = await method.run(mc, args.value);
      if (r.ok) {
        responses.push([name, r.value, id]);
        for (const [extra, extraArgs] of mc.followUps) responses.push([extra, extraArgs, id]);
      } else error(r.error, r.detail, id);
    } catch (err) {
      log.error({ err, method: name, session: mc.ctx.sessionId }, 'jmap method failed');
      error('serverFail', undefined, id);
    }
  }
  return responses;
}
