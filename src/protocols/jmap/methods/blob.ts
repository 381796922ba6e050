/**
 * @module Blob ids (RFC 8620 §6) as this server makes them: `u<id>` an upload, `b<id>` a whole
 * stored message, `b<id>.<part>` one decoded part of it. All are read through the mail service,
 * which serves only the caller's own account.
 * Trust: blob ids are client input and only ever matched against these forms.
 */
import type { MethodContext } from '../core/api.ts';

/** The bytes a blob id names, or null when it names nothing of the caller's. */
export async function readBlob(mc: MethodContext, blobId: string): Promise<Buffer | null> {
  if (/^u[a-z2-7]{1,32}$/.test(blobId)) {
    const r = await mc.services.mail.readUpload(mc.ctx, blobId.slice(1));
    return r.ok ? r.value : null;
  }
  const m = /^b([1-9]\d{0,14})(?:\.([1-9]\d{0,5}))?$/.exec(blobId);
  if (!m) return null;
  const r = await mc.services.mail.readPart(mc.ctx, Number(m[1]), m[2] ? Number(m[2]) : null);
  return r.ok ? r.value : null;
}
