/**
 * Verified access tokens' claims, remembered until the token expires: a
 * signature check per request costs more than the read it guards. Used for
 * Hearth's own tokens and those of an external identity provider.
 */
import type { AccessClaims } from './authorization-server.ts';

const MAX_VERIFIED = 50_000;

export class VerifiedTokens<C extends Pick<AccessClaims, 'expiresAt'> = AccessClaims> {
  private readonly known = new Map<string, C>();

  /** The token's claims, from `verify` unless known and not yet expired; throws what `verify` throws. */
  async claims(token: string, verify: (token: string) => Promise<C>): Promise<C> {
    const known = this.known.get(token);
    if (known && known.expiresAt * 1000 > Date.now()) return known;
    const claims = await verify(token);
    if (this.known.size >= MAX_VERIFIED) this.known.clear();
    this.known.set(token, claims);
    return claims;
  }
}
