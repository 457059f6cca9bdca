/** Server-owned parts of a stored version: id and meta.versionId/lastUpdated, and its JSON text. */
import type { Resource } from '@medplum/fhirtypes';

export function stamp<T extends Resource>(resource: T, id: string, versionId: number, lastUpdated: string): T {
  const { resourceType, id: _ignoredId, meta, ...rest } = resource;
  void _ignoredId;
  const { versionId: _v, lastUpdated: _l, ...clientMeta } = meta ?? {};
  void _v;
  void _l;
  return {
    resourceType,
    id,
    meta: { ...clientMeta, versionId: String(versionId), lastUpdated },
    ...rest,
  } as T;
}
