/** Parsing of FHIR reference strings (R4 references.html). */

export interface ReferenceTarget {
  resourceType: string;
  id: string;
  versionId?: string;
}

const LITERAL = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

/** Type and id of a literal reference (relative, versioned or absolute); undefined otherwise. */
export function parseReferenceTarget(reference: string): ReferenceTarget | undefined {
  if (reference.startsWith('#') || reference.startsWith('urn:')) return undefined;
  const m = LITERAL.exec(reference);
  if (!m) return undefined;
  return m[3] ? { resourceType: m[1], id: m[2], versionId: m[3] } : { resourceType: m[1], id: m[2] };
}

/** Whether a reference is an absolute URL (it starts with a scheme such as http: or urn:). */
export function hasScheme(reference: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(reference);
}

/** Type and id of a reference into this server: a relative literal one (an absolute URL matches only by its text). */
export function localTarget(reference: string): ReferenceTarget | undefined {
  return hasScheme(reference) ? undefined : parseReferenceTarget(reference);
}

/** `Type/id` of a relative literal reference into this server (how parties are named); undefined otherwise. */
export function localKey(reference: string | undefined): string | undefined {
  const target = reference ? localTarget(reference) : undefined;
  return target && `${target.resourceType}/${target.id}`;
}

/** A URL under this server's base made relative to it (`[base]/Patient/1` -> `Patient/1`); others as given. */
export function underBase(url: string, baseUrl: string): string {
  return url.startsWith(`${baseUrl}/`) ? url.slice(baseUrl.length + 1) : url;
}

/** FHIR id: 1–64 of A–Z, a–z, 0–9, '-' and '.'. */
export const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;
