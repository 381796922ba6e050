/**
 * @module The local administrator context, for the CLI only. Protocol and web code may not import
 * this module (enforced by .dependency-cruiser.cjs), so no network request can obtain it.
 */
import { randomId } from '../core/ids.ts';
import { type Ctx, issue } from './principal.ts';

/** A context for the administrator at the local console. */
export function localAdminContext(name = 'local-cli'): Ctx {
  return Object.freeze({
    principal: issue({ kind: 'admin' as const, name }),
    protocol: 'cli' as const,
    remote: 'local',
    sessionId: randomId(),
  });
}
