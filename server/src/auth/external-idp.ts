/**
 * Access tokens from an external identity provider, e.g. NHS CIS2
 * Authentication (STANDARDS.md §5.6): a JWT from the configured issuer,
 * signed by a key of its JWKS (fetched from the configured URL, cached and
 * refetched when a new key id appears), for the configured audience, not
 * expired. The user's selected role (CIS2 `selected_roleid`, an SDS role
 * profile id) names a PractitionerRole by identifier, at the organisation
 * the token says the role is at (`nhsid_nrbac_roles` org_code = the
 * Organization's ODS code); that role, its practitioner and its organisation
 * are who the caller acts as, so the
 * legitimate-relationship rules apply as to Hearth's own users. A new role
 * selection is a new token: access follows the role the token names. The
 * role is looked up again at least every minute and at once after a write
 * that may change it (a PractitionerRole or Organization: the access-change
 * notification, auth/access-cache.ts), so an ended or removed role stops
 * working although the token has not expired. The token's SMART resource
 * scopes are capped by the configured ceiling; a token without any (CIS2
 * scopes are about identity) gets the ceiling. The token's `typ`, when it has
 * one, must be that of an access token (JWT, or at+jwt: RFC 9068).
 */
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Resource } from '@medplum/fhirtypes';
import { localKey } from '../fhir/reference.ts';
import { readCurrent, type Queryable } from '../store/resources.ts';
import type { AccessClaims } from './authorization-server.ts';
import { ExpiringCache } from './expiring-cache.ts';
import { capScopes, parseScope } from './scopes.ts';
import { VerifiedTokens } from './verified-tokens.ts';

export interface ExternalIdpConfig {
  issuer: string;
  jwksUrl: string;
  /** The `aud` the provider puts in tokens for Hearth (CIS2: the client id Hearth is registered with). */
  audience: string;
  /** The claim naming the selected role (CIS2: selected_roleid). */
  roleClaim: string;
  /** The identifier system of PractitionerRoles the claim's value is found under (SDS role profile id). */
  roleSystem: string;
  /** The ceiling of a token's SMART resource scopes, and the scopes of a token without any. */
  scopeCeiling: string;
}

/** Asymmetric signatures only: never `none`, never a shared secret. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const CLOCK_TOLERANCE_SECONDS = 30;
const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
/** Token types (JOSE `typ`, lower case, without `application/`) of access tokens; none at all is accepted too. */
const ACCESS_TOKEN_TYPES = new Set(['jwt', 'at+jwt']);
/** How long a role looked up is trusted without a change being notified. */
const ROLE_TTL_MS = 60_000;

/** The role a token names and the organisation (ODS code) it says the role is at. */
interface RoleClaim {
  roleId: string;
  orgCode: string;
}

interface Role {
  id: string;
  practitioner?: string;
  organization?: string;
}

/** A verified token's claims, before its role is looked up. */
type VerifiedClaims = Omit<AccessClaims, 'identity'> & RoleClaim;

/** A token refused for a reason worth telling the caller (401 OperationOutcome diagnostics). */
export class TokenRejected extends Error {}

export class ExternalIdentityProvider {
  private readonly keys: JWTVerifyGetKey;
  /** Signatures and claims, until the token expires. */
  private readonly verified = new VerifiedTokens<VerifiedClaims>();
  /** Roles by role id and organisation: a minute at most, and forgotten when access may have changed. */
  private readonly roles = new ExpiringCache<Role>(ROLE_TTL_MS);

