/**
 * The ONE read/write path for resources. A write is: validate -> lock and
 * version -> stamp -> extract index rows -> store (one statement), inside one
 * transaction; checks that must see the whole transaction run before commit.
 */
import { randomUUID } from 'node:crypto';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type pg from 'pg';
import { FhirError } from '../fhir/errors.ts';
import { addPatientRows, compartmentPatients, extractIndexRows, emptyIndexRows } from '../search/extract.ts';
import { loadIndexedPatients, provenancePatients } from '../store/access.ts';
import { compileCount, compileSearch } from '../search/compile.ts';
import { parseSearch, type SearchRequest } from '../search/parse.ts';
import { lockConditional } from '../store/locks.ts';
import {
  findReferrers,
  lockCurrent,
  lockCurrentMany,
  readCurrent,
  readCurrentWithPatients,
  readSealLevels,
  readVersion,
  versionPatients,
  writeFirstVersions,
  writeVersion,
  writeVersions,
  type HistoryEntry,
  type NewVersion,
  type Queryable,
  type StoredVersion,
} from '../store/resources.ts';
import { runCount, runIncludeStep, runSearch, type IncludedRow, type SearchRow } from '../store/search.ts';
import { compileIncludeStep, MAX_INCLUDED, MAX_ITERATE_ROUNDS } from '../search/include.ts';
import { validateBase, type Validation } from '../validation/validate.ts';
import type { Guard } from '../auth/guard.ts';
import { ACCESS_TYPES } from '../auth/access-cache.ts';
import { insufficientScope } from '../auth/access.ts';
import type { AccessFilter } from '../search/access.ts';
import { sealLevel, type SealLevel } from '../auth/sealing.ts';
import { stamp } from './stamp.ts';
import type { RuleReader, WriteObserver, WriteRule, WrittenChange } from './observer.ts';
import { OWNED_TYPES, ownedBy, ownerKey } from '../auth/ownership.ts';
import { localTarget, parseReferenceTarget } from '../fhir/reference.ts';

export interface RepositoryOptions {
  baseUrl: string;
  versionAwareTypes: ReadonlySet<string>;
  /** Base and profile validation of writes; without it, base validation only. */
  validation?: Validation;
  /**
   * Called for a write of a type that can change access (auth/access-cache.ts),
   * on the write's own connection: inside a transaction just before COMMIT (a
   * NOTIFY sent there is delivered when it commits), else after the write.
   */
  onAccessChange?: (db: Queryable) => Promise<void>;
  /** Called once such a write has committed (this node forgets what it cached at once). */
  onAccessCommitted?: () => void;
  /** Sees every write (subscriptions): may refuse or adjust it; records its events in the same transaction. */
  observer?: WriteObserver;
  /** Business rules on writes (workflow: the Task state machine). */
  rules?: readonly WriteRule[];
}

/** A version that was just written (or read), with its parsed resource when there is one. */
export interface WrittenVersion {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  resource?: Resource;
  content?: string;
  /** Validation warnings of the written resource (e.g. an extensible binding not met). */
  warnings?: OperationOutcomeIssue[];
}

export interface WriteOptions {
  /** `If-Match` value, W/"n" or "n". */
  ifMatch?: string;
  method?: HistoryEntry['method'];
}

export type { IncludedRow, SearchRow };

/** What the current row of a resource says for access control: its level and, read with it, its patients. */
interface CurrentRow {
  sealed: number;
  patients?: string[];
}

export interface SearchResult {
  /** The page's matches in sort order. */
  rows: SearchRow[];
  /** More matches lie beyond the page in its reading direction (after it; before it for a backward cursor). */
  hasMore: boolean;
  total?: number;
  /** The version number the pages of this search are pinned to. */
  pin: number;
  /** Resources added by _include/_revinclude (never a match of the page). */
  included: IncludedRow[];
}

/**
 * What a transaction keeps until it commits, shared by every Repository on its
 * connection (the caller's and Hearth's own, asServer()), so each write's
 * checks, consequences and events are seen whichever wrote it.
 */
