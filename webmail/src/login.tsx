import { useState } from 'preact/hooks';
import { ApiError, type Session, signIn } from './api.ts';
import { Field } from './field.tsx';

const MESSAGES: Record<string, string> = {
  throttled: 'Too many failed sign-ins. Wait a minute and try again.',
  'second-factor': 'Enter the code from your authenticator app (or a recovery code).',
};

/** The sign-in form: user name and password, then a TOTP code when the account has one. */
export function Login({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [needCode, setNeedCode] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      onSignedIn(await signIn(username, password, needCode ? code : undefined));
    } catch (err) {
      const codeName = err instanceof ApiError ? err.code : '';
      if (codeName === 'second-factor' && !needCode) setNeedCode(true);
      else
        setError(
          MESSAGES[codeName] && codeName !== 'second-factor'
            ? MESSAGES[codeName]!
            : 'The user name, password or code is wrong.',
        );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Portcullis Mail</h1>
        {!needCode ? (
          <>
            <Field
              label="E-mail address"
              name="username"
              type="email"
              autocomplete="username"
              required
              value={username}
              onValue={setUsername}
            />
            <Field
              label="Password"
              name="password"
              type="password"
              autocomplete="current-password"
              required
              value={password}
              onValue={setPassword}
            />
          </>
        ) : (
          <Field
            label={MESSAGES['second-factor']!}
            name="code"
            inputMode="numeric"
            autocomplete="one-time-code"
            required
            value={code}
            onValue={setCode}
          />
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
