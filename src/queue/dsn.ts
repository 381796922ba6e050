/**
 * @module Delivery status notifications (RFC 3464, RFC 6522 multipart/report): what the sender
 * receives when recipients fail for good, or once when delivery is taking long. The original's
 * header is returned, not its body.
 */
import { randomId } from '../core/ids.ts';
import { rfc5322Date } from '../mail/date.ts';
import { parseHeaderBlock } from '../mail/header.ts';
import type { AttemptResult } from '../store/types.ts';

/** Text for a header or a report field: one line, printable. */
const oneLine = (s: string): string =>
  s
    .replace(/[\r\n\0]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 900);

/** The report for `failed` recipients of a message from `sender`, or, with `retryUntil`, for
 * recipients still being retried (a delay notice). */
export function bounceMessage(input: {
  hostname: string;
  sender: string;
  failed: AttemptResult[];
  original: Buffer;
  now: number;
  retryUntil?: number;
}): Buffer {
  const delayed = input.retryUntil !== undefined;
  const boundary = `report-${randomId(12)}`;
  const { bodyStart } = parseHeaderBlock(input.original, 0, input.original.length);
  const headers = input.original.subarray(0, Math.min(bodyStart, 64 * 1024));
  const status = (r: AttemptResult): string => {
    const code = /^(\d)\d\d/.exec(r.error ?? '')?.[1];
    return code === '5' ? '5.0.0' : '4.4.7';
  };
  const text = [
    `This is the mail system at ${input.hostname}.`,
    '',
    delayed
      ? `Your message has not yet been delivered to these recipients. Nothing needs to be done: delivery will be retried until ${rfc5322Date(input.retryUntil!)}.`
      : 'Your message could not be delivered to these recipients:',
    '',
    ...input.failed.map((r) => `  <${oneLine(r.address)}>: ${oneLine(r.error ?? 'failed')}`),
    '',
  ].join('\r\n');
  const report = [
    `Reporting-MTA: dns; ${input.hostname}`,
    `Arrival-Date: ${rfc5322Date(input.now)}`,
    '',
    ...input.failed.flatMap((r) => [
      `Final-Recipient: rfc822; ${oneLine(r.address)}`,
      `Action: ${delayed ? 'delayed' : 'failed'}`,
      `Status: ${delayed ? '4.4.7' : status(r)}`,
      ...(delayed ? [`Will-Retry-Until: ${rfc5322Date(input.retryUntil!)}`] : []),
      `Diagnostic-Code: smtp; ${oneLine(r.error ?? 'failed')}`,
      '',
    ]),
  ].join('\r\n');
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.hostname}>`,
    `To: <${oneLine(input.sender)}>`,
    `Subject: ${delayed ? 'Delayed Mail (still being retried)' : 'Undelivered Mail Returned to Sender'}`,
    `Date: ${rfc5322Date(input.now)}`,
    `Message-ID: <${randomId(16)}@${input.hostname}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    text,
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    report,
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    '',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(head), headers, Buffer.from(`\r\n--${boundary}--\r\n`)]);
}