interface TransactionState {
  deletes: { resourceType: string; id: string }[];
  /** Writes under restricted scopes, to match their queries before commit. */
  scopeChecks: { resourceType: string; id: string; permission: 'c' | 'u'; queries: string[] }[];
  /**
   * Versions written in this transaction but not yet sent: a transaction's
   * creates (and updateMany's versions) go to the database as one statement.
   * Sent before anything reads (flush), so every read in the transaction sees them.
   */
  deferred: NewVersion[];
  /**
   * What the current row of each resource written in this transaction holds for access control (its patients
   * and level), keyed Type/id: a Provenance of such targets needs no read of them.
   */
  written: Map<string, { patients: string[]; sealed: number }>;
  /** A write in this transaction may have changed who may see whom. */
  accessChanged: boolean;
  /** Writes of types the observer watches, for it to see before commit. */
  changes: WrittenChange[];
  /** How many of `changes` the observer has seen before a read (beforeRead). */
  readied: number;
}

function newTransactionState(): TransactionState {
  return {
    deletes: [],
    scopeChecks: [],
    deferred: [],
    written: new Map(),
    accessChanged: false,
    changes: [],
    readied: 0,
  };
}

export class Repository {
  constructor(
    private readonly db: Queryable,
    readonly options: RepositoryOptions,
    private readonly client?: pg.PoolClient,
    /** The caller's access guard; undefined when security is off. */
    readonly guard?: Guard,
    /** Hearth's own writes (e.g. a subscription's status), not a caller's. */
    private readonly server = false,
    private readonly tx: TransactionState = newTransactionState(),
  ) {}

  /** This repository for one request, every access decided by its guard. */
  withGuard(guard: Guard | undefined): Repository {
    return guard ? new Repository(this.db, this.options, this.client, guard, false, this.shared()) : this;
  }

  /** This repository for Hearth's own writes (no caller: no access checks, no Provenance). */
  asServer(): Repository {
    return new Repository(this.db, this.options, this.client, undefined, true, this.shared());
  }

  /** Inside a transaction its state (a Repository made from this one joins it); outside, a fresh one. */
  private shared(): TransactionState | undefined {
    return this.client ? this.tx : undefined;
  }

  /** The connection for read-only store queries (history), with this transaction's writes sent. */
  async queryable(): Promise<Queryable> {
    await this.flush();
    return this.db;
  }

  /** Sends the deferred versions (one statement), then shows the observer what reads must see. */
  private async flush(): Promise<void> {
    if (this.tx.deferred.length) {
      const versions = this.tx.deferred;
      this.tx.deferred = [];
      if (versions.every((v) => v.versionId === 1)) await writeFirstVersions(this.db, versions);
      else await writeVersions(this.db, versions);
    }
    const observer = this.options.observer;
    if (observer?.beforeRead && this.tx.changes.length > this.tx.readied) {
      const fresh = this.tx.changes.slice(this.tx.readied);
      this.tx.readied = this.tx.changes.length;
      await observer.beforeRead(this.db, fresh);
    }
  }

  /** Runs fn in one database transaction (joins the current one if already inside). */
  async transaction<T>(fn: (repo: Repository) => Promise<T>): Promise<T> {
    if (this.client) return fn(this);
    const client = await (this.db as pg.Pool).connect();
    const repo = new Repository(client, this.options, client, this.guard, this.server);
    const observer = this.options.observer;
    let result: T;
    try {
      await client.query('BEGIN');
      result = await fn(repo);
      await repo.flush();
      await repo.checkBeforeCommit();
      if (observer && repo.tx.changes.length) await observer.beforeCommit(client, repo.tx.changes, repo.guard);
      // On this transaction's connection: waiting for another pooled one while holding this could exhaust the pool.
      if (repo.tx.accessChanged) await this.options.onAccessChange?.(client);
      await client.query('COMMIT');
      if (repo.tx.accessChanged) this.options.onAccessCommitted?.();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw translateDbError(error);
    } finally {
      client.release();
    }
    // After the connection is back in the pool: what the observer does next may need one.
    if (observer && repo.tx.changes.length) await observer.afterCommit(repo.tx.changes);
    return result;
  }

  async read(resourceType: string, id: string): Promise<StoredVersion> {
    await this.flush();
    // The current version comes with the patients it is about and its level (access control decides without parsing).
    const current = await readCurrentWithPatients(this.db, resourceType, id);
    await this.checkVisible(resourceType, id, current, current);
    if (!current) throw new FhirError('not-found', `${resourceType}/${id} is not known`);
    if (current.deleted) throw new FhirError('deleted', `${resourceType}/${id} has been deleted`);
    const { patients: _patients, sealed: _sealed, ...version } = current;
    return this.shaped(version);
  }

