/**
 * Hash routes (`#/person/<id>`): the server serves one page at `/` (the registered redirect URI) and the
 * route stays in the browser. Routes carry FHIR logical ids only, never names or NHS numbers.
 */
import { useEffect, useState } from 'react';

export type Route =
  | { screen: 'inbox' }
  | { screen: 'caseload' }
  | { screen: 'person'; id: string }
  | { screen: 'tasks'; view: 'mine' | 'team' }
  | { screen: 'mdt' }
  | { screen: 'population' }
  | { screen: 'not-found' };

export function parseRoute(hash: string): Route {
  const [screen, arg] = hash.replace(/^#\/?/, '').split('/');
  switch (screen) {
    case '':
    case 'inbox':
      return { screen: 'inbox' };
    case 'caseload':
      return { screen: 'caseload' };
    case 'person':
      return arg && /^[A-Za-z0-9\-.]{1,64}$/.test(arg) ? { screen: 'person', id: arg } : { screen: 'not-found' };
    case 'tasks':
      return { screen: 'tasks', view: arg === 'team' ? 'team' : 'mine' };
    case 'mdt':
      return { screen: 'mdt' };
    case 'population':
      return { screen: 'population' };
    default:
      return { screen: 'not-found' };
  }
}

export function href(route: Route): string {
  switch (route.screen) {
    case 'person':
      return `#/person/${route.id}`;
    case 'tasks':
      return `#/tasks/${route.view}`;
    default:
      return `#/${route.screen}`;
  }
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return parseRoute(hash);
}
