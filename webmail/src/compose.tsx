import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Jmap } from './api.ts';
import { type Address, addressText, type Mailbox, parseAddresses } from './model.ts';

export interface Identity {
  id: string;
  name: string;
  email: string;
  textSignature: string;
}

/** What a new message starts with (empty, or made from the message replied to). */
export interface Draft {
  to: string;
  cc: string;
  subject: string;
  body: string;
  /** The formatted text, when the message is written with formatting (from the server's
   * sanitized copy when a saved draft is continued). */
  html: string | null;
  inReplyTo: string[] | null;
  references: string[] | null;
  /** Attachments carried over (a forward, a saved draft), by blob id. */
  attachments: Attachment[];
  /** The saved draft this continues, replaced by each save and destroyed when sent. */
  draftId: string | null;
}

export interface Attachment {
  key: string;
  blobId: string | null;
  name: string;
  type: string;
  size: number;
  progress: number;
  error?: string;
}

/** Seconds after the last keystroke before the draft is saved. */
const AUTOSAVE_MS = 2000;

/** The formatting bar: label, editing command and its value. */
const FORMATS: { label: string; text: ComponentChildren; command: string; value?: string }[] = [
  { label: 'Bold', text: <b>B</b>, command: 'bold' },
  { label: 'Italic', text: <i>I</i>, command: 'italic' },
  { label: 'Underline', text: <u>U</u>, command: 'underline' },
  { label: 'Bulleted list', text: '•', command: 'insertUnorderedList' },
  { label: 'Numbered list', text: '1.', command: 'insertOrderedList' },
  { label: 'Quote', text: '❝', command: 'formatBlock', value: 'blockquote' },
  { label: 'Remove formatting', text: 'Clear', command: 'removeFormat' },
];

/** Plain text as editor content: lines as text nodes between line breaks, so nothing typed is
 * ever read as markup; lines quoted with ">" (a reply's quote) inside as many quotes as they have
 * marks. */
function textAsHtml(text: string): string {
  const root = document.createElement('div');
  // The quotes the current line is in, outermost first, below the root.
  const open: HTMLElement[] = [root];
  for (const line of text.split('\n')) {
    const [, marks = '', rest = ''] = /^((?:> ?)*)(.*)$/.exec(line) ?? [];
    const depth = marks.split('>').length - 1;
    while (open.length - 1 > depth) open.pop();
    while (open.length - 1 < depth) {
      const quote = document.createElement('blockquote');
      open.at(-1)!.append(quote);
      open.push(quote);
    }
    const box = open.at(-1)!;
    if (box.lastChild && box.lastChild.nodeName !== 'BLOCKQUOTE') box.append(document.createElement('br'));
    box.append(rest);
  }
  return root.innerHTML;
}

/** Elements of a quoted message that a reply keeps as they are (without attributes). */
const QUOTE_KEPT = /^(?:P|DIV|BR|B|STRONG|I|EM|U|S|UL|OL|LI|BLOCKQUOTE|PRE|CODE)$/;
/** Elements whose content a reply keeps as a block of its own. */
const QUOTE_BLOCK =
  /^(?:H[1-6]|TABLE|THEAD|TBODY|TFOOT|TR|SECTION|ARTICLE|HEADER|FOOTER|CENTER|ADDRESS|DL|DT|DD)$/;
/** Quotes deeper than this are flattened into the one around them. */
const QUOTE_DEPTH = 32;
/** A message body longer than this is quoted as plain text. */
const QUOTE_MAX = 512 * 1024;

/** Copies `from`'s content (an inert parsed document) into `into` as new elements of this page:
 * only the kept elements, with no attribute but a link's checked address; images, style sheets
 * and scripts give nothing, every other element its text only. What the editor then takes is
 * the serialization of these elements and text, which parses back into the same tree. */