  /** A version as the caller is shown it (a restricted role sees a Patient as minimal demographics). */
  private async shaped<T extends StoredVersion>(version: T): Promise<T> {
    if (!this.guard || version.content === null) return version;
    const shape = await this.guard.shaper(this.db);
    return { ...version, content: shape(version.resourceType, version.content) };
  }

  /**
   * A resource the caller may not see is answered exactly as one that does not
   * exist (nothing about its existence leaks); a deletion is judged by the
   * version before it.
   */
  private async checkVisible(
    resourceType: string,
    id: string,
    version: StoredVersion | undefined,
    row?: CurrentRow,
  ): Promise<void> {
    if (!(await this.isVisible(resourceType, id, version, row))) {
      throw new FhirError('not-found', `${resourceType}/${id} is not known`);
    }
  }

  /**
   * Whether the caller may see the version (always, without access control or when there is none). `row`: what
   * the resource's current row says: its level, which hides every version of a resource sealed now, and, when
   * `version` is that row, its patients.
   */
  private async isVisible(
    resourceType: string,
    id: string,
    version: StoredVersion | undefined,
    row?: CurrentRow,
  ): Promise<boolean> {
    if (!this.guard || !version) return true;
    const owned = OWNED_TYPES.has(resourceType);
    if (row?.patients && !version.deleted && !owned && !(await this.guard.judgesContent(this.db, resourceType))) {
      const sealed = row.sealed as SealLevel;
      return this.guard.sees(this.db, { resourceType, id, patients: row.patients, sealed });
    }
    let content = version.content;
    if (content === null && version.versionId > 1) {
      content = (await readVersion(this.db, resourceType, id, version.versionId - 1))?.content ?? null;
    }
    if (content === null) return true;
    const resource = JSON.parse(content) as Resource;
    if (owned) return ownedBy(resource, ownerKey(this.guard.identity));
    // A Provenance is seen with its targets: their patients are indexed with it when it is written.
    const patients =
      resourceType === 'Provenance' ? await loadIndexedPatients(this.db, [{ resourceType, id }]) : undefined;
    const sealed = Math.max(sealLevel(resource), row?.sealed ?? 0) as SealLevel;
    return this.guard.allowsResource(this.db, resource, patients, sealed);
  }

  /** The current rows' levels of some resources (a version is hidden while its resource is sealed now). */
  private async currentRows(refs: { resourceType: string; id: string }[]): Promise<Map<string, CurrentRow>> {
    const levels = await readSealLevels(this.db, refs);
    return new Map([...levels].map(([key, sealed]) => [key, { sealed }]));
  }

  /** The patients a resource is about: its compartments; for a Provenance, its targets' patients. */
  private async patientsOf(resource: Resource): Promise<string[]> {
    if (resource.resourceType !== 'Provenance') return compartmentPatients(resource);
    // Targets all written in this transaction: what their current rows hold (as the read below would find).
    const known = this.writtenTargets(resource, localTarget);
    if (known) return [...new Set(known.flatMap((k) => k.patients))];
    // Targets written earlier in this transaction count: their deferred rows are sent first.
    await this.flush();
    return provenancePatients(this.db, resource);
  }

  /** What the current rows of a Provenance's targets hold, when all were written in this transaction. */
  private writtenTargets(
    provenance: Resource,
    parse: (reference: string) => { resourceType: string; id: string } | undefined,
  ): { patients: string[]; sealed: number }[] | undefined {
    const out: { patients: string[]; sealed: number }[] = [];
    for (const t of (provenance as { target?: { reference?: string }[] }).target ?? []) {
      const target = t.reference ? parse(t.reference) : undefined;
      if (!target) continue;
      const row = this.tx.written.get(`${target.resourceType}/${target.id}`);
      if (!row) return undefined;
      out.push(row);
    }
    return out;
  }

  /** Of some versions (history entries), those the caller may see. */
  async visibleVersions<T extends StoredVersion>(versions: T[]): Promise<T[]> {
    if (!this.guard) return versions;
    const rows = await this.currentRows(versions);
    const out: T[] = [];
    for (const v of versions) {
      if (await this.isVisible(v.resourceType, v.id, v, rows.get(`${v.resourceType}/${v.id}`))) {
        out.push(await this.shaped(v));
      }
    }
    return out;
  }

