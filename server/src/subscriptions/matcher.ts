/**
 * Which subscriptions a change is an event for (pure, at the time of the
 * write): a topic subscription when its topic triggers and every filter
 * matches; an R4 criteria subscription when the new version matches its
 * criteria (R4: created or updated resources only, never a delete); none
 * after the subscription's end. A caseload-row topic (caseload-changed) is
 * judged on the team caseload rows a transaction changed, never on a write.
 *
 * Many subscriptions filter one resource on the same parameters (each team
 * on `owner`): a plain reference or token equality is decided on the
 * parameter's values, evaluated once per change (Values); anything else goes
 * to @medplum/core's matcher.
 */
import { evalFhirPath, getSearchParameter, matchesSearchRequest, Operator, type Filter } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { SubscriptionSpec } from './spec.ts';
import type { Change } from './topics.ts';

/** The values of search parameters on one resource, each evaluated once. */
export class Values {
  private readonly cache = new Map<string, unknown[]>();

  constructor(readonly resource: Resource) {}

  of(code: string, expression: string): unknown[] {
    let values = this.cache.get(code);
    if (!values) {
      values = evalFhirPath(expression, this.resource);
      this.cache.set(code, values);
    }
    return values;
  }
}

export function isEvent(spec: SubscriptionSpec, change: Change, now = Date.now(), values?: Values): boolean {
  // Past Subscription.end it is over (R4: "the time for the server to turn the subscription off").
  if (spec.endsAt !== undefined && now >= spec.endsAt) return false;
  const resource = change.current ?? change.previous;
  if (!resource || resource.resourceType !== spec.resourceType) return false;
  // A caseload row is an event for caseload-row topics only; a resource write for every other subscription.
  if (!!change.caseloadRow !== (spec.topic?.source === 'caseload-row')) return false;
  if (!spec.topic) {
    if (change.interaction === 'delete') return false;
  } else if (!spec.topic.trigger(change)) {
    return false;
  }
  // A delete is judged on what was deleted.
  const judged = values?.resource === resource ? values : new Values(resource);
  return spec.filters.every((request) =>
    (request.filters ?? []).every((f) => matches(judged, request.resourceType, f)),
  );
}

function matches(values: Values, resourceType: string, filter: Filter): boolean {
  const quick = equality(values, resourceType, filter);
  if (quick !== undefined) return quick;
  try {
    return matchesSearchRequest(values.resource, {
      resourceType: resourceType as Resource['resourceType'],
      filters: [filter],
    });
  } catch {
    return false;
  }
}

/** A plain `param=a,b` on a reference or token parameter, decided on the evaluated values; undefined otherwise. */
function equality(values: Values, resourceType: string, filter: Filter): boolean | undefined {
  if (filter.operator !== Operator.EQUALS) return undefined;
  const sp = getSearchParameter(resourceType, filter.code);
  if (!sp?.expression || (sp.type !== 'reference' && sp.type !== 'token')) return undefined;
  const wanted = filter.value.split(',');
  const found = values.of(filter.code, sp.expression);
  if (sp.type === 'reference') {
    const refs: string[] = [];
    for (const v of found) {
      const reference = (v as { reference?: unknown }).reference;
      if (typeof reference !== 'string') return undefined;
      refs.push(reference);
    }
    return refs.some((r) => wanted.some((w) => r === w || r.endsWith(`/${w}`)));
  }
  // token: a code (string), Coding or CodeableConcept; `system|code`, `|code` or `code` wanted.
  const codings: { system?: string; code?: string }[] = [];
  for (const v of found) {
    if (typeof v === 'string') codings.push({ code: v });
    else if (v && typeof v === 'object' && 'coding' in v) codings.push(...((v as { coding?: [] }).coding ?? []));
    else if (v && typeof v === 'object' && 'code' in v && !('value' in v)) codings.push(v as { code?: string });
    else return undefined;
  }
  return wanted.some((w) => {
    const bar = w.indexOf('|');
    const [system, code] = bar < 0 ? [undefined, w] : [w.slice(0, bar), w.slice(bar + 1)];
    return codings.some((c) => c.code === code && (system === undefined || (c.system ?? '') === system));
  });
}
