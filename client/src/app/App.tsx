/**
 * The app: signs the user in (SMART, authorization code + PKCE), loads their workspace and shows the screen
 * of the current route inside the shell. The session ends when the token does (5 minutes, no refresh token at
 * Hearth): the user signs in again and comes back to the same screen.
 */
import { useEffect, useMemo, useState } from 'react';
import { FhirClient } from '../fhir/client.ts';
import { clearSession, loadSession, type Session } from '../fhir/session.ts';
import { completeSignIn, startSignIn } from '../fhir/smart.ts';
import { useAsync } from '../fhir/use-async.ts';
import { loadWorkspace } from '../fhir/workspace.ts';
import { Async, ErrorMessage, Loading } from '../components/Status.tsx';
import { Context } from './context.ts';
import { Shell } from './Shell.tsx';

const TEAM_KEY = 'hearth.team';

export function App() {
  const [session, setSession] = useState<Session | undefined>();
  const [phase, setPhase] = useState<'starting' | 'signed-out' | 'expired' | 'signed-in'>('starting');
  const [error, setError] = useState<string>();

  useEffect(() => {
    completeSignIn()
      .then((done) => {
        const s = done?.session ?? loadSession();
        setSession(s);
        setPhase(s ? 'signed-in' : 'signed-out');
      })
      .catch((e: Error) => {
        setError(e.message);
        setPhase('signed-out');
      });
  }, []);

  useEffect(() => {
    if (!session) return;
    const timer = setTimeout(() => setPhase('expired'), Math.max(0, session.expiresAt - Date.now()));
    return () => clearTimeout(timer);
  }, [session]);

  const signIn = () => startSignIn(location.hash).catch((e: Error) => setError(e.message));
  const signOut = () => {
    clearSession();
    sessionStorage.removeItem(TEAM_KEY);
    setSession(undefined);
    setPhase('signed-out');
    history.replaceState(null, '', '/');
  };

  if (phase === 'starting') return <Loading label="Signing in…" />;
  if (phase !== 'signed-in' || !session) {
    return (
      <main className="sign-in" id="main">
        <h1>Hearth</h1>
        <p>The neighbourhood team&rsquo;s workspace.</p>
        {phase === 'expired' && <p role="alert">Your session has ended. Sign in again to carry on.</p>}
        {error && <ErrorMessage message={error} />}
        <button type="button" className="primary" onClick={signIn}>
          Sign in
        </button>
      </main>
    );
  }
  return <SignedIn session={session} onSignOut={signOut} onExpired={() => setPhase('expired')} />;
}

function SignedIn({
  session,
  onSignOut,
  onExpired,
}: {
  session: Session;
  onSignOut: () => void;
  onExpired: () => void;
}) {
  const client = useMemo(() => new FhirClient(session.accessToken, onExpired), [session, onExpired]);
  const [teamId, setTeamId] = useState(() => sessionStorage.getItem(TEAM_KEY) ?? undefined);
  const workspace = useAsync(() => loadWorkspace(client, session, teamId), [client, session, teamId]);
  const chooseTeam = (id: string) => {
    sessionStorage.setItem(TEAM_KEY, id);
    setTeamId(id);
  };
  return (
    <Async state={workspace} label="Loading your workspace…">
      {(ws) => (
        <Context.Provider value={{ client, session, workspace: ws, chooseTeam }}>
          <Shell onSignOut={onSignOut} />
        </Context.Provider>
      )}
    </Async>
  );
}
