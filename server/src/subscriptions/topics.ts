/**
 * The SubscriptionTopics Hearth publishes (Subscriptions R5 Backport IG on
 * R4): the neighbourhood events a partner can subscribe to, each a trigger on
 * one resource type, judged on the version before and after a change (pure),
 * and the search parameters its subscriptions may filter on.
 */
import type { Basic, Group, Resource, Task } from '@medplum/fhirtypes';

export const TOPIC_BASE = 'https://hearth.example/fhir/SubscriptionTopic/';
const TASK_CODE = 'http://hl7.org/fhir/CodeSystem/task-code';
const TRIAGE = 'https://hearth.example/fhir/CodeSystem/triage-outcome';
/** Set on an open Task when its response or due time has passed (the response clock, workflow). */
export const TASK_BREACH_EXTENSION = 'https://hearth.example/fhir/StructureDefinition/task-breach';

export type Interaction = 'create' | 'update' | 'delete';

export interface Change {
  interaction: Interaction;
  /** The version before the change (none for a create). */
  previous?: Resource;
  /** The version after the change (none for a delete). */
  current?: Resource;
  /**
   * A team's caseload row this change is (caseload-changed): then previous/current are the row's EpisodeOfCare
   * with `team` narrowed to the row's team. None for a resource write.
   */
  caseloadRow?: { team: string; episode: string; patient: string; kind: 'added' | 'changed' | 'removed' };
}

export interface Topic {
  url: string;
  title: string;
  description: string;
  resourceType: string;
  /** Search parameters of resourceType a subscription may filter on. */
  filters: string[];
  /** The interactions that can trigger it (as published). */
  interactions: Interaction[];
  /**
   * What it is judged on: each resource write (default), or each team caseload row a write transaction changes
   * (workflow/caseload-summary.ts finds them; subscriptions/caseload-events.ts numbers the events).
   */
  source?: 'write' | 'caseload-row';
  trigger: (change: Change) => boolean;
}

const isReferralTask = (r: Resource | undefined): r is Task =>
  r?.resourceType === 'Task' && !!r.code?.coding?.some((c) => c.system === TASK_CODE && c.code === 'fulfill');
const triageState = (t: Task | undefined) => t?.businessStatus?.coding?.find((c) => c.system === TRIAGE)?.code;
const ownerOf = (t: Resource | undefined) => (t as Task | undefined)?.owner?.reference;
const statusOf = (t: Resource | undefined) => (t as Task | undefined)?.status;
const hasBreach = (t: Resource | undefined) =>
  !!(t as Task | undefined)?.extension?.some((e) => e.url === TASK_BREACH_EXTENSION);
/** The current members of a Group (entity references of entries neither inactive nor ended), sorted. */
export function currentMemberRefs(group: Resource | undefined): string[] {
  const refs = new Set<string>();
  for (const m of (group as Group | undefined)?.member ?? []) {
    if (!m.inactive && !m.period?.end && m.entity?.reference) refs.add(m.entity.reference);
  }
  return [...refs].sort();
}
const sameMembers = (a: string[], b: string[]) => a.length === b.length && a.every((r, i) => r === b[i]);

const OPEN = new Set(['requested', 'received', 'accepted', 'ready', 'in-progress', 'on-hold']);
const TRIAGED = new Set(['accepted', 'redirected', 'declined', 'awaiting-information']);

const TASK_FILTERS = ['owner', 'requester', 'patient', 'status', 'priority', 'focus', 'code', 'business-status'];

