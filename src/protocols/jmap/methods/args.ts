/**
 * @module Argument checks shared by the JMAP methods (RFC 8620 §5): typed readers that turn a
 * wrong type into invalidArguments, the /get `ids` and `properties` rules, and id formats.
 * Trust: every value here is client input.
 */
import { fail, ok, type Result } from '../../../core/result.ts';
import type { MethodContext } from '../core/api.ts';
import { CORE_LIMITS } from '../core/request.ts';

type Args = Record<string, unknown>;

/** An optional list of strings; null when absent or null. */
export function stringList(args: Args, key: string): Result<string[] | null, 'invalidArguments'> {
  const v = args[key];
  if (v === undefined || v === null) return ok(null);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    return fail('invalidArguments', `${key} must be an array of strings`);
  return ok(v as string[]);
}

/** An optional unsigned integer. */
export function unsigned(args: Args, key: string, fallback: number): Result<number, 'invalidArguments'> {
  const v = args[key];
  if (v === undefined || v === null) return ok(fallback);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    return fail('invalidArguments', `${key} must be an unsigned integer`);
  return ok(v);
}

/** `ids` of a /get call: null (all) or at most maxObjectsInGet ids. */
export function getIds(args: Args): Result<string[] | null, string> {
  const ids = stringList(args, 'ids');
  if (!ids.ok) return ids;
  if (ids.value && ids.value.length > CORE_LIMITS.maxObjectsInGet)
    return fail('requestTooLarge', `at most ${CORE_LIMITS.maxObjectsInGet} ids`);
  return ids;
}

/** `properties` of a /get call, checked against what the object has; `id` is always returned. */
export function getProperties(
  args: Args,
  known: readonly string[],
  defaults: readonly string[],
  /** Accepts property names outside `known` (e.g. `header:` forms). */
  dynamic: (p: string) => boolean = () => false,
): Result<Set<string>, 'invalidArguments'> {
  const list = stringList(args, 'properties');
  if (!list.ok) return list;
  const props = list.value ?? [...defaults];
  const bad = props.find((p) => !known.includes(p) && !dynamic(p));
  if (bad) return fail('invalidArguments', `unknown property ${bad}`);
  return ok(new Set(['id', ...props]));
}

/** The number inside an id of the form `<prefix><digits>`, or null. */
export function idNumber(id: string, prefix: string): number | null {
  if (!id.startsWith(prefix)) return null;
  const rest = id.slice(prefix.length);
  return /^[1-9]\d{0,14}$/.test(rest) ? Number(rest) : null;
}

/** Keeps the chosen properties of an object. */
export function pick(obj: Record<string, unknown>, props: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of props) if (p in obj) out[p] = obj[p];
  return out;
}

/** The id `#key` stands for when it names an object created earlier in the request. */
export function createdId(mc: MethodContext, id: string): string {
  return id.startsWith('#') ? (mc.createdIds.get(id.slice(1)) ?? id) : id;
}

/** True when the request's `ifInState` (if any) does not match the current state. */
export const stateMismatch = (args: Args, state: string): boolean =>
  args['ifInState'] !== undefined && args['ifInState'] !== null && args['ifInState'] !== state;

/** A /set response (RFC 8620 §5.3): empty maps and lists become null. */
export function setResponse(
  mc: MethodContext,
  oldState: string,
  newState: string,
  parts: Record<string, Record<string, unknown> | unknown[]>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { accountId: mc.accountId, oldState, newState };
  for (const [k, v] of Object.entries(parts))
    out[k] = (Array.isArray(v) ? v.length : Object.keys(v).length) > 0 ? v : null;
  return out;
}
