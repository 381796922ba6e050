import { useEffect, useState } from 'preact/hooks';
import { ApiError, account, type Jmap } from './api.ts';
import type { Identity } from './compose.tsx';
import { Field } from './field.tsx';

type Account = ReturnType<typeof account>;

const problem = (err: unknown): string =>
  err instanceof ApiError
    ? ({
        stale: 'Enter your current password again.',
        'second-factor': 'Enter your authenticator code too.',
        throttled: 'Too many attempts; wait a minute.',
      }[err.code] ?? `Refused: ${err.message}`)
    : String(err);

/** The password field of forms that change credentials (the server asks for it again). */
const CurrentPassword = ({ value, onValue }: { value: string; onValue: (v: string) => void }) => (
  <Field
    label="Current password"
    type="password"
    autocomplete="current-password"
    value={value}
    onValue={onValue}
    required
  />
);

/** A small form that runs an action and says how it went. */
function useAction() {
  const [message, setMessage] = useState('');
  const run = async (action: () => Promise<string>) => {
    try {
      setMessage(await action());
    } catch (err) {
      setMessage(problem(err));
    }
  };
  const view = message ? (
    <p role="status" class="status">
      {message}
    </p>
  ) : null;
  return [run, view] as const;
}

function Password({ api }: { api: Account }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [code, setCode] = useState('');
  const [run, view] = useAction();
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          await api.changePassword(current, next, code || undefined);
          setCurrent('');
          setNext('');
          return 'Password changed. Other sessions stay signed in until you end them below.';
        });
      }}
    >
      <h3>Password</h3>
      <CurrentPassword value={current} onValue={setCurrent} />
      <Field
        label="New password"
        type="password"
        autocomplete="new-password"
        minLength={12}
        value={next}
        onValue={setNext}
        required
      />
      <Field
        label="Authenticator code (if enrolled)"
        inputMode="numeric"
        autocomplete="one-time-code"
        value={code}
        onValue={setCode}
      />
      <button type="submit">Change password</button>
      {view}
    </form>
  );
}

function Totp({ api }: { api: Account }) {
  const [enrolled, setEnrolled] = useState<boolean | null>(null);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [secret, setSecret] = useState<{ secret: string; uri: string } | null>(null);
  const [codes, setCodes] = useState<string[]>([]);
  const [run, view] = useAction();
  useEffect(() => {
    void api.status().then((s) => setEnrolled(!!s.totp?.enrolled));
  }, [api]);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          if (enrolled) {
            await api.removeTotp(password, code);
            setEnrolled(false);
            return 'Two-step sign-in is off.';
          }
          if (!secret) {
            setSecret(await api.beginTotp(password));
            return 'Add this key to your authenticator app, then enter the code it shows.';
          }
          const r = await api.confirmTotp(code);
          setCodes(r.recoveryCodes);
          setEnrolled(true);
          setSecret(null);
          return 'Two-step sign-in is on. Keep the recovery codes somewhere safe.';
        });
      }}
    >
      <h3>Two-step sign-in (TOTP)</h3>
      <p>{enrolled === null ? '…' : enrolled ? 'On.' : 'Off.'}</p>
      {!secret && <CurrentPassword value={password} onValue={setPassword} />}
      {secret && (
        <p>
          Key: <code class="secret">{secret.secret}</code>
          <br />
          <small class="muted">{secret.uri}</small>
        </p>
      )}
      {(secret || enrolled) && (
        <Field
          label="Authenticator code"
          inputMode="numeric"
          autocomplete="one-time-code"
          value={code}
          onValue={setCode}
          required
        />
      )}
      <button type="submit">{enrolled ? 'Turn off' : secret ? 'Confirm' : 'Set up'}</button>
      {codes.length > 0 && (
        <ul class="codes" aria-label="Recovery codes">
          {codes.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ul>
      )}
      {view}
    </form>
  );
}

