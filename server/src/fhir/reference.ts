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

/** FHIR id: 1–64 of A–Z, a–z, 0–9, '-' and '.'. */
export const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;
