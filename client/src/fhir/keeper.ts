/**
 * Keeps the user signed in with SMART refresh tokens (RFC 6749 §6; docs/security-tokens.md): shortly before
 * the access token ends, and once after a 401, POSTs `grant_type=refresh_token` to the token endpoint and
 * replaces both tokens with the answer's. Hearth rotates refresh tokens and treats a token presented twice as
 * theft (the whole sign-in is revoked), so a refresh token is sent at most once: one refresh in flight, shared
 * by every caller, and the token is forgotten before it is sent. `invalid_grant` (or no way to renew) ends the
 * session.
 */
import { CLIENT_ID } from './smart.ts';
import { saveSession, sessionFromToken, type Session } from './session.ts';

/** Refresh this long before the access token ends. */
export const REFRESH_MARGIN_MS = 30_000;

export const ENDED = {
  revoked:
    'Your sign-in has ended (it ran out, was signed in elsewhere with the same session, or your role changed). Sign in again to carry on.',
  expired: 'Your session has ended. Sign in again to carry on.',
  failed: 'Hearth could not renew your session. Sign in again to carry on.',
};

export class SessionKeeper {
  private current: Session;
  private inFlight: Promise<string | undefined> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ended = false;
  /** What to tell the user when the session ends for want of a refresh token. */
  private endMessage = ENDED.expired;

  constructor(
    session: Session,
    /** Called once when the session can no longer be used, with a message for the user. */
    private readonly onEnd: (message: string) => void,
    private readonly storage: Storage = sessionStorage,
  ) {
    this.current = session;
    this.schedule();
  }

  get session(): Session {
    return this.current;
  }

  /** The access token to send now. */
  token(): string {
    return this.current.accessToken;
  }

  /**
   * After a 401 with `failed`: a newer access token to retry with (refreshing if none has come since), or
   * undefined when the session has ended.
   */
  async renew(failed: string): Promise<string | undefined> {
    if (this.ended) return undefined;
    if (this.current.accessToken !== failed) return this.current.accessToken;
    const token = await this.refresh();
    if (!token) this.end(this.endMessage);
    return token;
  }

  /** One refresh shared by every caller; undefined when it cannot be done. */
  refresh(): Promise<string | undefined> {
    this.inFlight ??= this.exchange().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** Stops the timer (sign-out, or the app going away); nothing more is sent. */
  stop(): void {
    this.ended = true;
    clearTimeout(this.timer);
  }

  private async exchange(): Promise<string | undefined> {
    const { refreshToken, tokenEndpoint } = this.current;
    if (this.ended || !refreshToken || !tokenEndpoint) return undefined;
    // Forget the token before sending it: whatever happens, it is never sent again.
    this.store({ ...this.current, refreshToken: undefined });
    let res: Response;
    try {
      res = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT_ID }),
      });
    } catch {
      this.endMessage = ENDED.failed;
      this.schedule(); // no refresh token left: the session ends with the access token
      return undefined;
    }
    const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (this.ended) return undefined;
    if (!res.ok || typeof answer.access_token !== 'string') {
      if (answer.error === 'invalid_grant') this.end(ENDED.revoked);
      this.endMessage = ENDED.failed;
      this.schedule();
      return undefined;
    }
    const next = sessionFromToken(answer, tokenEndpoint);
    // Who the user acts as does not change on a refresh; keep what sign-in said if the answer leaves it out.
    this.store({
      ...next,
      practitioner: next.practitioner ?? this.current.practitioner,
      practitionerRole: next.practitionerRole ?? this.current.practitionerRole,
      organization: next.organization ?? this.current.organization,
    });
    this.schedule();
    return next.accessToken;
  }

  private store(session: Session): void {
    this.current = session;
    saveSession(session, this.storage);
  }

  /** The next step: a refresh shortly before the access token ends, or the end of the session at its end. */
  private schedule(): void {
    clearTimeout(this.timer);
    if (this.ended) return;
    const { expiresAt, refreshToken } = this.current;
    if (refreshToken) {
      this.timer = setTimeout(() => void this.refresh(), Math.max(0, expiresAt - REFRESH_MARGIN_MS - Date.now()));
    } else {
      this.timer = setTimeout(() => this.end(this.endMessage), Math.max(0, expiresAt - Date.now()));
    }
  }

  private end(message: string): void {
    if (this.ended) return;
    this.stop();
    this.onEnd(message);
  }
}
