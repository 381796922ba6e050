import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Jmap } from './api.ts';
import { type Address, addressText, LIST_PROPERTIES, type Summary, shortDate } from './model.ts';

/** A message as the reader shows it. */
export interface FullEmail extends Summary {
  cc: Address[] | null;
  replyTo: Address[] | null;
  messageId: string[] | null;
  references: string[] | null;
  attachments: { blobId: string; name: string | null; type: string; size: number }[];
  safeBody: { html: string; remoteImages: number; truncated: boolean } | null;
}

const READ_PROPERTIES = [
  ...LIST_PROPERTIES,
  'cc',
  'replyTo',
  'messageId',
  'references',
  'attachments',
  'safeBody',
];

/** Images shown inline as previews; every other attachment is only downloaded. */
const PREVIEWABLE = /^image\/(?:png|gif|jpeg|webp)$/;

const SENDERS_KEY = 'portcullis.remoteImageSenders';
const trustedSenders = (): string[] => {
  try {
    const v = JSON.parse(localStorage.getItem(SENDERS_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((s) => typeof s === 'string') : [];
  } catch {
    return [];
  }
};

/**
 * The document shown in a message's frame: the server-sanitized body under a policy of its own
 * that allows no script, no connection and no image but `data:` ones. The frame is sandboxed
 * without scripts or same-origin rights, so even a body that slipped past the sanitizer can
 * neither run nor reach this page. Remote images, once allowed, arrive fetched by the server as
 * `data:` URLs (`images`, by their `data-remote-src`) and are put in place in an inert parsed
 * copy; the sender's server never sees the reader.
 */
export function frameDocument(html: string, images: Map<string, string> | null): string {
  let body = html;
  if (images && images.size > 0) {
    const doc = new DOMParser().parseFromString(`<!doctype html><body>${html}`, 'text/html');
    for (const img of doc.querySelectorAll('img[data-remote-src]')) {
      const data = images.get(img.getAttribute('data-remote-src') ?? '');
      if (!data) continue;
      img.setAttribute('src', data);
      img.removeAttribute('data-remote-src');
    }
    body = doc.body.innerHTML;
  }
  const policy = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'`;
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${policy}"><meta name="referrer" content="no-referrer"><style>body{font:15px/1.5 system-ui,sans-serif;margin:12px;color:#1b1b1b;overflow-wrap:anywhere}img{max-width:100%;height:auto}blockquote{border-left:3px solid #ccc;margin-left:0;padding-left:12px;color:#444}</style></head><body>${body}</body></html>`;
}

/** Remote images fetched at once per message (two, so the list and the reader keep places among
 * the account's concurrent requests while a slow image host answers), and at most in all. */
const IMAGE_BATCH = 2;
const MAX_IMAGES = 50;

/** The remote images of `html`, fetched by the server: address → `data:` URL, and how many failed. */
async function fetchImages(
  jmap: Jmap,
  emailId: string,
  html: string,
): Promise<{ images: Map<string, string>; missed: number }> {
  const doc = new DOMParser().parseFromString(`<!doctype html><body>${html}`, 'text/html');
  const urls = [
    ...new Set(
      [...doc.querySelectorAll('img[data-remote-src]')].map((i) => i.getAttribute('data-remote-src') ?? ''),
    ),
  ]
    .filter(Boolean)
    .slice(0, MAX_IMAGES);
  const images = new Map<string, string>();
  let missed = 0;
  for (let i = 0; i < urls.length; i += IMAGE_BATCH) {
    const batch = urls.slice(i, i + IMAGE_BATCH);
    const got = await Promise.all(
      batch.map((url) => jmap.call('Email/remoteImage', { emailId, url }).catch(() => null)),
    );
    got.forEach((r, k) => {
      const data = r?.['image']?.['dataUrl'];
      if (typeof data === 'string' && /^data:image\/(?:png|gif|jpeg|webp);base64,/.test(data))
        images.set(batch[k]!, data);
      else missed++;
    });
  }
  return { images, missed };
}

function MessageBody({ jmap, email }: { jmap: Jmap; email: FullEmail }) {
  const sender = email.from?.[0]?.email.toLowerCase() ?? '';
  const [remote, setRemote] = useState(() => trustedSenders().includes(sender));
  const [images, setImages] = useState<Map<string, string> | null>(null);
  const [imageNote, setImageNote] = useState('');
  const body = email.safeBody;
  // Keyed by the text, so a reload of the conversation after a push leaves an unchanged body (and
  // where it was scrolled to) alone.
  const html = body?.html ?? null;
  const wanted = remote && (body?.remoteImages ?? 0) > 0;
  useEffect(() => {
    if (!wanted || html === null) return;
    let live = true;
    setImageNote('Loading images…');
    void fetchImages(jmap, email.id, html).then(({ images: got, missed }) => {
      if (!live) return;
      setImages(got);
      setImageNote(missed > 0 ? `${missed} image${missed === 1 ? '' : 's'} could not be loaded.` : '');
    });
    return () => {
      live = false;
    };
  }, [wanted, html]);
  const doc = useMemo(() => (html === null ? '' : frameDocument(html, images)), [html, images]);
  if (!body) return <p class="muted">This message has no body that can be shown.</p>;
  return (
    <>
      {body.remoteImages > 0 && !remote && (
        <div class="banner" role="status">
          {body.remoteImages} remote image{body.remoteImages === 1 ? ' is' : 's are'} blocked to protect your
          privacy.{' '}
          <button type="button" onClick={() => setRemote(true)}>
            Show images
          </button>
          {sender && (
            <button
              type="button"
              onClick={() => {
                localStorage.setItem(SENDERS_KEY, JSON.stringify([...trustedSenders(), sender].slice(-500)));
                setRemote(true);
              }}
            >
              Always show from {sender}
            </button>
          )}
        </div>
      )}
      {imageNote && (
        <p class="muted" role="status">
          {imageNote}
        </p>
      )}
      {body.truncated && <p class="muted">This message is very long; only its beginning is shown.</p>}
      {/* A new frame once the images are in, rather than a second document in the same one:
          Chromium could leave a frame whose srcdoc changed while it loaded blank. */}
      <iframe
        key={images ? 'with-images' : 'text'}
        class="body"
        title={`Message: ${email.subject ?? ''}`}
        sandbox="allow-popups allow-popups-to-escape-sandbox"
        referrerpolicy="no-referrer"
        srcdoc={doc}
      />
    </>
  );
}

function Attachments({ jmap, email }: { jmap: Jmap; email: FullEmail }) {
  if (email.attachments.length === 0) return null;
  return (
    <ul class="attachments" aria-label="Attachments">
      {email.attachments.map((a) => {
        const name = a.name ?? 'attachment';
        const url = jmap.downloadUrl(a.blobId, name, a.type);
        return (
          <li key={a.blobId}>
            {PREVIEWABLE.test(a.type) && (
              <img class="preview" src={url} alt={`Preview of ${name}`} loading="lazy" />
            )}
            <a href={url} download={name}>
              {name}
            </a>{' '}
            <span class="muted">({Math.max(1, Math.round(a.size / 1024))} KB)</span>
          </li>
        );
      })}
    </ul>
  );
}

/** A conversation: every message of the thread, the last one open. */
export function Reader({
  jmap,
  email,
  refreshKey,
  onReply,
  onClose,
}: {
  jmap: Jmap;
  email: Summary;
  refreshKey: number;
  onReply: (mode: 'reply' | 'all' | 'forward', email: FullEmail) => void;
  onClose: () => void;
}) {
  const [thread, setThread] = useState<FullEmail[] | null>(null);
  const [open, setOpen] = useState<Set<string>>(new Set());
  useEffect(() => {
    let live = true;
    void (async () => {
      const r = await jmap.request([
        ['Thread/get', { accountId: jmap.accountId, ids: [email.threadId] }, 't'],
        [
          'Email/get',
          {
            accountId: jmap.accountId,
            '#ids': { resultOf: 't', name: 'Thread/get', path: '/list/*/emailIds' },
            properties: READ_PROPERTIES,
          },
          'e',
        ],
      ]);
      if (!live) return;
      const list = (r.get('e')!['list'] as FullEmail[]).filter(
        (e) => !e.keywords['$draft'] || e.id === email.id,
      );
      setThread(list);
      setOpen((prev) => (prev.size > 0 ? prev : new Set([list[list.length - 1]?.id ?? email.id])));
      const unread = list.filter((e) => !e.keywords['$seen']).map((e) => e.id);
      if (unread.length > 0)
        await jmap.call('Email/set', {
          update: Object.fromEntries(unread.map((id) => [id, { 'keywords/$seen': true }])),
        });
    })();
    return () => {
      live = false;
    };
  }, [jmap, email.id, email.threadId, refreshKey]);

  if (!thread) return <section class="reader" aria-busy="true" />;
  const last = thread[thread.length - 1];
  return (
    <section class="reader" aria-label="Conversation">
      <header class="reader-head">
        <button type="button" class="back" onClick={onClose} aria-label="Back to the list">
          ←
        </button>
        <h2>{email.subject || '(no subject)'}</h2>
        {last && (
          <div class="actions">
            <button type="button" onClick={() => onReply('reply', last)} title="Reply (r)">
              Reply
            </button>
            <button type="button" onClick={() => onReply('all', last)} title="Reply all (a)">
              Reply all
            </button>
            <button type="button" onClick={() => onReply('forward', last)} title="Forward (f)">
              Forward
            </button>
          </div>
        )}
      </header>
      {thread.map((e) => {
        const expanded = open.has(e.id);
        return (
          <article key={e.id} class={expanded ? 'message open' : 'message'}>
            <button
              type="button"
              class="message-head"
              aria-expanded={expanded}
              onClick={() =>
                setOpen((s) => new Set(expanded ? [...s].filter((x) => x !== e.id) : [...s, e.id]))
              }
            >
              <strong>{addressText(e.from)}</strong>
              <span class="muted">{shortDate(e.receivedAt)}</span>
              {!expanded && <span class="muted preview-line">{e.preview}</span>}
            </button>
            {expanded && (
              <>
                <dl class="addresses">
                  <dt>To</dt>
                  <dd>{addressText(e.to) || '—'}</dd>
                  {e.cc && e.cc.length > 0 && (
                    <>
                      <dt>Cc</dt>
                      <dd>{addressText(e.cc)}</dd>
                    </>
                  )}
                </dl>
                <MessageBody jmap={jmap} email={e} />
                <Attachments jmap={jmap} email={e} />
              </>
            )}
          </article>
        );
      })}
    </section>
  );
}