  /** The current version, locked for the rest of the transaction (read-modify-write, e.g. patch). */
  async readForUpdate(resourceType: string, id: string): Promise<StoredVersion> {
    if (!this.client) throw new Error('readForUpdate needs a transaction');
    await this.flush();
    const current = await lockCurrent(this.client, resourceType, id);
    await this.checkVisible(resourceType, id, current);
    if (!current) throw new FhirError('not-found', `${resourceType}/${id} is not known`);
    if (current.deleted) throw new FhirError('deleted', `${resourceType}/${id} has been deleted`);
    return current;
  }

  async vread(resourceType: string, id: string, versionId: number): Promise<StoredVersion> {
    await this.flush();
    const version = await readVersion(this.db, resourceType, id, versionId);
    const row = version && this.guard ? (await this.currentRows([version])).get(`${resourceType}/${id}`) : undefined;
    // Hidden is answered exactly as absent.
    if (!version || !(await this.isVisible(resourceType, id, version, row)))
      throw new FhirError('not-found', `${resourceType}/${id}/_history/${versionId} is not known`);
    if (version.deleted) throw new FhirError('deleted', `${resourceType}/${id}/_history/${versionId} is a deletion`);
    return this.shaped(version);
  }

  /** Creates version 1: one statement, so outside a transaction it needs no BEGIN/COMMIT. */
  async create(resource: Resource, id: string = randomUUID()): Promise<WrittenVersion> {
    // A write under restricted scopes is checked before commit, and one the observer watches or a rule has
    // consequences of has them written with it, as does one a rule judges on what is stored: it needs a transaction.
    const watched =
      this.options.observer?.watches(resource.resourceType) ||
      this.rulesFor(resource.resourceType).some((r) => r.after || r.readsStore);
    if (!this.client && (watched || this.guard?.writeQueries(resource.resourceType, 'c'))) {
      return this.transaction((repo) => repo.create(resource, id));
    }
    const warnings = this.validate(resource);
    try {
      const written = await this.writeVersion(resource, id, 1, 'POST');
      if (!this.client && this.tx.accessChanged) {
        this.tx.accessChanged = false;
        await this.options.onAccessChange?.(this.db);
        this.options.onAccessCommitted?.();
      }
      return withWarnings(written, warnings);
    } catch (error) {
      throw this.client ? error : translateDbError(error);
    }
  }

  /** Update (or update-as-create) of Type/id; `created` tells which. */
  async update(
    resourceType: string,
    id: string,
    resource: Resource,
    options: WriteOptions = {},
  ): Promise<WrittenVersion & { created: boolean }> {
    const warnings = this.validate(resource);
    return this.transaction(async (repo) => {
      await repo.flush();
      const current = await lockCurrent(repo.client!, resourceType, id);
      await repo.checkVisible(resourceType, id, current);
      repo.checkIfMatch(resourceType, id, current, options.ifMatch);
      if (current && !current.deleted) await repo.checkScopeQueries(resourceType, id, 'u');
      if (!current) {
        return {
          ...withWarnings(await repo.writeVersion(resource, id, 1, options.method ?? 'PUT'), warnings),
          created: true,
        };
      }
      const versionId = current.versionId + 1;
      const written = await repo.writeVersion(resource, id, versionId, options.method ?? 'PUT', current);
      return { ...withWarnings(written, warnings), created: current.deleted };
    });
  }

