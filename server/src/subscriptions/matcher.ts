/**
 * Which subscriptions a change is an event for (pure, at the time of the
 * write): a topic subscription when its topic triggers and every filter
 * matches; an R4 criteria subscription when the new version matches its
 * criteria (R4: created or updated resources only, never a delete); none
 * after the subscription's end.
 */
import { matchesSearchRequest } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import type { SubscriptionSpec } from './spec.ts';
import type { Change } from './topics.ts';

export function isEvent(spec: SubscriptionSpec, change: Change, now = Date.now()): boolean {
  // Past Subscription.end it is over (R4: "the time for the server to turn the subscription off").
  if (spec.endsAt !== undefined && now >= spec.endsAt) return false;
  const resource = change.current ?? change.previous;
  if (!resource || resource.resourceType !== spec.resourceType) return false;
  if (!spec.topic) {
    return change.interaction !== 'delete' && spec.filters.every((f) => matches(change.current!, f));
  }
  if (!spec.topic.trigger(change)) return false;
  // A delete is judged on what was deleted.
  return spec.filters.every((f) => matches(resource, f));
}

function matches(resource: Resource, filter: Parameters<typeof matchesSearchRequest>[1]): boolean {
  try {
    return matchesSearchRequest(resource, filter);
  } catch {
    return false;
  }
}
