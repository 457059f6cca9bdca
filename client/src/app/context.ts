/** What every screen needs: the FHIR client of this session, the session, and the user's workspace. */
import { createContext, useContext } from 'react';
import type { FhirClient } from '../fhir/client.ts';
import type { Session } from '../fhir/session.ts';
import type { Workspace } from '../fhir/workspace.ts';

export interface AppContext {
  client: FhirClient;
  session: Session;
  workspace: Workspace;
  chooseTeam: (id: string) => void;
}

export const Context = createContext<AppContext | undefined>(undefined);

export function useApp(): AppContext {
  const app = useContext(Context);
  if (!app) throw new Error('useApp outside the signed-in app');
  return app;
}
