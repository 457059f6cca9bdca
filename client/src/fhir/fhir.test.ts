import { describe, expect, it, vi } from 'vitest';
import { challengeOf } from './pkce.ts';
import { authorizeUrl } from './smart.ts';
import { clearSession, loadSession, saveSession, sessionFromToken } from './session.ts';
import { FhirClient, FhirError, outcomeMessage } from './client.ts';
import { notificationType } from './live.ts';

const jwt = (claims: object) => `e30.${btoa(JSON.stringify(claims)).replace(/=+$/, '')}.sig`;

describe('PKCE', () => {
  it('makes the S256 challenge of RFC 7636 appendix B', async () => {
    expect(await challengeOf('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });
});

describe('the authorization request', () => {
  it('names the public client, the root as redirect URI, the FHIR base as aud, and S256', () => {
    const url = new URL(
      authorizeUrl('https://h.example/auth/authorize', { state: 's1', challenge: 'c1', origin: 'https://h.example' }),
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'hearth-web',
      redirect_uri: 'https://h.example/',
      scope: 'user/*.cruds online_access',
      state: 's1',
      aud: 'https://h.example/fhir',
      code_challenge: 'c1',
      code_challenge_method: 'S256',
    });
  });
});

describe('the session', () => {
  it('reads the tokens and who the user acts as from the token response, not from the access token', () => {
    // The JWT's claims say otherwise: they are not read.
    const token = jwt({ practitioner_role: 'PractitionerRole/other', organization: 'Organization/other' });
    const session = sessionFromToken(
      {
        access_token: token,
        expires_in: 300,
        scope: 'user/*.cruds online_access',
        refresh_token: 'r1',
        fhirUser: 'Practitioner/p1',
        hearth_practitioner_role: 'PractitionerRole/r1',
        hearth_organization: 'Organization/o1',
      },
      'https://h.example/auth/token',
      1_000,
    );
    expect(session).toEqual({
      accessToken: token,
      expiresAt: 301_000,
      scope: 'user/*.cruds online_access',
      refreshToken: 'r1',
      tokenEndpoint: 'https://h.example/auth/token',
      practitioner: 'Practitioner/p1',
      practitionerRole: 'PractitionerRole/r1',
      organization: 'Organization/o1',
    });
  });

  it('is kept in sessionStorage until it expires, and forgotten on sign-out', () => {
    saveSession({ accessToken: 't', expiresAt: 100_000, scope: '' });
    expect(loadSession(sessionStorage, 50_000)?.accessToken).toBe('t');
    expect(loadSession(sessionStorage, 95_000)).toBeUndefined(); // within 10 s of the end
    clearSession();
    expect(loadSession(sessionStorage, 0)).toBeUndefined();
    expect(localStorage.length).toBe(0);
  });

  it('is still loaded after the access token ends while it holds a refresh token', () => {
    saveSession({ accessToken: 't', expiresAt: 100_000, scope: '', refreshToken: 'r', tokenEndpoint: '/auth/token' });
    expect(loadSession(sessionStorage, 200_000)?.refreshToken).toBe('r');
    clearSession();
  });
});

describe('errors', () => {
  it('shows the OperationOutcome diagnostics to the user', () => {
    const outcome = {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'business-rule', diagnostics: 'A reason is needed' }],
    };
    expect(outcomeMessage(outcome, 422)).toBe('A reason is needed');
    expect(outcomeMessage(undefined, 403)).toBe('You are not allowed to do this.');
  });

  it('turns an error answer into a FhirError and a 401 into the end of the session', async () => {
    const onUnauthorized = vi.fn();
    const fetch = vi.fn(
      async () => new Response(JSON.stringify({ resourceType: 'OperationOutcome', issue: [] }), { status: 401 }),
    );
    vi.stubGlobal('fetch', fetch);
    const client = new FhirClient('tok', onUnauthorized);
    await expect(client.read('Patient', 'p1')).rejects.toBeInstanceOf(FhirError);
    expect(onUnauthorized).toHaveBeenCalledOnce();
    expect(fetch).toHaveBeenCalledWith('/fhir/Patient/p1', expect.objectContaining({ method: 'GET' }));
    const headers = (fetch.mock.calls[0] as unknown as [string, RequestInit])[1].headers as Record<string, string>;
    expect(headers.Authorization).toBe('Bearer tok');
    vi.unstubAllGlobals();
  });
});

describe('websocket notifications', () => {
  it('reads the SubscriptionStatus type of a notification bundle', () => {
    const bundle = {
      resourceType: 'Bundle',
      entry: [
        { resource: { resourceType: 'Parameters', parameter: [{ name: 'type', valueCode: 'event-notification' }] } },
      ],
    };
    expect(notificationType(JSON.stringify(bundle))).toBe('event-notification');
    expect(notificationType('ping-ack')).toBeUndefined();
  });
});