function rebuild(from: Node, into: Node, depth: number): void {
  for (const n of from.childNodes) {
    if (n.nodeType === Node.TEXT_NODE) {
      into.appendChild(document.createTextNode(n.textContent ?? ''));
      continue;
    }
    if (n.nodeType !== Node.ELEMENT_NODE) continue;
    const el = n as Element;
    if (/^(?:IMG|STYLE|SCRIPT|TEMPLATE)$/.test(el.tagName)) continue;
    const raw = el.getAttribute('href') ?? '';
    const link = el.tagName === 'A' && /^(?:https?|mailto):/i.test(raw) ? linkAddress(raw) : null;
    const name = QUOTE_KEPT.test(el.tagName)
      ? el.tagName
      : QUOTE_BLOCK.test(el.tagName)
        ? 'DIV'
        : link
          ? 'A'
          : null;
    if (!name || depth >= QUOTE_DEPTH) {
      rebuild(el, into, depth);
      // Table cells side by side stay apart in words.
      if (/^T[DH]$/.test(el.tagName)) into.appendChild(document.createTextNode(' '));
      continue;
    }
    const copy = document.createElement(name);
    if (link) copy.setAttribute('href', link);
    rebuild(el, copy, depth + 1);
    into.appendChild(copy);
  }
}

/**
 * A reply's or forward's formatted text: an empty line to write in, the `intro` lines, and the
 * original's formatting (`html`, the server's sanitized copy) inside a quote when `asQuote`.
 * Null when the original is too long to quote with its formatting.
 */
export function quotedHtml(intro: string[], html: string, asQuote: boolean): string | null {
  if (html.length > QUOTE_MAX) return null;
  const parsed = new DOMParser().parseFromString(`<!doctype html><body>${html}`, 'text/html');
  const root = document.createElement('div');
  const first = document.createElement('div');
  first.append(document.createElement('br'));
  const head = document.createElement('div');
  head.innerHTML = textAsHtml(intro.join('\n'));
  const quote = document.createElement(asQuote ? 'blockquote' : 'div');
  rebuild(parsed.body, quote, 0);
  root.append(first, head, quote);
  return root.innerHTML;
}

const BLOCKS = /^(?:P|DIV|BLOCKQUOTE|UL|OL|LI|H[1-6]|PRE|TABLE|TR)$/;

/** The plain-text alternative of formatted text: list items marked, quotes prefixed with "> ",
 * link addresses kept after their text. */
function htmlAsText(root: Node): string {
  const lines: string[] = [];
  let line = '';
  const prefix: string[] = [];
  const flush = () => {
    lines.push(prefix.join('') + line);
    line = '';
  };
  const walk = (n: Node, listIndex: number[]) => {
    if (n.nodeType === Node.TEXT_NODE) {
      // The editor keeps typed spaces with no-break spaces; the text gets plain ones.
      line += (n.textContent ?? '').replace(/\u00a0/g, ' ');
      return;
    }
    if (!(n instanceof HTMLElement)) return;
    const tag = n.tagName;
    if (tag === 'BR') return flush();
    const block = BLOCKS.test(tag);
    if (block && line) flush();
    if (tag === 'BLOCKQUOTE') prefix.push('> ');
    if (tag === 'LI') {
      const ordered = n.parentElement?.tagName === 'OL';
      if (ordered) listIndex[listIndex.length - 1]! += 1;
      line += ordered ? `${listIndex.at(-1)}. ` : '• ';
    }
    const inner = tag === 'OL' || tag === 'UL' ? [...listIndex, 0] : listIndex;
    for (const c of n.childNodes) walk(c, inner);
    if (tag === 'A') {
      const href = n.getAttribute('href') ?? '';
      if (href && href !== n.textContent && `mailto:${n.textContent}` !== href) line += ` <${href}>`;
    }
    if (block && line) flush();
    if (tag === 'BLOCKQUOTE') prefix.pop();
  };
  walk(root, [0]);
  if (line) flush();
  return lines.join('\n');
}

