import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { account, type Jmap, type Session } from './api.ts';
import { type Attachment, Compose, type Draft, type Identity, quotedHtml } from './compose.tsx';
import { MessageList } from './list.tsx';
import {
  type Address,
  addressText,
  type ListQuery,
  ListSource,
  loadMailboxes,
  type Mailbox,
  mailboxTree,
  type Summary,
} from './model.ts';
import { type FullEmail, Reader } from './reader.tsx';
import { Settings } from './settings.tsx';

const EMPTY_DRAFT: Draft = {
  to: '',
  cc: '',
  subject: '',
  body: '',
  html: null,
  inReplyTo: null,
  references: null,
  attachments: [],
  draftId: null,
};

/** How long a notice (sent, moved, saved) stays on screen. */
const NOTICE_MS = 8000;

/** Keys that act on the list and the open message (the help line shows them). */
const SHORTCUTS =
  'j/k next/previous · o open · r reply · a reply all · f forward · e archive · # delete · ! spam · s flag · x select · / search · c compose';

/** Attachments of a stored message, carried into a new one by blob id. */
const carried = (list: FullEmail['attachments']): Attachment[] =>
  list.map((a) => ({
    key: a.blobId,
    blobId: a.blobId,
    name: a.name ?? 'attachment',
    type: a.type,
    size: a.size,
    progress: 1,
  }));

/** The text of the text/plain parts fetched with their values. */
const textOf = (e: { textBody: { partId: string }[]; bodyValues: Record<string, { value: string }> }) =>
  e.textBody.map((p) => e.bodyValues[p.partId]?.value ?? '').join('\n');

/** The server's sanitized copy of a message written in HTML (fetched with `htmlBody` and
 * `safeBody`), or null for a plain-text one. */
const formattedOf = (e: { htmlBody: { type: string }[]; safeBody?: { html: string } | null }) =>
  e.htmlBody.some((p) => p.type === 'text/html') ? (e.safeBody?.html ?? null) : null;

/** The draft of a reply, reply-all or forward of `e`. */
function replyDraft(
  mode: 'reply' | 'all' | 'forward',
  e: FullEmail & { text: string; html: string | null },
  self: string,
): Draft {
  const subject = e.subject ?? '';
  const date = new Date(e.receivedAt).toLocaleString();
  if (mode === 'forward') {
    const intro = [
      '---------- Forwarded message ----------',
      `From: ${addressText(e.from)}`,
      `Date: ${date}`,
      `Subject: ${subject}`,
      `To: ${addressText(e.to)}`,
    ];
    return {
      ...EMPTY_DRAFT,
      subject: /^fwd?:/i.test(subject) ? subject : `Fwd: ${subject}`,
      body: `\n\n${intro.join('\n')}\n\n${e.text}`,
      html: e.html === null ? null : quotedHtml(intro, e.html, false),
      attachments: carried(e.attachments),
    };
  }
  const notSelf = (list: Address[] | null) =>
    (list ?? []).filter((a) => a.email.toLowerCase() !== self.toLowerCase());
  const to = e.replyTo?.length ? e.replyTo : (e.from ?? []);
  const all = mode === 'all';
  const wrote = `On ${date}, ${addressText(e.from)} wrote:`;
  return {
    ...EMPTY_DRAFT,
    to: addressText(all ? [...to, ...notSelf(e.to)] : to),
    cc: all ? addressText(notSelf(e.cc)) : '',
    subject: /^re:/i.test(subject) ? subject : `Re: ${subject}`,
    body: `\n\n${wrote}\n${e.text
      .split('\n')
      .map((l) => `> ${l}`)
      .join('\n')}`,
    html: e.html === null ? null : quotedHtml([wrote], e.html, true),
    inReplyTo: e.messageId,
    references: [...(e.references ?? []), ...(e.messageId ?? [])],
  };
}

