/**
 * Searchset and history Bundles. Entries whose resource is stored JSON text are
 * spliced in as text, so a page is never parsed and re-serialised.
 */
import type { BundleLink } from '@medplum/fhirtypes';

export interface RawEntry {
  fullUrl?: string;
  /** Stored JSON text of the resource, if any. */
  resource?: string;
  /** Other entry members (search, request, response) as objects. */
  [member: string]: unknown;
}

export function rawBundle(
  type: 'searchset' | 'history',
  entries: RawEntry[],
  links: BundleLink[],
  total?: number,
): string {
  const head: Record<string, unknown> = { resourceType: 'Bundle', type };
  if (total !== undefined) head.total = total;
  head.link = links;
  const entryTexts = entries.map((entry) => {
    const { resource, ...rest } = entry;
    const members = JSON.stringify(rest);
    if (resource === undefined) return members;
    return members === '{}' ? `{"resource":${resource}}` : `${members.slice(0, -1)},"resource":${resource}}`;
  });
  const headText = JSON.stringify(head);
  return entries.length ? `${headText.slice(0, -1)},"entry":[${entryTexts.join(',')}]}` : headText;
}

export function link(relation: string, url: string): BundleLink {
  return { relation, url };
}