export const TOPICS: readonly Topic[] = [
  {
    url: `${TOPIC_BASE}referral-received`,
    interactions: ['create'],
    title: 'Referral received',
    description: 'A referral fulfilment Task (code fulfill) is created for a team or service.',
    resourceType: 'Task',
    filters: TASK_FILTERS,
    trigger: ({ interaction, current }) => interaction === 'create' && isReferralTask(current),
  },
  {
    url: `${TOPIC_BASE}referral-triaged`,
    interactions: ['update'],
    title: 'Referral triaged',
    description:
      "A referral fulfilment Task's triage state becomes accepted, redirected, declined or awaiting-information " +
      '(business-status says which).',
    resourceType: 'Task',
    filters: TASK_FILTERS,
    trigger: ({ previous, current }) => {
      if (!isReferralTask(current)) return false;
      const state = triageState(current);
      return !!state && TRIAGED.has(state) && state !== triageState(previous as Task | undefined);
    },
  },
  {
    url: `${TOPIC_BASE}task-assigned`,
    interactions: ['create', 'update'],
    title: 'Task assigned',
    description: 'A Task is created with an owner, or its owner changes.',
    resourceType: 'Task',
    filters: TASK_FILTERS,
    trigger: ({ previous, current }) => !!ownerOf(current) && ownerOf(current) !== ownerOf(previous),
  },
  {
    url: `${TOPIC_BASE}task-overdue`,
    interactions: ['update'],
    title: 'Task overdue',
    description: `An open Task passes its response or due time (the response clock marks it with ${TASK_BREACH_EXTENSION}).`,
    resourceType: 'Task',
    filters: TASK_FILTERS,
    trigger: ({ previous, current }) => OPEN.has(statusOf(current) ?? '') && hasBreach(current) && !hasBreach(previous),
  },
  {
    url: `${TOPIC_BASE}task-completed`,
    interactions: ['create', 'update'],
    title: 'Task completed',
    description: 'A Task becomes completed.',
    resourceType: 'Task',
    filters: TASK_FILTERS,
    trigger: ({ previous, current }) => statusOf(current) === 'completed' && statusOf(previous) !== 'completed',
  },
  {
    url: `${TOPIC_BASE}care-plan-changed`,
    interactions: ['create', 'update', 'delete'],
    title: 'Care plan changed',
    description: 'A CarePlan is created, updated or deleted.',
    resourceType: 'CarePlan',
    filters: ['patient', 'status', 'category', 'care-team', 'intent'],
    trigger: () => true,
  },
  {
    url: `${TOPIC_BASE}communication-posted`,
    interactions: ['create'],
    title: 'Communication posted',
    description: 'A Communication (a message in a conversation about a person) is created.',
    resourceType: 'Communication',
    filters: ['patient', 'recipient', 'sender', 'about', 'in-response-to', 'category'],
    trigger: ({ interaction }) => interaction === 'create',
  },
  {
    url: `${TOPIC_BASE}caseload-changed`,
    interactions: ['create', 'update', 'delete'],
    title: 'Caseload changed',
    description:
      "A team's caseload row (a person on an active EpisodeOfCare of the team: coordinator, open tasks, next due, " +
      'last contact, care plan, latest risk) is added, changes or is removed, or its EpisodeOfCare is written: ' +
      'one event per row and write transaction, whatever resources changed it. The focus is the EpisodeOfCare; ' +
      "the team filter matches the row's team.",
    resourceType: 'EpisodeOfCare',
    filters: ['team', 'organization', 'care-manager', 'patient', 'status'],
    source: 'caseload-row',
    trigger: ({ caseloadRow }) => !!caseloadRow,
  },
  {
    url: `${TOPIC_BASE}population-group-changed`,
    interactions: ['create', 'update', 'delete'],
    title: 'Population group membership changed',
    description:
      'The current members of a Group (a population segment or the complex-needs cohort) change: someone joins ' +
      '(a member entry with period.start) or leaves (the entry closed with period.end and inactive). The focus is ' +
      'the Group version that says who and when.',
    resourceType: 'Group',
    filters: ['_id', 'code', 'type', 'managing-entity'],
    trigger: ({ previous, current }) => !sameMembers(currentMemberRefs(previous), currentMemberRefs(current)),
  },
];

export function topicByUrl(url: string): Topic | undefined {
  return TOPICS.find((t) => t.url === url);
}

const R5 = 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.';

/**
 * The topics as R4 resources, the Backport IG's way (a Basic with code
 * SubscriptionTopic and the R5 cross-version extensions): installed at start,
 * so `GET Basic?code=http://hl7.org/fhir/fhir-types|SubscriptionTopic` lists
 * them with what each is about and can be filtered by.
 */
export function topicResources(): Basic[] {
  return TOPICS.map((topic) => {
    const id = topic.url.slice(TOPIC_BASE.length);
    return {
      resourceType: 'Basic',
      id: `subscription-topic-${id}`,
      meta: { profile: ['http://hl7.org/fhir/5.0/StructureDefinition/profile-SubscriptionTopic'] },
      code: { coding: [{ system: 'http://hl7.org/fhir/fhir-types', code: 'SubscriptionTopic' }] },
      extension: [
        { url: 'http://hl7.org/fhir/StructureDefinition/artifact-url', valueUri: topic.url },
        { url: `${R5}name`, valueString: id.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()) },
        { url: `${R5}title`, valueString: topic.title },
        { url: `${R5}status`, valueCode: 'active' },
        { url: `${R5}description`, valueMarkdown: topic.description },
        {
          url: `${R5}resourceTrigger`,
          extension: [
            { url: 'description', valueMarkdown: topic.description },
            { url: 'resource', valueUri: `http://hl7.org/fhir/StructureDefinition/${topic.resourceType}` },
            ...topic.interactions.map((code) => ({ url: 'supportedInteraction', valueCode: code })),
          ],
        },
        ...topic.filters.map((parameter) => ({
          url: `${R5}canFilterBy`,
          extension: [
            { url: 'resource', valueUri: topic.resourceType },
            { url: 'filterParameter', valueString: parameter },
          ],
        })),
      ],
    };
  });
}
