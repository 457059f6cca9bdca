/**
 * The per-request face of the access policy (policy.ts): it works out who the
 * caller acts as, loads the relationships the decision needs (once per
 * request), asks `decide`, and remembers which patients the request touched
 * and on what basis (for the audit trail). The Repository holds one for the
 * request and calls it on every read, write, search, include, chain and
 * history entry, so every interaction goes through the same decision.
 */
import type { CareTeam, Organization, Patient, PractitionerRole, Provenance, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/errors.ts';
import { compartmentPatients } from '../search/extract.ts';
import type { AccessFilter } from '../search/access.ts';
import {
  loadMemberships,
  loadOrganizationParties,
  loadRelationships,
  loadResources,
  loadShares,
} from '../store/access.ts';
import type { Queryable } from '../store/resources.ts';
import type { AccessCache, CallerData } from './access-cache.ts';
import {
  decide,
  deniedPatient,
  grantedTargets,
  restrictedVisibility,
  seesResource,
  teamsOf,
  visibility,
  type Caller,
  type Decision,
  type Visibility,
} from './policy.ts';
import type { Relationship } from './relationships.ts';
import { namesType, type ResourceScope } from './scopes.ts';
import { insufficientScope } from './access.ts';
import { isRestricted, minimalPatient, restrictedWriteRefusal, type SeenItem } from './restricted.ts';
import {
  ACTIVITY_SYSTEM,
  hasCoding,
  SENSITIVE_DATA_ACTIVITY,
  sealChangeRefusal,
  sealLevel,
  unsealedUpTo,
  type SealLevel,
} from './sealing.ts';
import { ownerKey } from './ownership.ts';

/** Who the access token says the caller is. */
export interface Identity {
  kind: 'user' | 'system';
  clientId: string;
  organization?: string;
  practitioner?: string;
  practitionerRole?: string;
  /** A system registered for every patient. */
  allPatients: boolean;
  /** A system registered with the sensitive-data activity (a user's comes from their role). */
  sensitiveData?: boolean;
  /**
   * The patient in context (SMART launch/patient): the token is about this
   * patient only; other patients' data is out of its reach whatever the
   * relationships.
   */
  patient?: string;
}

export class Guard {
  private data?: Promise<CallerData>;
  private caller?: Promise<Caller>;
  private visible?: Promise<Visibility>;
  private readonly decided = new Map<string, Decision>();
  /** Patients created by this request: its own later entries may refer to them. */
  private readonly created = new Set<string>();
  /** Patients whose data this request returned or wrote, and those it was refused (the audit trail's). */
  readonly touched = new Set<string>();
  readonly refused = new Set<string>();
  readonly now = Date.now();

  /** A user's stated reason for break-glass access on this request. */
  readonly breakGlass?: string;
  /** The Provenance the client sent with its write (X-Provenance), completed for each version written. */
  private readonly supplied?: Provenance;
  /**
   * The queries a written resource must match, by type and permission (restricted scopes): undefined when a
   * scope allows the write outright, empty when no scope allows it at all.
   */
  readonly writeQueries: (resourceType: string, permission: 'c' | 'u' | 'd') => string[] | undefined;
  /** The token's resource scopes (kept with what the caller leaves running, e.g. a Subscription). */
  readonly scopes: readonly ResourceScope[];

  constructor(
    readonly identity: Identity,
    private readonly graceMs: number,
    private readonly cache: AccessCache,
    request: Partial<Pick<Guard, 'breakGlass' | 'writeQueries' | 'scopes'>> & { provenance?: Provenance } = {},
  ) {
    this.scopes = request.scopes ?? [];
    this.breakGlass = request.breakGlass;
    this.supplied = request.provenance;
    this.writeQueries = request.writeQueries ?? (() => undefined);
  }

  /** Patient decisions made for this request (for the audit trail). */
  decisions(): ReadonlyMap<string, Decision> {
    return this.decided;
  }

  /** Whether the caller may see data in the compartments of all these patients. */
  async allows(db: Queryable, patients: string[]): Promise<boolean> {
    const unknown = patients.filter((p) => !this.decided.has(p) && !this.created.has(p));
    if (unknown.length) {
      const data = await this.dataOf(db);
      const caller = await this.callerOf(db);
      for (const p of unknown) this.decided.set(p, decide(caller, p, data.byPatient.get(p) ?? [], this.options()));
    }
    return patients.every((p) => this.created.has(p) || (this.inContext(p) && this.decided.get(p)!.allowed));
  }

  /** Whether a patient is within the token's patient context (any, without one). */
  private inContext(patient: string): boolean {
    return !this.identity.patient || this.identity.patient === patient;
  }

  /** Whether the caller may see this resource (policy.ts seesResource); noted for the audit trail. */
  allowsResource(
    db: Queryable,
    resource: Resource,
    patients = compartmentPatients(resource),
    sealed: SealLevel = sealLevel(resource),
  ): Promise<boolean> {
    return this.sees(db, { resourceType: resource.resourceType, id: resource.id ?? '', patients, sealed, resource });
  }

  /**
   * Whether the caller may see a resource (policy.ts seesResource): its
   * confidentiality level, and its patients (a restricted role: what is shared
   * with it); its patients are noted for the audit trail.
   */
  async sees(db: Queryable, item: SeenItem & { sealed: SealLevel }): Promise<boolean> {
    const caller = await this.callerOf(db);
    const data = await this.dataOf(db);
    await this.allows(db, [...item.patients]);
    const allowed = seesResource(
      caller,
      item,
      (p) => this.created.has(p) || (this.inContext(p) && this.decided.get(p)!.allowed),
      (p) => !this.inContext(p) || deniedPatient(caller, p, data.byPatient.get(p) ?? [], this.options()),
    );
    for (const p of item.patients) (allowed ? this.touched : this.refused).add(p);
    return allowed;
  }

  /** Whether some resources must be read whole to be judged (a restricted role judges a Communication on its parties). */
  async judgesContent(db: Queryable, resourceType: string): Promise<boolean> {
    return resourceType === 'Communication' && !!(await this.callerOf(db)).restricted;
  }

  /**
   * How resources are shown to the caller: a restricted role sees a Patient as
   * minimal demographics (restricted.ts); everyone else as stored.
   */
  async shaper(db: Queryable): Promise<(resourceType: string, content: string) => string> {
    if (!(await this.callerOf(db)).restricted) return (_type, content) => content;
    return (type, content) =>
      type === 'Patient' ? JSON.stringify(minimalPatient(JSON.parse(content) as Patient)) : content;
  }

  /** What searches filter on in SQL (search/access.ts accessClause). */
  async filter(db: Queryable): Promise<AccessFilter> {
    const caller = await this.callerOf(db);
    if (!caller.restricted) {
      const sealed = unsealedUpTo({ sensitiveData: !!caller.sensitiveData, breakGlass: caller.breakGlass });
      return { visibility: await this.visibility(db), owner: ownerKey(this.identity), sealed };
    }
    // A restricted role: rows shared with it (restricted), about no patient that denies it (or outside its context).
    const data = await this.dataOf(db);
    const restricted = { granted: [...caller.restricted.granted], parties: [...caller.restricted.parties] };
    return {
      visibility: restrictedVisibility(caller, data.byPatient, this.options(), this.identity.patient),
      owner: ownerKey(this.identity),
      sealed: unsealedUpTo({ sensitiveData: !!caller.sensitiveData, breakGlass: caller.breakGlass }),
      restricted,
    };
  }

  /** Notes the patients of resources a search returned (they passed the SQL filter). */
  noteReturned(patients: Iterable<string>): void {
    for (const p of patients) this.touched.add(p);
  }

  /**
   * A write of `resource` needs access to its patients; a new Patient is
   * allowed (and its later entries in this request may refer to it).
   */
  async checkWrite(
    db: Queryable,
    resource: Resource,
    creating: boolean,
    patients = compartmentPatients(resource),
    previous?: Resource,
  ): Promise<void> {
    this.checkTeamWrite(resource, creating ? 'c' : 'u');
    const caller = await this.callerOf(db);
    const relabel = sealChangeRefusal(
      { sensitiveData: !!caller.sensitiveData, breakGlass: caller.breakGlass },
      previous ? sealLevel(previous) : 0,
      sealLevel(resource),
    );
    if (relabel) throw new FhirError('forbidden', relabel);
    const refusal = caller.restricted && restrictedWriteRefusal(caller.restricted, previous, resource, patients);
    if (refusal) throw new FhirError('forbidden', refusal);
    // A new Patient is allowed (not to a token about another patient).
    if (resource.resourceType === 'Patient' && creating && resource.id && this.inContext(resource.id)) {
      this.created.add(resource.id);
      this.touched.add(resource.id);
      return;
    }
    if (await this.allows(db, patients)) {
      for (const p of patients) this.touched.add(p);
      return;
    }
    const denied = patients.filter((p) => !this.created.has(p) && !(this.inContext(p) && this.decided.get(p)?.allowed));
    for (const p of denied) this.refused.add(p);
    throw new FhirError(
      'forbidden',
      `No legitimate relationship with ${denied.map((p) => `Patient/${p}`).join(', ')}: the care team, caseload, ` +
        'referral or consent that would allow this write is missing (break-glass needs a stated reason)',
    );
  }

  /**
   * A deletion: a restricted role deletes nothing but its own Subscriptions, and
   * deleting a sealed resource is the sensitive-data activity's alone.
   */
  async checkDelete(db: Queryable, previous: Resource): Promise<void> {
    const caller = await this.callerOf(db);
    if (caller.restricted && previous.resourceType !== 'Subscription') {
      throw new FhirError(
        'forbidden',
        `A restricted role (voluntary sector, social care) may not delete ${previous.resourceType}`,
      );
    }
    const relabel = sealChangeRefusal(
      { sensitiveData: !!caller.sensitiveData, breakGlass: caller.breakGlass },
      sealLevel(previous),
      0,
    );
    if (relabel) throw new FhirError('forbidden', `${relabel}: deleting a sealed resource needs it too`);
  }

  /**
   * A team (a CareTeam with no subject) decides who its members may see (the
   * team's caseload): writing or deleting one is the directory's work, for a
   * token with a scope naming CareTeam. A person's care team is written under
   * the relationship with that person, like any of their records.
   */
  checkTeamWrite(resource: Resource, permission: 'c' | 'u' | 'd'): void {
    if (resource.resourceType !== 'CareTeam' || (resource as CareTeam).subject) return;
    if (namesType(this.scopes, 'CareTeam', permission)) return;
    throw insufficientScope(
      'CareTeam',
      permission,
      ' for a team (a CareTeam without a subject): that needs a scope naming CareTeam',
    );
  }

  /** The parties the caller acts as (policy.ts): its role, practitioner, organisation, teams, the organisation's roles and services. */
  async parties(db: Queryable): Promise<ReadonlySet<string>> {
    return (await this.dataOf(db)).parties;
  }

  /** The patients searches may return, for SQL filtering. */
  async visibility(db: Queryable): Promise<Visibility> {
    this.visible ??= (async (): Promise<Visibility> => {
      const patient = this.identity.patient;
      const caller = await this.callerOf(db);
      if (patient) return { every: false, only: (await this.allows(db, [patient])) ? [patient] : [] };
      const data = await this.dataOf(db);
      return visibility(caller, data.byPatient, this.options());
    })();
    return this.visible;
  }

  /**
   * Whether the caller sees everything: every patient (a system registered for all, or break-glass) with no consent
   * denying it, sealed resources too, not as a restricted role.
   */
  async seesEveryone(db: Queryable): Promise<boolean> {
    const v = await this.visibility(db);
    const caller = await this.callerOf(db);
    return v.every && !v.except.length && !caller.restricted && !!caller.sensitiveData;
  }

  /** The caller as the policy sees it, once per request (a restricted role with what is shared with it now). */
  private callerOf(db: Queryable): Promise<Caller> {
    this.caller ??= this.dataOf(db).then((data) => {
      if (data.shares && this.breakGlass) {
        throw new FhirError(
          'forbidden',
          'Break-glass access is not for a restricted role (voluntary sector, social care): it sees only what is shared with it',
        );
      }
      return {
        parties: data.parties,
        allPatients: this.identity.allPatients,
        breakGlass: this.breakGlass,
        sensitiveData: data.sensitiveData || !!this.identity.sensitiveData,
        restricted: data.shares && {
          parties: data.parties,
          granted: grantedTargets(data.parties, data.shares, this.options()),
        },
      };
    });
    return this.caller;
  }

  /** The caller's parties and relationships, from the access cache (loaded on a miss). */
  private dataOf(db: Queryable): Promise<CallerData> {
    const { organization, practitioner, practitionerRole, clientId } = this.identity;
    const key = [clientId, organization, practitioner, practitionerRole].join('|');
    this.data ??= this.cache.get(key, async () => {
      const own = [organization, practitioner, practitionerRole].filter((p): p is string => !!p);
      const parties = new Set(own);
      // Teams by the caller's own memberships; the organisation's other roles count for what the organisation
      // holds (a referral owned by a colleague's role), not for their team memberships.
      for (const team of teamsOf(parties, await loadMemberships(db, own), this.options())) parties.add(team);
      if (organization) for (const party of await loadOrganizationParties(db, organization)) parties.add(party);
      const byPatient = new Map<string, Relationship[]>();
      for (const r of await loadRelationships(db, [...parties])) {
        if (!r.patientId) continue;
        const list = byPatient.get(r.patientId);
        if (list) list.push(r);
        else byPatient.set(r.patientId, [r]);
      }
      // The role's activities and the organisation's type: sensitive data, restricted role.
      const profile = await loadResources(
        db,
        [practitionerRole, organization].filter((k): k is string => !!k),
      );
      const role = practitionerRole ? (profile.get(practitionerRole) as PractitionerRole | undefined) : undefined;
      const org = organization ? (profile.get(organization) as Organization | undefined) : undefined;
      const sensitiveData = hasCoding(role?.code, ACTIVITY_SYSTEM, SENSITIVE_DATA_ACTIVITY);
      const shares = isRestricted(role, org) ? await loadShares(db, [...parties]) : undefined;
      return { parties, byPatient, sensitiveData, shares };
    });
    return this.data;
  }

  /**
   * The Provenance of a write by this caller (STANDARDS.md §7.3): the exact
   * version as target, the user's role (or the system's organisation or
   * client id) as author, on behalf of their organisation. With a Provenance
   * the client supplied (X-Provenance), that one with the server's target,
   * time and activity, the authenticated caller always added to its agents
   * (as the enterer) and a break-glass reason only when break-glass was used:
   * a client may add to the record of who did what, never rewrite it.
   */
  provenanceFor(target: string, activity: 'CREATE' | 'UPDATE' | 'DELETE', recorded: string): Provenance {
    const { practitionerRole, organization, clientId } = this.identity;
    const who = practitionerRole
      ? { reference: practitionerRole }
      : organization
        ? { reference: organization }
        : { identifier: { system: 'urn:hearth:client-id', value: clientId } };
    const participant = (code: 'author' | 'enterer'): Provenance['agent'][number] => ({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code }] },
      who,
      ...(organization && practitionerRole ? { onBehalfOf: { reference: organization } } : {}),
    });
    const supplied = this.supplied;
    // A client's reasons, but never a break-glass claim of its own.
    const suppliedReasons = (supplied?.reason ?? []).filter((r) => !r.coding?.some((c) => c.code === 'BTG'));
    const btg = this.breakGlass
      ? [
          {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'BTG' }],
            text: this.breakGlass,
          },
        ]
      : [];
    return {
      ...(supplied ?? {}),
      resourceType: 'Provenance',
      target: [{ reference: target }],
      recorded,
      activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: activity }] },
      agent: supplied ? [...(supplied.agent ?? []), participant('enterer')] : [participant('author')],
      ...(suppliedReasons.length || btg.length ? { reason: [...suppliedReasons, ...btg] } : {}),
    };
  }

  private options() {
    return { now: this.now, graceMs: this.graceMs };
  }
}
