/**
 * @module Core/echo (RFC 8620 §4): returns its arguments, for testing connectivity.
 */
import { ok } from '../../../../core/result.ts';
import type { Method } from '../../core/api.ts';
import { CAP_CORE } from '../../core/request.ts';

export const coreEcho: Method = {
  capability: CAP_CORE,
  async run(_mc, args) {
    return ok(args);
  },
};
