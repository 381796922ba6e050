/**
 * @module JMAP request objects (RFC 8620 §3.3–§3.7): validation of the request envelope, the
 * capabilities and limits this server advertises, and result references (`#name` arguments whose
 * values are JSON Pointers into earlier responses of the same request).
 * Trust: the body is untrusted JSON already parsed under the size limit; every shape is checked
 * here before a method sees it, and pointer evaluation is bounded.
 */
import { fail, ok, type Result } from '../../../core/result.ts';

export const CAP_CORE = 'urn:ietf:params:jmap:core';
export const CAP_MAIL = 'urn:ietf:params:jmap:mail';
export const CAP_SUBMISSION = 'urn:ietf:params:jmap:submission';
export const CAP_VACATION = 'urn:ietf:params:jmap:vacationresponse';
/** This server's extension: the Email property `safeBody`, the body made safe to show in a
 * browser (sanitized HTML, or escaped and linkified text) with its remote images held back. */
export const CAP_SAFE_BODY = 'urn:portcullis:params:jmap:safebody';

/** Capabilities the server implements. */
export const CAPABILITIES = [CAP_CORE, CAP_MAIL, CAP_SUBMISSION, CAP_VACATION, CAP_SAFE_BODY] as const;

/** The core limits (RFC 8620 §2), enforced where the request is read and in each method. */
export const CORE_LIMITS = {
  maxSizeUpload: 50_000_000,
  maxConcurrentUpload: 4,
  maxSizeRequest: 10_000_000,
  maxConcurrentRequests: 4,
  maxCallsInRequest: 32,
  maxObjectsInGet: 500,
  maxObjectsInSet: 500,
  collationAlgorithms: ['i;ascii-numeric', 'i;ascii-casemap', 'i;unicode-casemap'],
} as const;

/** Deepest nesting of arrays and objects a request may have. */
export const MAX_JSON_DEPTH = 64;

/**
 * True when the JSON text nests arrays and objects no deeper than `max` (checked before parsing,
 * so that neither the parser nor anything walking the result can exhaust the stack: JM-03).
 * Brackets inside strings do not count.
 */
export function jsonDepthWithin(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return false;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return true;
}

/** One method call: name, arguments, client id. */
export type Invocation = [string, Record<string, unknown>, string];

/** A validated request. */
export interface JmapRequest {
  using: string[];
  methodCalls: Invocation[];
  createdIds: Record<string, string> | null;
}

/** Request-level problems (RFC 8620 §3.6.1), sent as problem details. */
export type RequestProblem = 'notRequest' | 'unknownCapability' | 'limit';

/** A JSON object (not an array, not null). */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the shape of a request object. */
export function parseRequest(body: unknown): Result<JmapRequest, RequestProblem> {
  if (!isObject(body)) return fail('notRequest', 'the request is not a JSON object');
  const { using, methodCalls, createdIds } = body;
  if (!Array.isArray(using) || !using.every((u) => typeof u === 'string'))
    return fail('notRequest', '"using" must be an array of strings');
  if (!Array.isArray(methodCalls)) return fail('notRequest', '"methodCalls" must be an array');
  if (createdIds !== undefined && !isObject(createdIds))
    return fail('notRequest', '"createdIds" must be an object');
  const unknown = (using as string[]).filter((u) => !(CAPABILITIES as readonly string[]).includes(u));
  if (unknown.length > 0) return fail('unknownCapability', `unknown capability ${unknown[0]}`);
  if (methodCalls.length > CORE_LIMITS.maxCallsInRequest)
    return fail('limit', `at most ${CORE_LIMITS.maxCallsInRequest} method calls in a request`);
  for (const call of methodCalls) {
    if (
      !Array.isArray(call) ||
      call.length !== 3 ||
      typeof call[0] !== 'string' ||
      !isObject(call[1]) ||
      typeof call[2] !== 'string'
    )
      return fail('notRequest', 'each method call is [name, arguments, id]');
  }
  return ok({
    using: using as string[],
    methodCalls: methodCalls as Invocation[],
    createdIds: (createdIds as Record<string, string> | undefined) ?? null,
  });
}

/** Most values a pointer with `*` may gather (bounds the work one reference can cause). */
const MAX_POINTER_VALUES = 100_000;

/**
 * Evaluates a JMAP pointer (RFC 6901 plus `*`, RFC 8620 §3.7): `*` maps over an array and
 * flattens arrays it produces. Returns undefined when the path does not exist.
 */
export function evaluatePointer(value: unknown, path: string): unknown {
  if (path === '') return value;
  if (!path.startsWith('/')) return undefined;
  const tokens = path
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  const walk = (v: unknown, i: number): unknown => {
    if (i === tokens.length) return v;
    const t = tokens[i]!;
    if (Array.isArray(v)) {
      if (t === '*') {
        const out: unknown[] = [];
        for (const item of v) {
          const r = walk(item, i + 1);
          if (r === undefined) return undefined;
          if (Array.isArray(r)) out.push(...r);
          else out.push(r);
          if (out.length > MAX_POINTER_VALUES) return undefined;
        }
        return out;
      }
      if (!/^(0|[1-9]\d*)$/.test(t)) return undefined;
      return Number(t) < v.length ? walk(v[Number(t)], i + 1) : undefined;
    }
    if (isObject(v) && Object.hasOwn(v, t)) return walk(v[t], i + 1);
    return undefined;
  };
  return walk(value, 0);
}

/** Responses so far: [name, arguments, call id]. */
export type Responses = [string, Record<string, unknown>, string][];

/**
 * Replaces `#arg` references in `args` with the values they point at (RFC 8620 §3.7). Fails with
 * invalidArguments when both `arg` and `#arg` are given, and invalidResultReference when the
 * reference is malformed, names no earlier response of that method, or its path does not exist.
 */
export function resolveReferences(
  args: Record<string, unknown>,
  responses: Responses,
): Result<Record<string, unknown>, 'invalidArguments' | 'invalidResultReference'> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (!key.startsWith('#')) {
      out[key] = value;
      continue;
    }
    const name = key.slice(1);
    if (Object.hasOwn(args, name)) return fail('invalidArguments', `both ${name} and #${name} given`);
    if (
      !isObject(value) ||
      typeof value['resultOf'] !== 'string' ||
      typeof value['name'] !== 'string' ||
      typeof value['path'] !== 'string'
    )
      return fail('invalidResultReference', `#${name} is not a result reference`);
    const source = responses.find((r) => r[2] === value['resultOf']);
    if (!source || source[0] !== value['name'])
      return fail(
        'invalidResultReference',
        `no ${String(value['name'])} response with id ${String(value['resultOf'])}`,
      );
    const resolved = evaluatePointer(source[1], value['path']);
    if (resolved === undefined) return fail('invalidResultReference', `path ${value['path']} does not exist`);
    out[name] = resolved;
  }
  return ok(out);
}
