import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { type ListSource, type Summary, shortDate, shortName, snippetParts } from './model.ts';

/** Height of one row in pixels; every row has it, so the list never measures its rows. */
export const ROW_HEIGHT = 64;
/** Rows drawn beyond the visible ones on each side. */
const OVERSCAN = 8;
/** Rows loaded ahead of those drawn, so that a scroll finds them there. */
const PREFETCH = 60;

function Highlighted({ html, fallback }: { html: string | null | undefined; fallback: string }) {
  if (!html) return <>{fallback}</>;
  return <>{snippetParts(html).map((p, i) => (p.marked ? <mark key={i}>{p.text}</mark> : p.text))}</>;
}

function Row({
  email,
  index,
  active,
  checked,
  sentView,
  onOpen,
  onCheck,
}: {
  email: Summary | undefined;
  index: number;
  active: boolean;
  checked: boolean;
  sentView: boolean;
  onOpen: (index: number) => void;
  onCheck: (id: string, on: boolean) => void;
}) {
  const style = { transform: `translateY(${index * ROW_HEIGHT}px)` };
  if (!email)
    return (
      <div class="row placeholder" style={style} role="option" tabIndex={-1} aria-selected="false">
        <span class="muted">Loading…</span>
      </div>
    );
  const unread = !email.keywords['$seen'];
  const flagged = !!email.keywords['$flagged'];
  return (
    <div
      id={`row-${email.id}`}
      class={`row${unread ? ' unread' : ''}${active ? ' active' : ''}`}
      style={style}
      role="option"
      aria-selected={active}
      tabIndex={-1}
      data-id={email.id}
      onClick={() => onOpen(index)}
      onKeyDown={(e) => e.key === ' ' && onOpen(index)}
    >
      <input
        type="checkbox"
        checked={checked}
        aria-label={`Select message from ${shortName(email.from)}: ${email.subject ?? ''}`}
        onClick={(e) => e.stopPropagation()}
        onChange={(e) => onCheck(email.id, e.currentTarget.checked)}
      />
      <div class="row-main">
        <div class="row-top">
          <span class="from">{sentView ? `To: ${shortName(email.to)}` : shortName(email.from)}</span>
          {flagged && (
            <span class="flag" title="Flagged">
              ★<span class="sr-only"> flagged</span>
            </span>
          )}
          {email.hasAttachment && (
            <span title="Attachments">
              <svg class="icon" viewBox="0 0 16 16" aria-hidden="true">
                <path
                  d="M11 4v6.5a3 3 0 0 1-6 0V3.5a2 2 0 0 1 4 0V10a1 1 0 0 1-2 0V4"
                  fill="none"
                  stroke="currentColor"
                  stroke-width="1.3"
                  stroke-linecap="round"
                />
              </svg>
              <span class="sr-only"> has attachments</span>
            </span>
          )}
          <time dateTime={email.receivedAt}>{shortDate(email.receivedAt)}</time>
        </div>
        <div class="subject">
          {unread && <span class="sr-only">Unread. </span>}
          <Highlighted html={email.snippet?.subject} fallback={email.subject || '(no subject)'} />
        </div>
        <div class="preview">
          <Highlighted html={email.snippet?.preview} fallback={email.preview} />
        </div>
      </div>
    </div>
  );
}

/**
 * The message list: only the rows in view (and a few around them) exist in the page, placed by
 * transform in a container as tall as the whole list; pages of rows are loaded as they come near.
 */
export function MessageList({
  source,
  version,
  active,
  checked,
  sentView,
  onOpen,
  onCheck,
}: {
  source: ListSource;
  version: number;
  active: number;
  checked: Set<string>;
  sentView: boolean;
  onOpen: (index: number) => void;
  onCheck: (id: string, on: boolean) => void;
}) {
  const viewport = useRef<HTMLDivElement>(null);
  const [range, setRange] = useState<[number, number]>([0, 30]);

  const measure = () => {
    const el = viewport.current;
    if (!el) return;
    const first = Math.max(0, Math.floor(el.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.ceil((el.scrollTop + el.clientHeight) / ROW_HEIGHT) + OVERSCAN;
    setRange((r) => (r[0] === first && r[1] === last ? r : [first, last]));
  };

  useLayoutEffect(measure, []);
  useEffect(() => {
    const el = viewport.current;
    if (!el) return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  useEffect(
    () => source.ensure(Math.max(0, range[0] - PREFETCH), range[1] + PREFETCH),
    [source, range, version],
  );

  // The active row is kept in view when it moves by keyboard.
  useEffect(() => {
    const el = viewport.current;
    if (!el || active < 0) return;
    const top = active * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight)
      el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
  }, [active]);

  const total = Math.max(source.total, 0);
  const rows = [];
  for (let i = range[0]; i < Math.min(range[1], total); i++) {
    const email = source.at(i);
    rows.push(
      <Row
        key={email?.id ?? `p${i}`}
        email={email}
        index={i}
        active={i === active}
        checked={!!email && checked.has(email.id)}
        sentView={sentView}
        onOpen={onOpen}
        onCheck={onCheck}
      />,
    );
  }
  const activeId = source.at(active)?.id;
  return (
    <div
      class="list"
      ref={viewport}
      onScroll={measure}
      role="listbox"
      aria-label="Messages"
      aria-activedescendant={activeId ? `row-${activeId}` : undefined}
      tabIndex={0}
    >
      {source.total === 0 && <p class="empty">No messages.</p>}
      <div class="list-inner" style={{ height: `${total * ROW_HEIGHT}px` }}>
        {rows}
      </div>
    </div>
  );
}
