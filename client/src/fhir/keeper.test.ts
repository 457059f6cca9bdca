import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ENDED, REFRESH_MARGIN_MS, SessionKeeper } from './keeper.ts';
import { FhirClient } from './client.ts';
import { loadSession, type Session } from './session.ts';

const ENDPOINT = 'https://h.example/auth/token';
const T0 = 1_000_000;

function session(over: Partial<Session> = {}): Session {
  return {
    accessToken: 'a1',
    refreshToken: 'r1',
    tokenEndpoint: ENDPOINT,
    expiresAt: T0 + 300_000,
    scope: 'user/*.cruds online_access',
    practitioner: 'Practitioner/p1',
    practitionerRole: 'PractitionerRole/r1',
    organization: 'Organization/o1',
    ...over,
  };
}

const json = (body: object, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

function tokenAnswer(n: number) {
  return json({
    access_token: `a${n}`,
    refresh_token: `r${n}`,
    expires_in: 300,
    scope: 'user/*.cruds online_access',
    fhirUser: 'Practitioner/p1',
    hearth_practitioner_role: 'PractitionerRole/r1',
    hearth_organization: 'Organization/o1',
  });
}

const calls = (fetch: ReturnType<typeof vi.fn>) => fetch.mock.calls as unknown as [string, RequestInit][];

/** The refresh requests sent to the token endpoint, as form fields. */
function refreshes(fetch: ReturnType<typeof vi.fn>): Record<string, string>[] {
  return calls(fetch)
    .filter(([url]) => url === ENDPOINT)
    .map(([, init]) => Object.fromEntries(new URLSearchParams(String(init.body))));
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
  sessionStorage.clear();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('the session keeper', () => {
  it('refreshes shortly before the access token ends and replaces both tokens with the answer’s', async () => {
    const fetch = vi.fn(async () => tokenAnswer(2));
    vi.stubGlobal('fetch', fetch);
    const keeper = new SessionKeeper(session(), vi.fn());
    await vi.advanceTimersByTimeAsync(300_000 - REFRESH_MARGIN_MS - 1);
    expect(fetch).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(refreshes(fetch)).toEqual([{ grant_type: 'refresh_token', refresh_token: 'r1', client_id: 'hearth-web' }]);
    const init = calls(fetch)[0]![1];
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/x-www-form-urlencoded');
    expect(keeper.token()).toBe('a2');
    expect(keeper.session).toMatchObject({ accessToken: 'a2', refreshToken: 'r2', expiresAt: Date.now() + 300_000 });
    expect(loadSession()).toMatchObject({ accessToken: 'a2', refreshToken: 'r2' }); // what a reload finds
    // The next refresh is timed from the new token and sends the new refresh token.
    fetch.mockImplementation(async () => tokenAnswer(3));
    await vi.advanceTimersByTimeAsync(300_000 - REFRESH_MARGIN_MS);
    expect(refreshes(fetch).map((f) => f.refresh_token)).toEqual(['r1', 'r2']);
    expect(keeper.token()).toBe('a3');
    keeper.stop();
  });

  it('refreshes at once when loaded with an access token that has ended', async () => {
    const fetch = vi.fn(async () => tokenAnswer(2));
    vi.stubGlobal('fetch', fetch);
    const keeper = new SessionKeeper(session({ expiresAt: T0 - 1 }), vi.fn());
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshes(fetch)).toHaveLength(1);
    expect(keeper.token()).toBe('a2');
    keeper.stop();
  });

  it('sends one refresh for all callers at once (single flight), never the same refresh token twice', async () => {
    let answer!: (r: Response) => void;
    const fetch = vi.fn(() => new Promise<Response>((resolve) => (answer = resolve)));
    vi.stubGlobal('fetch', fetch);
    const keeper = new SessionKeeper(session(), vi.fn());
    const three = [keeper.renew('a1'), keeper.renew('a1'), keeper.refresh()];
    await vi.advanceTimersByTimeAsync(300_000 - REFRESH_MARGIN_MS); // the timer joins the same flight
    expect(fetch).toHaveBeenCalledOnce();
    answer(tokenAnswer(2));
    expect(await Promise.all(three)).toEqual(['a2', 'a2', 'a2']);
    // A request that failed with the old token after the refresh gets the new one without another refresh.
    expect(await keeper.renew('a1')).toBe('a2');
    expect(fetch).toHaveBeenCalledOnce();
    keeper.stop();
  });

  it('ends the session on invalid_grant, with a message, and sends nothing more', async () => {
    const fetch = vi.fn(async () => json({ error: 'invalid_grant', error_description: 'reuse' }, 400));
    vi.stubGlobal('fetch', fetch);
    const onEnd = vi.fn();
    const keeper = new SessionKeeper(session(), onEnd);
    expect(await keeper.renew('a1')).toBeUndefined();
    expect(onEnd).toHaveBeenCalledExactlyOnceWith(ENDED.revoked);
    expect(await keeper.renew('a1')).toBeUndefined();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(fetch).toHaveBeenCalledOnce();
    expect(onEnd).toHaveBeenCalledOnce();
  });

  it('does not send a refresh token again after a lost answer; the session ends with the access token', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('network');
    });
    vi.stubGlobal('fetch', fetch);
    const onEnd = vi.fn();
    const keeper = new SessionKeeper(session(), onEnd);
    await vi.advanceTimersByTimeAsync(300_000 - REFRESH_MARGIN_MS);
    expect(fetch).toHaveBeenCalledOnce();
    expect(keeper.session.refreshToken).toBeUndefined();
    expect(loadSession()?.refreshToken).toBeUndefined();
    expect(keeper.token()).toBe('a1'); // still good until it ends
    expect(await keeper.renew('a1')).toBeUndefined();
    expect(onEnd).toHaveBeenCalledExactlyOnceWith(ENDED.failed);
    expect(fetch).toHaveBeenCalledOnce();
  });

  it('without a refresh token, ends the session when the access token ends', async () => {
    vi.stubGlobal('fetch', vi.fn());
    const onEnd = vi.fn();
    new SessionKeeper(session({ refreshToken: undefined }), onEnd);
    await vi.advanceTimersByTimeAsync(299_999);
    expect(onEnd).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(onEnd).toHaveBeenCalledExactlyOnceWith(ENDED.expired);
  });
});