export function Mail({
  jmap,
  session,
  onSignedOut,
}: {
  jmap: Jmap;
  session: Session;
  onSignedOut: () => void;
}) {
  const [mailboxes, setMailboxes] = useState<Mailbox[]>([]);
  const [query, setQuery] = useState<ListQuery | null>(null);
  const [version, setVersion] = useState(0);
  const [active, setActive] = useState(0);
  const [opened, setOpened] = useState<Summary | null>(null);
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const [compose, setCompose] = useState<Draft | null>(null);
  const [settings, setSettings] = useState(false);
  const [identities, setIdentities] = useState<Identity[]>([]);
  const [known, setKnown] = useState<Address[]>([]);
  const [notice, setNotice] = useState('');
  const [navOpen, setNavOpen] = useState(false);
  const [search, setSearch] = useState('');
  const [readerKey, setReaderKey] = useState(0);
  // A notice goes away by itself after a while.
  useEffect(() => {
    if (!notice) return;
    const t = setTimeout(() => setNotice(''), NOTICE_MS);
    return () => clearTimeout(t);
  }, [notice]);
  const searchBox = useRef<HTMLInputElement>(null);

  const source = useMemo(
    () => (query ? new ListSource(jmap, query, () => setVersion((v) => v + 1)) : null),
    [jmap, query],
  );
  const byRole = (role: string) => mailboxes.find((m) => m.role === role);
  const current = mailboxes.find((m) => m.id === query?.mailboxId);

  const reloadMailboxes = useCallback(async () => setMailboxes(await loadMailboxes(jmap)), [jmap]);
  const reloadIdentities = useCallback(async () => {
    const r = await jmap.call('Identity/get', {});
    setIdentities(r['list'] as Identity[]);
  }, [jmap]);

  useEffect(() => {
    void (async () => {
      const boxes = await loadMailboxes(jmap);
      setMailboxes(boxes);
      setQuery({ mailboxId: boxes.find((m) => m.role === 'inbox')?.id ?? boxes[0]?.id ?? null, text: '' });
      await reloadIdentities();
      // Recent correspondents for address completion: who wrote to us and whom we wrote to.
      const sent = boxes.find((m) => m.role === 'sent');
      const r = await jmap.request([
        [
          'Email/query',
          { accountId: jmap.accountId, sort: [{ property: 'receivedAt', isAscending: false }], limit: 200 },
          'q',
        ],
        [
          'Email/get',
          {
            accountId: jmap.accountId,
            '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' },
            properties: ['from', 'to', 'cc', 'mailboxIds'],
          },
          'g',
        ],
      ]);
      const seen = new Map<string, Address>();
      for (const e of r.get('g')!['list'] as {
        from: Address[] | null;
        to: Address[] | null;
        cc: Address[] | null;
        mailboxIds: Record<string, boolean>;
      }[])
        for (const a of sent && e.mailboxIds[sent.id] ? [...(e.to ?? []), ...(e.cc ?? [])] : (e.from ?? []))
          if (!seen.has(a.email.toLowerCase()) && a.email.toLowerCase() !== jmap.username.toLowerCase())
            seen.set(a.email.toLowerCase(), a);
      setKnown([...seen.values()]);
    })();
  }, [jmap]);

  // Live updates: every change to the account reloads the counts and the rows in view.
  useEffect(
    () =>
      jmap.watch(() => {
        void reloadMailboxes();
        source?.refresh();
        setReaderKey((k) => k + 1);
      }),
    [jmap, source],
  );

  const choose = (q: ListQuery) => {
    setQuery(q);
    setActive(0);
    setOpened(null);
    setChecked(new Set());
    setNavOpen(false);
  };

  const openAt = (index: number) => {
    const e = source?.at(index);
    if (!e) return;
    setActive(index);
    if (e.keywords['$draft']) return void continueDraft(e);
    setOpened(e);
    setSettings(false);
    if (!e.keywords['$seen']) source?.patch(e.id, { keywords: { ...e.keywords, $seen: true } });
  };

  /** The messages an action applies to: the checked ones, else the open or active one; with
   * conversations shown as one row, every message of the conversation in this mailbox. */
  const targets = async (): Promise<{ id: string; mailboxIds: Record<string, boolean> }[]> => {
    const rows =
      checked.size > 0
        ? [...checked].map((id) => source?.emails.get(id)).filter((e): e is Summary => !!e)
        : [opened ?? source?.at(active)].filter((e): e is Summary => !!e);
    if (rows.length === 0) return [];
    const r = await jmap.request([
      ['Thread/get', { accountId: jmap.accountId, ids: [...new Set(rows.map((e) => e.threadId))] }, 't'],
      [
        'Email/get',
        {
          accountId: jmap.accountId,
          '#ids': { resultOf: 't', name: 'Thread/get', path: '/list/*/emailIds' },
          properties: ['id', 'mailboxIds'],
        },
        'e',
      ],
    ]);
    const all = r.get('e')!['list'] as { id: string; mailboxIds: Record<string, boolean> }[];
    const inView =
      query?.mailboxId && !query.text
        ? all.filter((e) => e.mailboxIds[query.mailboxId!])
        : all.filter((e) => rows.some((row) => row.id === e.id));
    return inView;
  };

  const update = async (
    label: string,
    patch: (e: { id: string; mailboxIds: Record<string, boolean> }) => Record<string, unknown> | null,
  ) => {
    const list = await targets();
    const updates: Record<string, Record<string, unknown>> = {};
    const destroy: string[] = [];
    for (const e of list) {
      const p = patch(e);
      if (p) updates[e.id] = p;
      else destroy.push(e.id);
    }
    if (list.length === 0) return;
    const r = await jmap.call('Email/set', { update: updates, destroy });
    const failed = Object.keys(r['notUpdated'] ?? {}).length + Object.keys(r['notDestroyed'] ?? {}).length;
    setNotice(
      failed
        ? `${label}: ${failed} message(s) could not be changed.`
        : `${label}: ${list.length} message(s).`,
    );
    setChecked(new Set());
    if (
      opened &&
      list.some((e) => e.id === opened.id) &&
      label !== 'Flag' &&
      label !== 'Unflag' &&
      !label.startsWith('Mark')
    )
      setOpened(null);
    source?.refresh();
  };

  const moveTo = (target: Mailbox | undefined, label: string) => {
    if (!target) return setNotice(`There is no ${label.toLowerCase()} mailbox.`);
    const from = query?.text ? null : query?.mailboxId;
    void update(label, () =>
      from
        ? { [`mailboxIds/${from}`]: null, [`mailboxIds/${target.id}`]: true }
        : { mailboxIds: { [target.id]: true } },
    );
  };
  const archive = () => moveTo(byRole('archive'), 'Archive');
  const spam = () => moveTo(byRole('junk'), 'Junk');
  const remove = () => {
    const trash = byRole('trash');
    if (trash && query?.mailboxId !== trash.id) moveTo(trash, 'Trash');
    else void update('Deleted', () => null);
  };
  const setKeyword = (keyword: string, on: boolean, label: string) =>
    void update(label, () => ({ [`keywords/${keyword}`]: on ? true : null }));
  const toggleFlag = () => {
    const e = opened ?? source?.at(active);
    setKeyword('$flagged', !e?.keywords['$flagged'], e?.keywords['$flagged'] ? 'Unflag' : 'Flag');
  };

  const reply = async (mode: 'reply' | 'all' | 'forward', given?: FullEmail) => {
    const e = given ?? opened ?? source?.at(active);
    if (!e) return;
    const r = await jmap.call('Email/get', {
      ids: [e.id],
      properties: [
        'id',
        'from',
        'to',
        'cc',
        'replyTo',
        'subject',
        'receivedAt',
        'messageId',
        'references',
        'attachments',
        'textBody',
        'htmlBody',
        'bodyValues',
        'safeBody',
      ],
      fetchTextBodyValues: true,
      maxBodyValueBytes: 256 * 1024,
    });
    const full = r['list'][0];
    if (!full) return;
    // An HTML original is answered with its formatting, from the server's sanitized copy.
    setCompose(replyDraft(mode, { ...full, text: textOf(full), html: formattedOf(full) }, jmap.username));
  };

  /** Opens a saved draft in the compose form to go on writing it; formatted text comes back as
   * the server's sanitized copy. */
  const continueDraft = async (e: Summary) => {
    const r = await jmap.call('Email/get', {
      ids: [e.id],
      properties: [
        'id',
        'to',
        'cc',
        'subject',
        'inReplyTo',
        'references',
        'attachments',
        'textBody',
        'htmlBody',
        'bodyValues',
        'safeBody',
      ],
      fetchTextBodyValues: true,
      maxBodyValueBytes: 1024 * 1024,
    });
    const d = r['list'][0];
    if (!d) return;
    setCompose({
      to: addressText(d.to),
      cc: addressText(d.cc),
      subject: d.subject ?? '',
      body: textOf(d),
      html: formattedOf(d),
      inReplyTo: d.inReplyTo,
      references: d.references,
      attachments: carried(d.attachments),
      draftId: d.id,
    });
  };

  // Keyboard shortcuts, except while typing in a field or with the compose form open. The
  // listener stays put and reads the handler of the latest render: one re-added after each
  // render would miss a key pressed between a commit and the effect that follows it (a form just
  // closed would still be seen open).
  const onKeyRef = useRef<(ev: KeyboardEvent) => void>(() => {});
  onKeyRef.current = (ev: KeyboardEvent) => {
    const t = ev.target as HTMLElement;
    if (
      ev.ctrlKey ||
      ev.metaKey ||
      ev.altKey ||
      compose ||
      /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) ||
      t.isContentEditable
    )
      return;
    const total = source?.total ?? 0;
    const actions: Record<string, () => void> = {
      j: () => setActive((a) => Math.min(a + 1, Math.max(total - 1, 0))),
      ArrowDown: () => setActive((a) => Math.min(a + 1, Math.max(total - 1, 0))),
      k: () => setActive((a) => Math.max(a - 1, 0)),
      ArrowUp: () => setActive((a) => Math.max(a - 1, 0)),
      o: () => openAt(active),
      Enter: () => openAt(active),
      r: () => void reply('reply'),
      a: () => void reply('all'),
      f: () => void reply('forward'),
      e: archive,
      '#': remove,
      '!': spam,
      s: toggleFlag,
      x: () => {
        const e = source?.at(active);
        if (e)
          setChecked((c) =>
            c.has(e.id) ? new Set([...c].filter((x) => x !== e.id)) : new Set([...c, e.id]),
          );
      },
      '/': () => searchBox.current?.focus(),
      c: () => setCompose(EMPTY_DRAFT),
      Escape: () => (settings ? setSettings(false) : setOpened(null)),
    };
    const action = actions[ev.key];
    if (!action) return;
    ev.preventDefault();
    action();
  };
  useEffect(() => {
    const onKey = (ev: KeyboardEvent) => onKeyRef.current(ev);
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const signOut = async () => {
    await account(session.csrfToken)
      .signOut()
      .catch(() => undefined);
    onSignedOut();
  };

  const title = query?.text
    ? `Search: ${query.text}`
    : current?.role === 'inbox'
      ? 'Inbox'
      : (current?.name ?? 'Mail');
  return (
    <div class={`shell${opened || settings ? ' reading' : ''}${navOpen ? ' nav-open' : ''}`}>
      <header class="top">
        <button
          type="button"
          class="menu"
          aria-label="Mailboxes"
          aria-expanded={navOpen}
          onClick={() => setNavOpen(!navOpen)}
        >
          ☰
        </button>
        <form
          aria-label="Search"
          class="search"
          onSubmit={(e) => {
            e.preventDefault();
            const text = search.trim();
            choose(text ? { mailboxId: null, text } : { mailboxId: byRole('inbox')?.id ?? null, text: '' });
          }}
        >
          <label class="sr-only" for="search">
            Search mail
          </label>
          <input
            id="search"
            ref={searchBox}
            type="search"
            placeholder="Search mail (/)"
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </form>
        <button type="button" class="primary" onClick={() => setCompose(EMPTY_DRAFT)} title="Compose (c)">
          Compose
        </button>
        <button
          type="button"
          onClick={() => {
            setSettings(true);
            setOpened(null);
          }}
        >
          Settings
        </button>
        <button type="button" onClick={signOut} title={`Signed in as ${session.username}`}>
          Sign out
        </button>
      </header>
      <nav class="mailboxes" aria-label="Mailboxes">
        <ul>
          {mailboxTree(mailboxes).map(({ box, depth }) => (
            <li key={box.id}>
              <button
                type="button"
                class={box.id === query?.mailboxId && !query.text ? 'current' : ''}
                aria-current={box.id === query?.mailboxId && !query.text ? 'page' : undefined}
                style={{ paddingLeft: `${0.75 + depth}rem` }}
                onClick={() => {
                  setSearch('');
                  choose({ mailboxId: box.id, text: '' });
                }}
              >
                <span>{box.role === 'inbox' ? 'Inbox' : box.name}</span>
                {box.unreadEmails > 0 && (
                  <span class="count">
                    {box.unreadEmails}
                    <span class="sr-only"> unread</span>
                  </span>
                )}
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <main class="pane-list" aria-label={title}>
        <div class="toolbar" role="toolbar" aria-label="Message actions">
          <h1>{title}</h1>
          <span class="muted">
            {source && source.total >= 0
              ? `${source.total.toLocaleString()} ${query?.text ? 'found' : 'conversations'}`
              : ''}
          </span>
          <button type="button" onClick={archive} title="Archive (e)">
            Archive
          </button>
          <button type="button" onClick={remove} title="Delete (#)">
            Delete
          </button>
          <button type="button" onClick={spam} title="Spam (!)">
            Spam
          </button>
          <button type="button" onClick={() => setKeyword('$seen', true, 'Mark read')}>
            Read
          </button>
          <button type="button" onClick={() => setKeyword('$seen', false, 'Mark unread')}>
            Unread
          </button>
          <button type="button" onClick={toggleFlag} title="Flag (s)">
            Flag
          </button>
          <label class="sr-only" for="move-to">
            Move to mailbox
          </label>
          <select
            id="move-to"
            class="move"
            value=""
            onChange={(e) => {
              const target = mailboxes.find((m) => m.id === e.currentTarget.value);
              e.currentTarget.value = '';
              if (target) moveTo(target, `Moved to ${target.name}`);
            }}
          >
            <option value="">Move to…</option>
            {mailboxTree(mailboxes).map(({ box, depth }) => (
              <option key={box.id} value={box.id}>
                {'\u00a0'.repeat(depth * 2)}
                {box.role === 'inbox' ? 'Inbox' : box.name}
              </option>
            ))}
          </select>
          {checked.size > 0 && <span class="muted">{checked.size} selected</span>}
        </div>
        {source && (
          <MessageList
            source={source}
            version={version}
            active={active}
            checked={checked}
            sentView={query?.mailboxId === byRole('sent')?.id}
            onOpen={openAt}
            onCheck={(id, on) =>
              setChecked((c) => (on ? new Set([...c, id]) : new Set([...c].filter((x) => x !== id))))
            }
          />
        )}
        <p class="shortcuts muted">{SHORTCUTS}</p>
      </main>
      {settings ? (
        <Settings
          jmap={jmap}
          csrf={session.csrfToken}
          identities={identities}
          onIdentitiesChanged={() => void reloadIdentities()}
          onClose={() => setSettings(false)}
        />
      ) : opened ? (
        <Reader
          key={opened.id}
          jmap={jmap}
          email={opened}
          refreshKey={readerKey}
          onReply={(mode, e) => void reply(mode, e)}
          onClose={() => setOpened(null)}
        />
      ) : (
        <section class="reader empty" aria-label="No message open">
          <p class="muted">Choose a message to read it.</p>
        </section>
      )}
      {compose && (
        <Compose
          jmap={jmap}
          initial={compose}
          identities={identities}
          mailboxes={mailboxes}
          known={known}
          onClose={(status) => {
            setCompose(null);
            if (status) setNotice(status);
          }}
        />
      )}
      <div class="notice" role="status" aria-live="polite">
        {notice}
      </div>
    </div>
  );
}
