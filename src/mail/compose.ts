/**
 * @module Writing new messages (JMAP Email/set create): RFC 5322 headers with encoded words,
 * text and HTML bodies (multipart/alternative when both) and attachments given as bytes, built
 * with nodemailer's MailComposer.
 * Trust: every value is user input. Bodies are given as strings only, and file and URL access
 * are switched off, so nothing a user writes makes the server read a file or fetch a URL
 * (ATTACKS.md R16); header values are encoded by the composer, so CR/LF cannot add fields.
 */
import MailComposer from 'nodemailer/lib/mail-composer';

/** An address as JMAP gives it. */
export interface Address {
  name: string | null;
  email: string;
}

/** A file attached to a new message. */
export interface Attachment {
  content: Buffer;
  /** Media type, e.g. `application/pdf`; `message/rfc822` attaches a whole message. */
  type: string;
  name: string | null;
  /** Content-ID for inline parts referred to from HTML (`cid:`). */
  cid: string | null;
  inline: boolean;
}

/** What a new message says. */
export interface Draft {
  from: Address[];
  to: Address[];
  cc: Address[];
  bcc: Address[];
  replyTo: Address[];
  subject: string;
  text: string | null;
  html: string | null;
  inReplyTo: string[];
  references: string[];
  attachments?: Attachment[];
  /** An iTIP message (RFC 6047): a text/calendar alternative with its method, e.g. REQUEST. */
  calendar?: { method: string; content: string };
  messageId: string;
  date: number;
}

const addr = (list: Address[]) => list.map((a) => (a.name ? { name: a.name, address: a.email } : a.email));

/** The message bytes of a draft; Bcc is kept (submission removes it when sending). */
export async function composeMessage(d: Draft): Promise<Buffer> {
  const composer = new MailComposer({
    from: addr(d.from)[0],
    to: addr(d.to),
    cc: addr(d.cc),
    bcc: addr(d.bcc),
    replyTo: addr(d.replyTo),
    subject: d.subject,
    date: new Date(d.date),
    messageId: `<${d.messageId}>`,
    ...(d.inReplyTo.length > 0 ? { inReplyTo: d.inReplyTo.map((i) => `<${i}>`).join(' ') } : {}),
    ...(d.references.length > 0 ? { references: d.references.map((i) => `<${i}>`) } : {}),
    ...(d.text !== null ? { text: d.text } : {}),
    ...(d.html !== null ? { html: d.html } : {}),
    attachments: (d.attachments ?? []).map((a) => ({
      content: a.content,
      contentType: a.type,
      contentDisposition: a.inline ? ('inline' as const) : ('attachment' as const),
      ...(a.name !== null ? { filename: a.name } : {}),
      ...(a.cid !== null ? { cid: a.cid } : {}),
    })),
    ...(d.calendar ? { icalEvent: { method: d.calendar.method, content: d.calendar.content } } : {}),
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const node = composer.compile();
  node.keepBcc = true;
  return node.build();
}
