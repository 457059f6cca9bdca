/** The frame of every screen: skip link, header (who, team, sign out), navigation, and the current screen. */
import { useEffect, useRef } from 'react';
import { useApp } from './context.ts';
import { href, useRoute, type Route } from './router.ts';
import { Inbox } from '../pages/inbox/Inbox.tsx';
import { Caseload } from '../pages/caseload/Caseload.tsx';
import { Person } from '../pages/person/Person.tsx';
import { Tasks } from '../pages/tasks/Tasks.tsx';
import { Mdt } from '../pages/mdt/Mdt.tsx';
import { Population } from '../pages/population/Population.tsx';

const NAV: { route: Route; label: string }[] = [
  { route: { screen: 'inbox' }, label: 'Team inbox' },
  { route: { screen: 'caseload' }, label: 'Caseload' },
  { route: { screen: 'tasks', view: 'mine' }, label: 'Tasks' },
  { route: { screen: 'mdt' }, label: 'MDT' },
  { route: { screen: 'population' }, label: 'Population' },
];

export function Shell({ onSignOut }: { onSignOut: () => void }) {
  const { workspace, chooseTeam } = useApp();
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  // A new screen moves focus to its content, so keyboard and screen reader users start there (not on the first
  // screen: there the skip link comes first).
  useEffect(() => {
    if (first.current) first.current = false;
    else main.current?.focus();
  }, [route.screen, route.screen === 'person' ? route.id : '']);
  return (
    <>
      <a className="skip" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Hearth</span>
        <nav aria-label="Screens">
          <ul>
            {NAV.map((n) => (
              <li key={n.label}>
                <a href={href(n.route)} aria-current={route.screen === n.route.screen ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          {workspace.teams.length > 1 ? (
            <label>
              Team{' '}
              <select value={workspace.team?.id} onChange={(e) => chooseTeam(e.target.value)}>
                {workspace.teams.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name ?? t.id}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <span>{workspace.team?.name ?? 'No team'}</span>
          )}
          <span className="me">{workspace.myName}</span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Screen route={route} />
      </main>
    </>
  );
}

function Screen({ route }: { route: Route }) {
  switch (route.screen) {
    case 'inbox':
      return <Inbox />;
    case 'caseload':
      return <Caseload />;
    case 'person':
      return <Person id={route.id} />;
    case 'tasks':
      return <Tasks view={route.view} />;
    case 'mdt':
      return <Mdt />;
    case 'population':
      return <Population />;
    default:
      return <h1>Not found</h1>;
  }
}
