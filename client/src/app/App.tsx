/**
 * The app: signs the user in (SMART, authorization code + PKCE), keeps them signed in with refresh tokens (the
 * session keeper), loads their workspace and shows the screen of the current route inside the shell. When the
 * session ends (the refresh token refused, or none), the user signs in again and comes back to the same screen.
 */
import { useEffect, useMemo, useState } from 'react';
import { FhirClient } from '../fhir/client.ts';
import { ENDED, SessionKeeper } from '../fhir/keeper.ts';
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
  const [keeper, setKeeper] = useState<SessionKeeper>();
  const [phase, setPhase] = useState<'starting' | 'signed-out' | 'expired' | 'signed-in'>('starting');
  const [ended, setEnded] = useState<string>();
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

  // One keeper per sign-in (stopped on the way out, so a refresh token is never sent by two).
  useEffect(() => {
    if (!session) return;
    const k = new SessionKeeper(session, (message) => {
      clearSession();
      setEnded(message);
      setPhase('expired');
    });
    setKeeper(k);
    return () => k.stop();
  }, [session]);

  const signIn = () => startSignIn(location.hash).catch((e: Error) => setError(e.message));
  const signOut = () => {
    keeper?.stop();
    clearSession();
    sessionStorage.removeItem(TEAM_KEY);
    setSession(undefined);
    setPhase('signed-out');
    history.replaceState(null, '', '/');
  };

  if (phase === 'starting') return <Loading label="Signing in…" />;
  if (phase !== 'signed-in' || !session || !keeper) {
    return (
      <main className="sign-in" id="main">
        <h1>Hearth</h1>
        <p>The neighbourhood team&rsquo;s workspace.</p>
        {phase === 'expired' && <p role="alert">{ended ?? ENDED.expired}</p>}
        {error && <ErrorMessage message={error} />}
        <button type="button" className="primary" onClick={signIn}>
          Sign in
        </button>
      </main>
    );
  }
  const onUnauthorized = () => {
    keeper.stop();
    clearSession();
    setEnded((m) => m ?? ENDED.expired);
    setPhase('expired');
  };
  return <SignedIn session={session} keeper={keeper} onSignOut={signOut} onUnauthorized={onUnauthorized} />;
}

function SignedIn({
  session,
  keeper,
  onSignOut,
  onUnauthorized,
}: {
  session: Session;
  keeper: SessionKeeper;
  onSignOut: () => void;
  onUnauthorized: () => void;
}) {
  // Stable across refreshes (the keeper hands out the current token): screens and live views carry on.
  // onUnauthorized is left out of the dependencies on purpose: it only ends this keeper's session.
  const client = useMemo(() => new FhirClient(keeper, onUnauthorized), [keeper]);
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
