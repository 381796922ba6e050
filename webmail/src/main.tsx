import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Jmap, resume, type Session } from './api.ts';
import { Login } from './login.tsx';
import { Mail } from './mail.tsx';
import './style.css';

/** Signed out: the sign-in form; signed in: the mail client. */
function App() {
  const [jmap, setJmap] = useState<{ jmap: Jmap; session: Session } | null | undefined>(undefined);
  const open = async (session: Session | null) => {
    setJmap(session ? { jmap: await Jmap.open(session), session } : null);
  };
  useEffect(() => {
    void resume().then(open);
  }, []);
  if (jmap === undefined) return <p class="loading">Loading…</p>;
  if (jmap === null) return <Login onSignedIn={open} />;
  return <Mail jmap={jmap.jmap} session={jmap.session} onSignedOut={() => setJmap(null)} />;
}

render(<App />, document.getElementById('app')!);
