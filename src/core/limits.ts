/**
 * @module Limits: the single source of every bound a parser or protocol enforces (ATTACKS.md R13).
 * Each number says why it is what it is. Configuration may lower or raise the ones that are
 * marked as configurable; the rest are structural and fixed.
 */

/** MIME nesting depth (multipart and message/rfc822 together). Real mail rarely passes 6; Dovecot
 * CVE-2020-12100 crashed at 10,000. Parts below the limit are kept as opaque leaves (MI-01). */
export const MIME_MAX_DEPTH = 32;

/** MIME parts per message. Mail with hundreds of attachments exists; ten thousand crashed Dovecot
 * (CVE-2020-25275). Parts past the limit are not indexed (MI-02). */
export const MIME_MAX_PARTS = 2000;

/** Bytes in one header block. 256 KiB holds a header with thousands of recipients; larger blocks
 * are cut for parsing (the stored message stays byte-exact) (MI-03). */
export const MIME_MAX_HEADER_BYTES = 256 * 1024;

/** Header fields in one header block, checked before any field is parsed (MI-03). */
export const MIME_MAX_HEADER_FIELDS = 5000;

/** Addresses parsed from one header field (To/Cc with 100,000 entries, MI-03). */
export const MIME_MAX_ADDRESSES = 2000;

/** Parameters read from one structured header (Content-Type, Content-Disposition), RFC 2231
 * continuations included; the rest are ignored (MI-04). */
export const MIME_MAX_PARAMS = 100;

/** Decoded text kept for full-text search per message. Beyond 2 MiB the index grows with little
 * gain in recall. */
export const FTS_MAX_TEXT_BYTES = 2 * 1024 * 1024;

/** SMTP command line length. RFC 5321 §4.5.3.1.4 sets 512 octets; extensions (SIZE, SMTPUTF8,
 * long addresses) need more, and smtp-server uses the same 4 KiB default. */
export const SMTP_MAX_COMMAND_LINE = 4 * 1024;

/** Blobs up to this size stay in memory while they arrive and are stored in the database, in the
 * same transaction as the rows that reference them, so a batch of deliveries costs one fsync.
 * Larger blobs stream to a file in the blob folder and are fsync'd on their own. Most mail is
 * below 256 KiB. */
export const BLOB_INLINE_MAX_BYTES = 256 * 1024;

/** Length of an address local part and of a domain (RFC 5321 §4.5.3.1.1, §4.5.3.1.2). */
export const ADDRESS_MAX_LOCAL = 64;
export const ADDRESS_MAX_DOMAIN = 255;

/** Mailbox name length in bytes, and depth of the hierarchy. */
export const MAILBOX_NAME_MAX_BYTES = 512;
export const MAILBOX_MAX_DEPTH = 16;

/** Parsed message views kept in memory and shared by every session (IMAP FETCH/SEARCH/SORT, and
 * later JMAP). About 3 KB each, so 20,000 cost some 60 MB and cover a large mailbox open in
 * several clients at once; Dovecot's on-disk cache file plays the same part. */
export const MESSAGE_VIEW_CACHE = 20_000;

/** Header blocks up to this size are kept beside the message row for header-only FETCH; a larger
 * one (rare, and usually hostile) is read from the message itself. */
export const MESSAGE_HEADER_CACHE_MAX_BYTES = 64 * 1024;

/** How long a node holds the queued recipients it took for a delivery attempt: no other node
 * takes them meanwhile, and a node that dies mid-attempt leaves them to be retried after it.
 * Longer than the SMTP client's own timeouts for one whole attempt. */
export const QUEUE_LEASE_MS = 15 * 60_000;