describe('the FHIR client with the keeper', () => {
  it('refreshes once on a 401 and retries with the new token', async () => {
    const fetch = vi.fn(async (url: string, init: RequestInit) => {
      if (url === ENDPOINT) return tokenAnswer(2);
      const auth = (init.headers as Record<string, string>).Authorization;
      return auth === 'Bearer a2' ? json({ resourceType: 'Patient', id: 'p1' }) : json({}, 401);
    });
    vi.stubGlobal('fetch', fetch);
    const onUnauthorized = vi.fn();
    const keeper = new SessionKeeper(session(), vi.fn());
    const client = new FhirClient(keeper, onUnauthorized);
    const [one, two] = await Promise.all([client.read('Patient', 'p1'), client.read('Patient', 'p1')]);
    expect([one.body.id, two.body.id]).toEqual(['p1', 'p1']);
    expect(refreshes(fetch)).toHaveLength(1);
    expect(onUnauthorized).not.toHaveBeenCalled();
    keeper.stop();
  });

  it('ends the session when the retry is refused too, without a second refresh', async () => {
    const fetch = vi.fn(async (url: string) => (url === ENDPOINT ? tokenAnswer(2) : json({}, 401)));
    vi.stubGlobal('fetch', fetch);
    const onUnauthorized = vi.fn();
    const keeper = new SessionKeeper(session(), vi.fn());
    await expect(new FhirClient(keeper, onUnauthorized).read('Patient', 'p1')).rejects.toMatchObject({ status: 401 });
    expect(refreshes(fetch)).toHaveLength(1);
    expect(fetch).toHaveBeenCalledTimes(3);
    expect(onUnauthorized).toHaveBeenCalledOnce();
    keeper.stop();
  });
});