/** A link address the editor accepts: http(s) or mailto, nothing that runs. */
function linkAddress(input: string): string | null {
  const v = input.trim();
  if (/^mailto:[^\s]+$/i.test(v)) return v;
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) return `mailto:${v}`;
  try {
    const u = new URL(/^[a-z][a-z0-9+.-]*:/i.test(v) ? v : `https://${v}`);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** Suggestions for the address being typed (the text after the last comma). */
function suggest(value: string, known: Address[]): Address[] {
  const typed = value.split(/[,;]/).pop()!.trim().toLowerCase();
  if (typed.length < 1) return [];
  return known
    .filter((a) => a.email.toLowerCase().includes(typed) || (a.name ?? '').toLowerCase().includes(typed))
    .slice(0, 6);
}

function AddressField({
  label,
  value,
  onInput,
  known,
}: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  known: Address[];
}) {
  const [focused, setFocused] = useState(false);
  const [pick, setPick] = useState(0);
  const options = focused ? suggest(value, known) : [];
  const id = `field-${label.toLowerCase()}`;
  const choose = (a: Address) => {
    const parts = value
      .split(/[,;]/)
      .slice(0, -1)
      .map((s) => s.trim())
      .filter(Boolean);
    onInput([...parts, addressText([a])].join(', ') + ', ');
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        name={label.toLowerCase()}
        autocomplete="off"
        role="combobox"
        aria-expanded={options.length > 0}
        aria-controls={`${id}-options`}
        value={value}
        onFocus={() => setFocused(true)}
        onBlur={() => setTimeout(() => setFocused(false), 150)}
        onInput={(e) => {
          setPick(0);
          onInput(e.currentTarget.value);
        }}
        onKeyDown={(e) => {
          if (options.length === 0) return;
          if (e.key === 'ArrowDown') setPick((p) => (p + 1) % options.length);
          else if (e.key === 'ArrowUp') setPick((p) => (p + options.length - 1) % options.length);
          else if (e.key === 'Enter' || e.key === 'Tab') {
            if (e.key === 'Enter' || value.split(/[,;]/).pop()!.trim()) {
              e.preventDefault();
              choose(options[pick]!);
            }
          } else return;
          e.preventDefault();
        }}
      />
      {options.length > 0 && (
        <div class="suggestions" id={`${id}-options`} role="listbox" tabIndex={-1}>
          {options.map((a, i) => (
            <div
              key={a.email}
              role="option"
              tabIndex={-1}
              aria-selected={i === pick}
              onMouseDown={() => choose(a)}
            >
              {addressText([a])}
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

/** A formatted message as the HTML part it is sent as. */
const htmlDocument = (inner: string): string =>
  `<!doctype html><html><head><meta charset="utf-8"></head><body>${inner}</body></html>`;

/**
 * The formatted-text editor: a formatting bar over an editable area. Pasted and dropped text
 * arrives as plain text (pasted markup would bring styles, scripts' leftovers and tracking images
 * from wherever it was copied); dropped files become attachments. What it holds is only ever
 * typed text, the editing commands' own elements, or a draft's copy sanitized by the server.
 */
function RichEditor({
  initial,
  onChange,
  onFiles,
}: {
  initial: string;
  onChange: (html: string, text: string) => void;
  onFiles: (files: FileList) => void;
}) {
  const area = useRef<HTMLDivElement>(null);
  const saved = useRef<Range | null>(null);
  const [linking, setLinking] = useState(false);
  const [link, setLink] = useState('');
  const [linkError, setLinkError] = useState('');
  const linkField = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (area.current) area.current.innerHTML = initial;
  }, []);
  // The address field takes the focus when the Link button opens it.
  useEffect(() => {
    if (linking) linkField.current?.focus();
  }, [linking]);
  const changed = () => {
    const a = area.current;
    if (a) onChange(a.innerHTML, htmlAsText(a));
  };
  const run = (command: string, value?: string) => {
    area.current?.focus();
    document.execCommand(command, false, value);
    changed();
  };
  const openLink = () => {
    const sel = getSelection();
    saved.current =
      sel && sel.rangeCount > 0 && area.current?.contains(sel.anchorNode)
        ? sel.getRangeAt(0).cloneRange()
        : null;
    setLink('');
    setLinkError('');
    setLinking(true);
  };
  const addLink = () => {
    const href = linkAddress(link);
    const a = area.current;
    if (!href) return setLinkError('Give a web address (https://…) or an e-mail address.');
    if (!a) return;
    a.focus();
    const sel = getSelection();
    if (sel && saved.current) {
      sel.removeAllRanges();
      sel.addRange(saved.current);
    }
    if (sel && sel.rangeCount > 0 && !sel.isCollapsed && a.contains(sel.anchorNode))
      document.execCommand('createLink', false, href);
    else {
      // No words chosen: the address itself becomes the link, at the caret or at the end.
      const anchor = document.createElement('a');
      anchor.href = href;
      anchor.textContent = link.trim();
      const range = sel && sel.rangeCount > 0 && a.contains(sel.anchorNode) ? sel.getRangeAt(0) : null;
      if (range) {
        range.insertNode(anchor);
        range.setStartAfter(anchor);
        range.collapse(true);
      } else a.append(anchor);
    }
    setLinking(false);
    changed();
  };
  const plain = (text: string) => document.execCommand('insertText', false, text);
  return (
    <div class="editor">
      <div class="formatting" role="toolbar" aria-label="Formatting">
        {FORMATS.map((f) => (
          <button
            key={f.label}
            type="button"
            aria-label={f.label}
            title={f.label}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => run(f.command, f.value)}
          >
            {f.text}
          </button>
        ))}
        <button
          type="button"
          aria-label="Link"
          title="Link"
          onMouseDown={(e) => e.preventDefault()}
          onClick={openLink}
        >
          Link
        </button>
      </div>
      {linking && (
        <div class="link-row">
          <label for="field-link">Link address</label>
          <input
            id="field-link"
            ref={linkField}
            value={link}
            onInput={(e) => setLink(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                addLink();
              } else if (e.key === 'Escape') {
                e.stopPropagation();
                setLinking(false);
              }
            }}
          />
          <button type="button" onClick={addLink}>
            Add link
          </button>
          {linkError && (
            <span class="error" role="alert">
              {linkError}
            </span>
          )}
        </div>
      )}
      {/* biome-ignore lint/a11y/useSemanticElements: formatted text needs an editable element; a textarea holds plain text only, and ARIA's pattern for a rich-text editor is this role. */}
      <div
        ref={area}
        class="rich"
        contentEditable
        tabIndex={0}
        role="textbox"
        aria-multiline="true"
        aria-label="Message"
        onInput={changed}
        onPaste={(e) => {
          e.preventDefault();
          plain(e.clipboardData?.getData('text/plain') ?? '');
        }}
        onDrop={(e) => {
          e.preventDefault();
          const files = e.dataTransfer?.files;
          if (files && files.length > 0) onFiles(files);
          else plain(e.dataTransfer?.getData('text/plain') ?? '');
        }}
      />
    </div>
  );
}

/** The compose form: addresses with autocomplete, subject, text, attachments; saved as a draft
 * while typing, sent through EmailSubmission. */
export function Compose({
  jmap,
  initial,
  identities,
  mailboxes,
  known,
  onClose,
}: {
  jmap: Jmap;
  initial: Draft;
  identities: Identity[];
  mailboxes: Mailbox[];
  known: Address[];
  onClose: (status?: string) => void;
}) {
  const [identityId, setIdentityId] = useState(identities[0]?.id ?? '');
  const identity = identities.find((i) => i.id === identityId) ?? identities[0];
  const [to, setTo] = useState(initial.to);
  const [cc, setCc] = useState(initial.cc);
  const [subject, setSubject] = useState(initial.subject);
  // A continued draft already holds its signature.
  const signature = identity?.textSignature && !initial.draftId ? `\n\n-- \n${identity.textSignature}` : '';
  const [body, setBody] = useState(() => initial.body + signature);
  const [html, setHtml] = useState<string | null>(() =>
    initial.html === null ? null : initial.html + (signature ? textAsHtml(signature) : ''),
  );
  const [attachments, setAttachments] = useState<Attachment[]>(initial.attachments);
  const [status, setStatus] = useState('');
  const [error, setError] = useState('');
  const draftId = useRef<string | null>(initial.draftId);
  const saving = useRef<Promise<void>>(Promise.resolve());
  const dirty = useRef(false);
  const drafts = mailboxes.find((m) => m.role === 'drafts');
  const sent = mailboxes.find((m) => m.role === 'sent');

  /** The Email/set create object of the message as it stands. */
  const email = (): Record<string, unknown> | string => {
    const toList = parseAddresses(to);
    const ccList = parseAddresses(cc);
    if (!toList) return 'A "To" address is not an e-mail address.';
    if (!ccList) return 'A "Cc" address is not an e-mail address.';
    if (!drafts) return 'There is no Drafts mailbox.';
    if (attachments.some((a) => !a.blobId)) return 'Attachments are still uploading.';
    return {
      mailboxIds: { [drafts.id]: true },
      keywords: { $draft: true, $seen: true },
      from: identity ? [{ name: identity.name || null, email: identity.email }] : null,
      to: toList,
      cc: ccList,
      subject,
      ...(initial.inReplyTo ? { inReplyTo: initial.inReplyTo } : {}),
      ...(initial.references ? { references: initial.references } : {}),
      textBody: [{ partId: 'text', type: 'text/plain' }],
      ...(html === null
        ? { bodyValues: { text: { value: body } } }
        : {
            htmlBody: [{ partId: 'html', type: 'text/html' }],
            bodyValues: { text: { value: body }, html: { value: htmlDocument(html) } },
          }),
      attachments: attachments.map((a) => ({
        blobId: a.blobId,
        type: a.type,
        name: a.name,
        disposition: 'attachment',
      })),
    };
  };

  const save = () => {
    saving.current = saving.current.then(async () => {
      const e = email();
      if (typeof e === 'string') return;
      dirty.current = false;
      const previous = draftId.current;
      const r = await jmap.call('Email/set', {
        create: { draft: e },
        ...(previous ? { destroy: [previous] } : {}),
      });
      draftId.current = r['created']?.['draft']?.id ?? previous;
      setStatus(`Draft saved at ${new Date().toLocaleTimeString()}`);
    });
    return saving.current;
  };

  // Saved a moment after each change.
  useEffect(() => {
    if (!dirty.current) return;
    const t = setTimeout(
      () => void save().catch(() => setStatus('The draft could not be saved.')),
      AUTOSAVE_MS,
    );
    return () => clearTimeout(t);
  }, [to, cc, subject, body, html, attachments]);
  const edit =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      dirty.current = true;
      set(v);
    };

  const send = async (ev: Event) => {
    ev.preventDefault();
    setError('');
    await saving.current.catch(() => undefined);
    const e = email();
    if (typeof e === 'string') return setError(e);
    if ((e['to'] as Address[]).length + (e['cc'] as Address[]).length === 0)
      return setError('Add at least one recipient.');
    if (!identity) return setError('This account has no identity to send from.');
    setStatus('Sending…');
    const previous = draftId.current;
    const onSuccess: Record<string, unknown> = { 'keywords/$draft': null };
    if (sent && drafts) {
      onSuccess[`mailboxIds/${drafts.id}`] = null;
      onSuccess[`mailboxIds/${sent.id}`] = true;
    }
    try {
      const r = await jmap.request([
        [
          'Email/set',
          { accountId: jmap.accountId, create: { m: e }, ...(previous ? { destroy: [previous] } : {}) },
          'e',
        ],
        [
          'EmailSubmission/set',
          {
            accountId: jmap.accountId,
            create: { s: { identityId: identity.id, emailId: '#m' } },
            onSuccessUpdateEmail: { '#s': onSuccess },
          },
          's',
        ],
      ]);
      const failure = r.get('e')?.['notCreated']?.['m'] ?? r.get('s')?.['notCreated']?.['s'];
      if (failure) {
        setStatus('');
        return setError(`Not sent: ${failure.description ?? failure.type}`);
      }
      onClose('Message sent.');
    } catch (err) {
      setStatus('');
      setError(`Not sent: ${(err as Error).message}`);
    }
  };

  const attach = (files: FileList | null) => {
    for (const file of Array.from(files ?? [])) {
      const key = `${Date.now()}-${Math.random()}`;
      const item: Attachment = {
        key,
        blobId: null,
        name: file.name,
        type: file.type || 'application/octet-stream',
        size: file.size,
        progress: 0,
      };
      const update = (change: Partial<Attachment>) =>
        setAttachments((list) => list.map((a) => (a.key === key ? { ...a, ...change } : a)));
      setAttachments((list) => [...list, item]);
      jmap
        .upload(file, (progress) => update({ progress }))
        .then(
          (r) => edit(update)({ blobId: r.blobId, progress: 1 }),
          (err: Error) => update({ error: err.message }),
        );
    }
  };

  // Focus starts in the first empty field: the recipients of a new message, the text of a reply.
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    const fields = form.current?.querySelectorAll<HTMLElement>('input[name=to], textarea, .rich');
    const first = [...(fields ?? [])].find((f) => !(f instanceof HTMLInputElement) || f.value === '');
    first?.focus();
    if (first instanceof HTMLTextAreaElement) first.setSelectionRange(0, 0);
  }, []);

  /** Closes the form; what was typed since the last save is saved first. */
  const close = async () => {
    if (dirty.current) await save().catch(() => undefined);
    else await saving.current.catch(() => undefined);
    onClose(draftId.current ? 'Draft saved.' : undefined);
  };

  const discard = async () => {
    await saving.current.catch(() => undefined);
    if (draftId.current) await jmap.call('Email/set', { destroy: [draftId.current] }).catch(() => undefined);
    onClose('Draft discarded.');
  };

  return (
    <div class="compose" role="dialog" aria-modal="true" aria-labelledby="compose-title">
      <form ref={form} onSubmit={send} onKeyDown={(e) => e.key === 'Escape' && void close()}>
        <h2 id="compose-title">{subject || 'New message'}</h2>
        {identities.length > 1 && (
          <div class="field">
            <label for="field-from">From</label>
            <select id="field-from" value={identityId} onChange={(e) => setIdentityId(e.currentTarget.value)}>
              {identities.map((i) => (
                <option key={i.id} value={i.id}>
                  {addressText([{ name: i.name || null, email: i.email }])}
                </option>
              ))}
            </select>
          </div>
        )}
        <AddressField label="To" value={to} onInput={edit(setTo)} known={known} />
        <AddressField label="Cc" value={cc} onInput={edit(setCc)} known={known} />
        <div class="field">
          <label for="field-subject">Subject</label>
          <input
            id="field-subject"
            name="subject"
            value={subject}
            onInput={(e) => edit(setSubject)(e.currentTarget.value)}
          />
        </div>
        {html === null ? (
          <>
            <label class="sr-only" for="field-body">
              Message
            </label>
            <textarea
              id="field-body"
              name="body"
              value={body}
              onInput={(e) => edit(setBody)(e.currentTarget.value)}
            />
          </>
        ) : (
          <RichEditor
            initial={html}
            onChange={(h, text) => {
              dirty.current = true;
              setHtml(h);
              setBody(text);
            }}
            onFiles={attach}
          />
        )}
        <ul class="attachments" aria-label="Attachments">
          {attachments.map((a) => (
            <li key={a.key}>
              {a.name}{' '}
              {a.error ? (
                <span class="error">{a.error}</span>
              ) : a.blobId ? (
                <span class="muted">({Math.max(1, Math.round(a.size / 1024))} KB)</span>
              ) : (
                <progress max={1} value={a.progress} aria-label={`Uploading ${a.name}`} />
              )}
              <button
                type="button"
                aria-label={`Remove ${a.name}`}
                onClick={() => edit(setAttachments)(attachments.filter((x) => x.key !== a.key))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="compose-actions">
          <button type="submit" class="primary">
            Send
          </button>
          <button
            type="button"
            aria-pressed={html !== null}
            title={html === null ? 'Write with formatting' : 'Write plain text (formatting is dropped)'}
            onClick={() => {
              dirty.current = true;
              setHtml(html === null ? textAsHtml(body) : null);
            }}
          >
            Formatting
          </button>
          <label class="button">
            Attach files
            <input type="file" multiple class="sr-only" onChange={(e) => attach(e.currentTarget.files)} />
          </label>
          <button type="button" onClick={() => void close()}>
            Close
          </button>
          <button type="button" onClick={discard}>
            Discard
          </button>
          <span class="muted" role="status">
            {status}
          </span>
        </div>
      </form>
    </div>
  );
}