  /**
   * Updates (or creates) many resources with distinct ids in one transaction, each as update() would (validation,
   * access, rules, observer, index, Provenance under access control), but with one lock statement for all and
   * their versions sent together (one statement, at the next read or at commit). `unchanged`: whether the
   * current version already says what the new one would (then none is written: undefined in the answer).
   */
  async updateMany(
    resources: Resource[],
    unchanged?: (current: Resource, next: Resource) => boolean,
  ): Promise<((WrittenVersion & { created: boolean }) | undefined)[]> {
    const keys = new Set(resources.map((r) => `${r.resourceType}/${r.id}`));
    if (keys.size !== resources.length || resources.some((r) => !r.id)) {
      throw new Error('updateMany takes resources with distinct ids');
    }
    return this.transaction(async (repo) => {
      await repo.flush();
      const locked = await lockCurrentMany(
        repo.client!,
        resources.map((r) => ({ resourceType: r.resourceType, id: r.id! })),
      );
      const out: ((WrittenVersion & { created: boolean }) | undefined)[] = [];
      for (const resource of resources) {
        const { resourceType, id } = resource as Resource & { id: string };
        const current = locked.get(`${resourceType}/${id}`);
        await repo.checkVisible(resourceType, id, current);
        repo.checkIfMatch(resourceType, id, current, undefined);
        if (unchanged && current?.content && unchanged(JSON.parse(current.content) as Resource, resource)) {
          out.push(undefined);
          continue;
        }
        const warnings = repo.validate(resource);
        if (current && !current.deleted) await repo.checkScopeQueries(resourceType, id, 'u');
        const versionId = current ? current.versionId + 1 : 1;
        const written = await repo.writeVersion(resource, id, versionId, 'PUT', current, true);
        out.push({ ...withWarnings(written, warnings), created: !current || current.deleted });
      }
      return out;
    });
  }

  /** Throws on a resource that may not be written (400 base, 422 profile); returns its warnings. */
  private validate(resource: Resource): OperationOutcomeIssue[] {
    if (this.options.validation) return this.options.validation.onWrite(resource);
    validateBase(resource);
    return [];
  }

  /** Deletes Type/id; returns the deletion version, or undefined when there was nothing to delete. */
  async delete(resourceType: string, id: string, options: WriteOptions = {}): Promise<WrittenVersion | undefined> {
    return this.transaction(async (repo) => {
      await repo.flush();
      const current = await lockCurrent(repo.client!, resourceType, id);
      await repo.checkVisible(resourceType, id, current);
      if (options.ifMatch) repo.checkIfMatch(resourceType, id, current, options.ifMatch);
      if (!current || current.deleted) return undefined;
      await repo.checkScopeQueries(resourceType, id, 'd');
      const deleted = JSON.parse(current.content!) as Resource;
      if (resourceType === 'CareTeam') repo.guard?.checkTeamWrite(deleted, 'd');
      await repo.guard?.checkDelete(repo.db, deleted);
      const lastUpdated = new Date().toISOString();
      const versionId = current.versionId + 1;
      await writeVersion(repo.client!, {
        resourceType,
        id,
        versionId,
        lastUpdated,
        method: 'DELETE',
        content: null,
        index: emptyIndexRows(),
        // The deletion keeps the level of what it deleted: the versions before it stay sealed.
        sealed: sealLevel(deleted),
      });
      repo.tx.deletes.push({ resourceType, id });
      if (ACCESS_TYPES.has(resourceType)) repo.tx.accessChanged = true;
      if (repo.options.observer?.watches(resourceType)) {
        const previous = JSON.parse(current.content!) as Resource;
        repo.tx.changes.push({ resourceType, id, versionId, lastUpdated, method: 'DELETE', previous });
      }
      const provenance = repo.provenanceOf(JSON.parse(current.content!) as Resource, versionId, lastUpdated, 'DELETE');
      repo.tx.written.set(`${resourceType}/${id}`, { patients: [], sealed: sealLevel(deleted) });
      if (provenance) repo.tx.deferred.push(provenance);
      return { resourceType, id, versionId, lastUpdated };
    });
  }