function AppPasswords({ api }: { api: Account }) {
  const [list, setList] = useState<Awaited<ReturnType<Account['appPasswords']>>['appPasswords']>([]);
  const [label, setLabel] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [scopes, setScopes] = useState<string[]>(['imap', 'smtp']);
  const [created, setCreated] = useState('');
  const [run, view] = useAction();
  const reload = () => void api.appPasswords().then((r) => setList(r.appPasswords));
  useEffect(reload, [api]);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          const r = await api.addAppPassword(password, label, scopes, code || undefined);
          setCreated(r.password);
          setLabel('');
          reload();
          return 'App password created. It is shown only once.';
        });
      }}
    >
      <h3>App passwords</h3>
      <ul>
        {list.map((a) => (
          <li key={a.id}>
            {a.label} <span class="muted">({a.scopes.join(', ')})</span>{' '}
            <button
              type="button"
              onClick={() =>
                void run(async () => {
                  await api.removeAppPassword(a.id);
                  reload();
                  return `“${a.label}” removed.`;
                })
              }
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      <Field label="Label" value={label} maxLength={100} onValue={setLabel} required />
      <fieldset>
        <legend>For</legend>
        {['imap', 'smtp', 'jmap', 'dav'].map((s) => (
          <label key={s} class="inline">
            <input
              type="checkbox"
              checked={scopes.includes(s)}
              onChange={(e) =>
                setScopes(e.currentTarget.checked ? [...scopes, s] : scopes.filter((x) => x !== s))
              }
            />{' '}
            {s.toUpperCase()}
          </label>
        ))}
      </fieldset>
      <CurrentPassword value={password} onValue={setPassword} />
      <Field label="Authenticator code (if enrolled)" inputMode="numeric" value={code} onValue={setCode} />
      <button type="submit">Create</button>
      {created && (
        <p>
          New app password: <code class="secret">{created}</code>
        </p>
      )}
      {view}
    </form>
  );
}

function Sessions({ api }: { api: Account }) {
  const [list, setList] = useState<Awaited<ReturnType<Account['sessions']>>['sessions']>([]);
  const [run, view] = useAction();
  const reload = () => void api.sessions().then((r) => setList(r.sessions));
  useEffect(reload, [api]);
  return (
    <section>
      <h3>Signed-in sessions</h3>
      <ul>
        {list.map((s) => (
          <li key={s.id}>
            {s.userAgent.slice(0, 80) || 'unknown browser'} from {s.remote}, last seen{' '}
            {new Date(s.lastSeenAt).toLocaleString()}
            {s.current ? (
              ' (this one)'
            ) : (
              <button
                type="button"
                onClick={() =>
                  void run(async () => {
                    await api.revokeSession(s.id);
                    reload();
                    return 'Session ended.';
                  })
                }
              >
                End
              </button>
            )}
          </li>
        ))}
      </ul>
      {view}
    </section>
  );
}

function Vacation({ jmap }: { jmap: Jmap }) {
  const [v, setV] = useState<{ isEnabled: boolean; subject: string; textBody: string } | null>(null);
  const [run, view] = useAction();
  useEffect(() => {
    void jmap.call('VacationResponse/get', { ids: ['singleton'] }).then((r) => {
      const s = r['list'][0];
      setV({ isEnabled: !!s?.isEnabled, subject: s?.subject ?? '', textBody: s?.textBody ?? '' });
    });
  }, [jmap]);
  if (!v) return null;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          const r = await jmap.call('VacationResponse/set', { update: { singleton: v } });
          if (r['notUpdated']) throw new Error(r['notUpdated']['singleton']?.description ?? 'not saved');
          return 'Vacation response saved.';
        });
      }}
    >
      <h3>Vacation response</h3>
      <label class="inline">
        <input
          type="checkbox"
          checked={v.isEnabled}
          onChange={(e) => setV({ ...v, isEnabled: e.currentTarget.checked })}
        />{' '}
        Send an automatic reply
      </label>
      <label>
        Subject <input value={v.subject} onInput={(e) => setV({ ...v, subject: e.currentTarget.value })} />
      </label>
      <label>
        Message{' '}
        <textarea value={v.textBody} onInput={(e) => setV({ ...v, textBody: e.currentTarget.value })} />
      </label>
      <button type="submit">Save</button>
      {view}
    </form>
  );
}

function Signature({
  jmap,
  identities,
  onSaved,
}: {
  jmap: Jmap;
  identities: Identity[];
  onSaved: () => void;
}) {
  const identity = identities[0];
  const [text, setText] = useState(identity?.textSignature ?? '');
  const [run, view] = useAction();
  if (!identity) return null;
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          const r = await jmap.call('Identity/set', { update: { [identity.id]: { textSignature: text } } });
          if (r['notUpdated']) throw new Error(r['notUpdated'][identity.id]?.description ?? 'not saved');
          onSaved();
          return 'Signature saved.';
        });
      }}
    >
      <h3>Signature for {identity.email}</h3>
      <label>
        Signature <textarea value={text} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      <button type="submit">Save</button>
      {view}
    </form>
  );
}

/** Account settings: password, TOTP, app passwords, sessions, vacation response, signature. */
export function Settings({
  jmap,
  csrf,
  identities,
  onIdentitiesChanged,
  onClose,
}: {
  jmap: Jmap;
  csrf: string;
  identities: Identity[];
  onIdentitiesChanged: () => void;
  onClose: () => void;
}) {
  const api = useState(() => account(csrf))[0];
  return (
    <section class="settings" aria-labelledby="settings-title">
      <header class="reader-head">
        <button type="button" class="back" onClick={onClose} aria-label="Close settings">
          ←
        </button>
        <h2 id="settings-title">Settings</h2>
      </header>
      <Password api={api} />
      <Totp api={api} />
      <AppPasswords api={api} />
      <Sessions api={api} />
      <Vacation jmap={jmap} />
      <Signature jmap={jmap} identities={identities} onSaved={onIdentitiesChanged} />
    </section>
  );
}