  constructor(
    private readonly config: ExternalIdpConfig,
    private readonly db: Queryable,
  ) {
    this.keys = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 });
  }

  /** Whether the token claims to come from this provider (unverified: only to choose who verifies it). */
  issued(token: string): boolean {
    try {
      return decodeJwt(token).iss === this.config.issuer;
    } catch {
      return false;
    }
  }

  /** The token's claims, acting as the role it names (looked up again when it may have changed). */
  async verify(token: string): Promise<AccessClaims> {
    const { roleId, orgCode, ...claims } = await this.verified.claims(token, (t) => this.verifyUncached(t));
    const role = await this.roles.get(`${roleId}|${orgCode}`, () => this.findRole(roleId, orgCode));
    return {
      ...claims,
      identity: {
        kind: 'user',
        clientId: claims.clientId,
        practitionerRole: `PractitionerRole/${role.id}`,
        practitioner: role.practitioner,
        organization: role.organization,
        allPatients: false,
      },
    };
  }

  /** Forgets the roles looked up: something that places a role may have changed. */
  forgetRoles(): void {
    this.roles.clear();
  }

  private async verifyUncached(token: string): Promise<VerifiedClaims> {
    const { payload, protectedHeader } = await jwtVerify(token, this.keys, {
      issuer: this.config.issuer,
      audience: this.config.audience,
      algorithms: ALGORITHMS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp', 'sub'],
    });
    // RFC 7515 §4.1.9: compared without case, `application/` may be left out.
    const type = protectedHeader.typ?.toLowerCase().replace(/^application\//, '');
    if (type !== undefined && !ACCESS_TOKEN_TYPES.has(type)) {
      throw new TokenRejected(`The token's type (typ "${protectedHeader.typ}") is not that of an access token`);
    }
    const roleId = payload[this.config.roleClaim];
    if (typeof roleId !== 'string' || !roleId) {
      throw new TokenRejected(
        `The token names no selected role (${this.config.roleClaim}): sign in again and choose a role`,
      );
    }
    const orgCode = (Array.isArray(payload.nhsid_nrbac_roles) ? payload.nhsid_nrbac_roles : []).find(
      (r: { person_roleid?: unknown }) => r?.person_roleid === roleId,
    )?.org_code;
    if (typeof orgCode !== 'string' || !orgCode) {
      throw new TokenRejected(
        `The token does not say which organisation the selected role ${roleId} is at (nhsid_nrbac_roles)`,
      );
    }
    const resourceScopes = (typeof payload.scope === 'string' ? payload.scope : '')
      .split(/\s+/)
      .filter((s) => parseScope(s) !== undefined);
    const clientId =
      typeof payload.azp === 'string'
        ? payload.azp
        : typeof payload.client_id === 'string'
          ? payload.client_id
          : this.config.issuer;
    const ceiling = this.config.scopeCeiling;
    return {
      clientId,
      // Never more than the ceiling (an empty cap grants nothing; it does not fall back to the ceiling).
      scope: resourceScopes.length ? capScopes(resourceScopes, ceiling).join(' ') : ceiling,
      subject: payload.sub!,
      expiresAt: payload.exp!,
      roleId,
      orgCode,
    };
  }

  /**
   * The one active PractitionerRole with the role profile id, whose
   * organisation is the one the identity provider says the role is at (CIS2
   * `nhsid_nrbac_roles`: the entry with this `person_roleid` names its
   * `org_code`, the Organization's ODS code). Hearth's data alone is not
   * trusted to place a role in an organisation: a PractitionerRole written to
   * claim another organisation's role id does not move anyone there; two
   * active roles with one id are refused, not guessed between.
   */
  private async findRole(roleId: string, orgCode: string): Promise<Role> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT id FROM sp_token WHERE resource_type = 'PractitionerRole' AND code = 'identifier'
         AND system = $1 AND value = $2`,
      [this.config.roleSystem, roleId],
    );
    const now = Date.now();
    const found: Role[] = [];
    for (const { id } of rows) {
      const stored = await readCurrent(this.db, 'PractitionerRole', id);
      if (!stored?.content) continue;
      const role = JSON.parse(stored.content) as Resource & {
        active?: boolean;
        period?: { start?: string; end?: string };
        practitioner?: { reference?: string };
        organization?: { reference?: string };
      };
      if (role.active === false) continue;
      if (role.period?.end && Date.parse(role.period.end) < now) continue;
      if (role.period?.start && Date.parse(role.period.start) > now) continue;
      const organization = localKey(role.organization?.reference);
      if (!organization || !(await this.hasOdsCode(organization, orgCode))) continue;
      found.push({ id, practitioner: localKey(role.practitioner?.reference), organization });
    }
    if (found.length > 1) {
      throw new TokenRejected(
        `The selected role ${roleId} matches several PractitionerRoles in Hearth; ask an administrator`,
      );
    }
    if (!found.length) {
      throw new TokenRejected(`The selected role ${roleId} is not an active PractitionerRole at ${orgCode} in Hearth`);
    }
    return found[0];
  }

  /** Whether the Organization carries the ODS code. */
  private async hasOdsCode(organization: string, odsCode: string): Promise<boolean> {
    const [, id] = organization.split('/');
    const { rows } = await this.db.query(
      `SELECT 1 FROM sp_token WHERE resource_type = 'Organization' AND id = $1 AND code = 'identifier'
         AND system = $2 AND value = $3`,
      [id, ODS_SYSTEM, odsCode],
    );
    return rows.length > 0;
  }
}