  async search(request: SearchRequest, options: { withTotal: boolean }): Promise<SearchResult> {
    await this.flush();
    try {
      return await this.runSearch(request, options);
    } catch (error) {
      // A value PostgreSQL cannot read as its type (class 22, e.g. a forged cursor key) is the client's error.
      if (String((error as { code?: unknown }).code ?? '').startsWith('22')) {
        throw new FhirError(
          'invalid',
          'A search value (or the paging cursor) could not be read; check the parameters',
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  private async runSearch(request: SearchRequest, options: { withTotal: boolean }): Promise<SearchResult> {
    const access = this.guard ? await this.guard.filter(this.db) : undefined;
    const compileOptions = { baseUrl: this.options.baseUrl, ...access };
    const rows =
      request.count === 0
        ? []
        : await runSearch(this.db, compileSearch(request, { ...compileOptions, withPatients: !!this.guard }));
    const hasMore = rows.length > request.count;
    if (hasMore) rows.pop();
    if (request.cursor?.back) rows.reverse();
    // The first page reads the pin with its rows; an empty page needs none (it has no paging links).
    const pin = request.cursor?.pin ?? Number(rows[0]?.pin ?? 0);
    let total: number | undefined;
    if (options.withTotal) total = await runCount(this.db, compileCount(request, compileOptions));
    else if (!hasMore && !request.cursor && request.count > 0) total = rows.length;
    const included = request.includes.length ? await this.include(request, rows, access) : [];
    if (this.guard) {
      // The audit trail records whose data the search returned (the rows passed the access filter).
      for (const row of [...rows, ...included]) this.guard.noteReturned(row.patients ?? []);
      const shape = await this.guard.shaper(this.db);
      // A search over several types has Type/id as its rows' ids (order.ts).
      const typeOf = (row: SearchRow) => (request.resourceTypes ? row.id.split('/')[0] : request.resourceType);
      for (const row of rows) row.content = shape(typeOf(row), row.content);
      for (const row of included) row.content = shape(row.resource_type, row.content);
    }
    return { rows, hasMore, total, pin, included };
  }

  /**
   * _include/_revinclude: each directive applied to the page's matches, and the
   * :iterate ones again to what the last round added, until nothing is new or
   * MAX_ITERATE_ROUNDS / MAX_INCLUDED is reached.
   */
  private async include(
    request: SearchRequest,
    matches: SearchRow[],
    access: AccessFilter | undefined,
  ): Promise<IncludedRow[]> {
    const seen = new Set(matches.map((m) => `${request.resourceType}/${m.id}`));
    const included: IncludedRow[] = [];
    let frontier = new Map([[request.resourceType, matches.map((m) => m.id)]]);
    for (let round = 0; round < MAX_ITERATE_ROUNDS && frontier.size; round++) {
      const next = new Map<string, string[]>();
      for (const directive of request.includes) {
        if (round > 0 && !directive.iterate) continue;
        for (const [type, ids] of frontier) {
          const step = ids.length ? compileIncludeStep(directive, type, ids, access) : undefined;
          if (!step) continue;
          for (const row of await runIncludeStep(this.db, step)) {
            const key = `${row.resource_type}/${row.id}`;
            if (seen.has(key)) continue;
            if (included.length >= MAX_INCLUDED) return included;
            seen.add(key);
            included.push(row);
            next.set(row.resource_type, [...(next.get(row.resource_type) ?? []), row.id]);
          }
        }
      }
      frontier = next;
    }
    return included;
  }

  /** Serialises conditional writes on the same criteria for the rest of the transaction. */
  async lockCriteria(resourceType: string, criteria: string): Promise<void> {
    if (!this.client) throw new Error('lockCriteria needs a transaction');
    await lockConditional(this.client, `${resourceType}?${criteria}`);
  }

  private async writeVersion(
    submitted: Resource,
    id: string,
    versionId: number,
    method: HistoryEntry['method'],
    current?: StoredVersion,
    /** In a transaction: sent with the deferred versions (the caller holds the row's lock). */
    defer = false,
  ): Promise<WrittenVersion> {
    const observer = this.options.observer?.watches(submitted.resourceType) ? this.options.observer : undefined;
    const rules = this.rulesFor(submitted.resourceType);
    const previous =
      current?.content && (observer || rules.length) ? (JSON.parse(current.content) as Resource) : undefined;
    // The rules (observer.ts WriteRule): adjust every write, check a caller's, then (below) its consequences.
    let adjusted = submitted;
    for (const rule of rules) if (rule.adjust) adjusted = await rule.adjust(previous, adjusted, this.readAsHearth);
    const prepared = observer?.prepare(adjusted, previous, { guard: this.guard, server: this.server });
    // The version replaced, for the guard's rules on changes (confidentiality label, restricted roles).
    const replaced =
      previous ?? (this.guard && current?.content ? (JSON.parse(current.content) as Resource) : undefined);
    const resource = prepared?.resource ?? adjusted;
    if (rules.some((r) => r.readsStore)) await this.flush();
    if (!this.server) for (const rule of rules) await rule.check?.(previous, resource, this.guard, this.db);
    const lastUpdated = new Date().toISOString();
    const stamped = stamp(resource, id, versionId, lastUpdated);
    const index = extractIndexRows(stamped);
    // A Provenance is about its targets' patients: indexed with it, and needed to write it.
    const provenancePatients = stamped.resourceType === 'Provenance' ? await this.patientsOf(stamped) : undefined;
    if (provenancePatients) addPatientRows(index, provenancePatients);
    await this.guard?.checkWrite(this.db, stamped, versionId === 1, provenancePatients ?? undefined, replaced);
    // Under restricted scopes the new content must match one of their queries: checked before commit. An update
    // that creates is allowed by `u` (SMART v2: "this is allowed by the update scope").
    const permission = method === 'POST' ? 'c' : 'u';
    const queries = this.guard?.writeQueries(stamped.resourceType, permission);
    if (queries) this.tx.scopeChecks.push({ resourceType: stamped.resourceType, id, permission, queries });
    const content = JSON.stringify(stamped);
    const version: NewVersion = {
      resourceType: stamped.resourceType,
      id,
      versionId,
      lastUpdated,
      method,
      content,
      index,
      sealed: provenancePatients ? await this.targetsSealed(stamped) : sealLevel(stamped),
    };
    if (ACCESS_TYPES.has(stamped.resourceType)) this.tx.accessChanged = true;
    const provenance = this.provenanceOf(stamped, versionId, lastUpdated, versionId === 1 ? 'CREATE' : 'UPDATE');
    if (this.client)
      this.tx.written.set(`${version.resourceType}/${id}`, {
        patients: versionPatients(index),
        sealed: version.sealed,
      });
    if (this.client && (versionId === 1 || defer)) this.tx.deferred.push(version);
    else if (versionId === 1) await writeFirstVersions(this.db, provenance ? [version, provenance] : [version]);
    else await writeVersion(this.db, version);
    if (provenance && (this.client || versionId > 1)) this.tx.deferred.push(provenance);
    if (observer) {
      this.tx.changes.push({
        resourceType: stamped.resourceType,
        id,
        versionId,
        lastUpdated,
        method,
        previous,
        current: stamped,
        note: prepared?.note,
      });
    }
    const consequences = rules.filter((r) => r.after);
    if (consequences.length) {
      if (!this.client) throw new Error(`A write of ${stamped.resourceType} with consequences needs a transaction`);
      const by = { guard: this.guard, server: this.server };
      for (const rule of consequences) await rule.after!({ previous, current: stamped }, this.asServer(), by);
    }
    return { resourceType: stamped.resourceType, id, versionId, lastUpdated, resource: stamped, content };
  }

  /** The write rules on a type. */
  private rulesFor(resourceType: string): WriteRule[] {
    return (this.options.rules ?? []).filter((r) => r.types.has(resourceType));
  }

  /** What a rule reads (observer.ts RuleReader): a current resource as Hearth, this transaction's writes included. */
  private readonly readAsHearth: RuleReader = async (resourceType, id) => {
    await this.flush();
    const current = await readCurrent(this.db, resourceType, id);
    return current?.content ? (JSON.parse(current.content) as Resource) : undefined;
  };

  /**
   * Under access control every write leaves a Provenance of the exact version
   * (written with it, in the same transaction), seen by whoever may see the
   * resource. Provenance, AuditEvent and owned (Subscription) writes leave none.
   */
  private provenanceOf(
    resource: Resource,
    versionId: number,
    recorded: string,
    activity: 'CREATE' | 'UPDATE' | 'DELETE',
  ): NewVersion | undefined {
    // An owned resource (a Subscription) has its own history, seen by its owner alone: a Provenance about no
    // patient would be seen by everyone.
    if (
      !this.guard ||
      resource.resourceType === 'Provenance' ||
      resource.resourceType === 'AuditEvent' ||
      OWNED_TYPES.has(resource.resourceType)
    ) {
      return;
    }
    const id = randomUUID();
    const target = `${resource.resourceType}/${resource.id}/_history/${versionId}`;
    const stamped = stamp(this.guard.provenanceFor(target, activity, recorded), id, 1, recorded);
    const index = extractIndexRows(stamped);
    addPatientRows(index, compartmentPatients(resource));
    return {
      resourceType: 'Provenance',
      id,
      versionId: 1,
      lastUpdated: recorded,
      method: 'POST',
      content: JSON.stringify(stamped),
      index,
      // Seen with what it is about: a sealed resource's Provenance is sealed with it.
      sealed: sealLevel(resource),
    };
  }

  /** A Provenance is sealed as its most sealed target (as the resource's own Provenance is written). */
  private async targetsSealed(provenance: Resource): Promise<SealLevel> {
    const known = this.writtenTargets(provenance, parseReferenceTarget);
    if (known) return Math.max(0, ...known.map((k) => k.sealed)) as SealLevel;
    const targets = ((provenance as { target?: { reference?: string }[] }).target ?? [])
      .map((t) => (t.reference ? parseReferenceTarget(t.reference) : undefined))
      .filter((t) => t !== undefined);
    const levels = await readSealLevels(this.db, targets);
    return Math.max(0, ...levels.values()) as SealLevel;
  }

  private checkIfMatch(resourceType: string, id: string, current: StoredVersion | undefined, ifMatch?: string): void {
    if (ifMatch === undefined) {
      if (current && !current.deleted && this.options.versionAwareTypes.has(resourceType)) {
        throw new FhirError('invalid', `Updates to ${resourceType} must carry If-Match with the version being changed`);
      }
      return;
    }
    const wanted = /^(?:W\/)?"?([^"]+)"?$/.exec(ifMatch.trim())?.[1];
    if (!wanted) throw new FhirError('invalid', `If-Match "${ifMatch}" is not a version ETag such as W/"3"`);
    if (!current || current.deleted || String(current.versionId) !== wanted) {
      const actual = current && !current.deleted ? `W/"${current.versionId}"` : 'none';
      throw new FhirError(
        'precondition-failed',
        `If-Match W/"${wanted}" does not match the current version of ${resourceType}/${id} (${actual})`,
      );
    }
  }

  /**
   * Why Type/id may not be deleted (current resources refer to it), or undefined: what a DELETE's 409 and
   * $validate mode=delete say. Under access control the referrers are named only to a caller who sees every
   * patient (they may be about patients the caller may not see).
   */
  async deleteConflict(resourceType: string, id: string): Promise<string | undefined> {
    await this.flush();
    const referrers = await findReferrers(this.db, resourceType, id);
    if (!referrers.length) return undefined;
    const hidden = this.guard && !(await this.guard.seesEveryone(this.db));
    const by = hidden ? 'other resources' : referrers.join(', ');
    return `${resourceType}/${id} cannot be deleted: it is referenced by ${by}`;
  }

  /**
   * A write under restricted scopes (`user/Task.cu?owner=…`): the resource as
   * it stands in this transaction must match one of the scopes' queries, else
   * 403 and the transaction is rolled back.
   */
  async checkScopeQueries(
    resourceType: string,
    id: string,
    permission: 'c' | 'u' | 'd',
    queries = this.guard?.writeQueries(resourceType, permission),
  ): Promise<void> {
    if (!queries) return;
    for (const query of queries) {
      const params: [string, string][] = [['_id', id], ...new URLSearchParams(query)];
      const request = parseSearch(resourceType, params, { defaultCount: 1, maxCount: 1, strict: true });
      request.sort = [];
      if ((await this.search(request, { withTotal: false })).rows.length) return;
    }
    throw insufficientScope(resourceType, permission, ` here: only where ${queries.join(' or ')}`);
  }

  private async checkBeforeCommit(): Promise<void> {
    for (const { resourceType, id, permission, queries } of this.tx.scopeChecks) {
      await this.checkScopeQueries(resourceType, id, permission, queries);
    }
    // Referential integrity: a deleted resource may not be referenced by a current one at commit.
    for (const { resourceType, id } of this.tx.deletes) {
      const conflict = await this.deleteConflict(resourceType, id);
      if (conflict) throw new FhirError('conflict', conflict);
    }
  }
}

/** PostgreSQL errors that are the client's concern, as FhirErrors; others pass through. */
function translateDbError(error: unknown): unknown {
  const code = (error as { code?: string }).code;
  if (code === '23505') {
    return new FhirError('conflict', 'A concurrent write changed this resource; read it again and retry', {
      cause: error,
    });
  }
  if (code === '40001' || code === '40P01') {
    return new FhirError('transient', 'The write conflicted with another; retry', { cause: error });
  }
  return error;
}

function withWarnings(written: WrittenVersion, warnings: OperationOutcomeIssue[]): WrittenVersion {
  return warnings.length ? { ...written, warnings } : written;
}
