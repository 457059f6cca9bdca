/**
 * The one place that talks to the FHIR API (same origin, /fhir): JSON in and out with the session's bearer
 * token; an error answer becomes a FhirError carrying the OperationOutcome's diagnostics for the user. A 401 is
 * retried once with a renewed token (the session keeper refreshes); a second 401, or no renewal, means the
 * session has ended. No patient data is ever put in a URL by callers: ids only.
 */
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';

export class FhirError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly outcome?: OperationOutcome,
  ) {
    super(message);
  }
}

/** What an OperationOutcome says, for a person: each issue's diagnostics (or details text), joined. */
export function outcomeMessage(outcome: unknown, status: number): string {
  const issues = (outcome as OperationOutcome | undefined)?.issue ?? [];
  const text = issues
    .map((i) => i.diagnostics ?? i.details?.text ?? i.code)
    .filter(Boolean)
    .join(' ');
  if (text) return text;
  if (status === 401) return 'Your session has ended: sign in again.';
  if (status === 403) return 'You are not allowed to do this.';
  if (status === 404) return 'Not found, or not something you may see.';
  return `The server answered ${status}.`;
}

export interface FhirAnswer<T> {
  status: number;
  body: T;
  etag?: string;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
}

/** Where the bearer token comes from: a fixed token, or the session keeper (keeper.ts). */
export interface Credentials {
  token(): string;
  /** After a 401 with `failed`: a newer token to retry with once, or undefined when the session has ended. */
  renew(failed: string): Promise<string | undefined>;
}

export class FhirClient {
  private readonly credentials: Credentials;

  constructor(
    credentials: Credentials | string,
    private readonly onUnauthorized: () => void = () => undefined,
    readonly base = '/fhir',
  ) {
    this.credentials =
      typeof credentials === 'string'
        ? { token: () => credentials, renew: () => Promise.resolve(undefined) }
        : credentials;
  }

  async request<T = Resource>(method: string, path: string, options: RequestOptions = {}): Promise<FhirAnswer<T>> {
    const token = this.credentials.token();
    let res = await this.send(method, path, options, token);
    if (res.status === 401) {
      const renewed = await this.credentials.renew(token);
      if (renewed) res = await this.send(method, path, options, renewed);
    }
    const text = await res.text();
    const body = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      if (res.status === 401) this.onUnauthorized();
      throw new FhirError(res.status, outcomeMessage(body, res.status), body as OperationOutcome);
    }
    return { status: res.status, body: body as T, etag: res.headers.get('ETag') ?? undefined };
  }

  private async send(method: string, path: string, options: RequestOptions, token: string): Promise<Response> {
    const headers: Record<string, string> = {
      Accept: 'application/fhir+json',
      Authorization: `Bearer ${token}`,
      ...options.headers,
    };
    if (options.body !== undefined) headers['Content-Type'] = 'application/fhir+json';
    try {
      return await fetch(`${this.base}/${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch {
      throw new FhirError(0, 'Hearth cannot be reached: check the connection and try again.');
    }
  }

  async read<T extends Resource>(type: string, id: string): Promise<FhirAnswer<T>> {
    return this.request<T>('GET', `${type}/${encodeURIComponent(id)}`);
  }

  /** A search; a parameter given as a list is repeated (`_include`). */
  async search(type: string, params: Record<string, string | string[]>): Promise<Bundle> {
    const query = new URLSearchParams();
    for (const [name, v] of Object.entries(params)) for (const one of [v].flat()) query.append(name, one);
    return (await this.request<Bundle>('GET', `${type}?${query}`)).body;
  }

  async create<T extends Resource>(resource: T): Promise<T> {
    return (await this.request<T>('POST', resource.resourceType, { body: resource })).body;
  }

  async update<T extends Resource>(resource: T, etag?: string): Promise<FhirAnswer<T>> {
    return this.request<T>('PUT', `${resource.resourceType}/${resource.id}`, {
      body: resource,
      headers: etag ? { 'If-Match': etag } : {},
    });
  }

  async remove(type: string, id: string): Promise<void> {
    await this.request('DELETE', `${type}/${encodeURIComponent(id)}`);
  }

  /** An operation: GET with simple parameters, or POST with a Parameters body. */
  async operation<T = Resource>(path: string, input?: Resource | Record<string, string>, method?: 'GET' | 'POST') {
    if (method === 'GET' || (input && !('resourceType' in input))) {
      const query = input ? `?${new URLSearchParams(input as Record<string, string>)}` : '';
      return (await this.request<T>('GET', `${path}${query}`)).body;
    }
    return (await this.request<T>('POST', path, { body: input ?? { resourceType: 'Parameters' } })).body;
  }
}

/** The resources of a searchset, by mode: matches first, then includes. */
export function entries<T extends Resource = Resource>(bundle: Bundle, mode: 'match' | 'include' = 'match'): T[] {
  return (bundle.entry ?? [])
    .filter((e) => (e.search?.mode ?? 'match') === mode)
    .map((e) => e.resource as T)
    .filter(Boolean);
}

/** Every resource of a bundle by `Type/id`. */
export function byReference(bundle: Bundle): Map<string, Resource> {
  const map = new Map<string, Resource>();
  for (const e of bundle.entry ?? [])
    if (e.resource) map.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
  return map;
}
