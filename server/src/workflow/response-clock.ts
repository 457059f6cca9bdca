/**
 * Response clocks (DESIGN.md "urgent community response within 2 hours"): how
 * long a receiving service has to respond to a referral, from its category
 * and priority, as pure rules. HEARTH_RESPONSE_CLOCKS (JSON) sets durations
 * for every service ("default") and per service (by the Task owner's
 * reference), each keyed by a referral category code (HearthReferralCategory)
 * or a priority (routine | urgent | asap | stat), valued by an ISO 8601
 * duration ("PT2H", "P3D", "P1W"):
 *
 *   {"default": {"routine": "P7D"}, "Organization/lcn": {"step-up": "PT4H"}}
 *
 * A category decides before a priority (urgent community response is two
 * hours whatever the priority), a service's own setting before the default's:
 * service category, default category, service priority, default priority.
 * With several categories the shortest applies; no priority counts as routine.
 */

export const PRIORITIES = ['routine', 'urgent', 'asap', 'stat'] as const;

/** HearthReferralCategory's codes (fhir-profiles/input/fsh/terminology.fsh; a unit test keeps them equal). */
export const REFERRAL_CATEGORIES = [
  'urgent-community-response',
  'step-up',
  'step-down',
  'mdt-review',
  'social-prescribing',
  'community-nursing',
  'therapy',
  'mental-health',
  'social-care',
  'voluntary-sector',
] as const;

export const REFERRAL_CATEGORY_SYSTEM = 'https://hearth.example/fhir/CodeSystem/referral-category';

/** Durations in ms by category code or priority. */
export type ClockTable = Readonly<Record<string, number>>;

export interface ResponseClocks {
  default: ClockTable;
  /** By owner reference (Type/id). */
  services: Readonly<Record<string, ClockTable>>;
}

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/** The built-in clocks, which HEARTH_RESPONSE_CLOCKS's "default" adds to or overrides. */
export const DEFAULT_CLOCKS: ClockTable = {
  'urgent-community-response': 2 * HOUR,
  stat: 2 * HOUR,
  urgent: 24 * HOUR,
  asap: 3 * DAY,
  routine: 14 * DAY,
};

const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** An ISO 8601 duration (weeks, days, hours, minutes, seconds; a day is 24 hours) in ms. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) throw new Error(`"${text}" is not an ISO 8601 duration such as PT2H`);
  const [, w, d, h, mi, s] = m.map((x) => Number(x ?? 0));
  const ms = w * 7 * DAY + d * DAY + h * HOUR + mi * 60_000 + Math.round(s * 1000);
  if (ms <= 0) throw new Error(`"${text}" is not a positive duration`);
  return ms;
}

const KEYS = new Set<string>([...PRIORITIES, ...REFERRAL_CATEGORIES]);
const SERVICE = /^(Organization|HealthcareService|PractitionerRole|CareTeam)\/[A-Za-z0-9\-.]{1,64}$/;

/** HEARTH_RESPONSE_CLOCKS parsed and checked (an Error says what is wrong); undefined or empty: the built-in clocks. */
export function parseResponseClocks(json: string | undefined): ResponseClocks {
  if (!json?.trim()) return { default: DEFAULT_CLOCKS, services: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('it is not JSON');
  }
  if (!isObject(raw)) throw new Error('it must be a JSON object of "default" and service references');
  const services: Record<string, ClockTable> = {};
  let defaults: ClockTable = DEFAULT_CLOCKS;
  for (const [key, value] of Object.entries(raw)) {
    if (key !== 'default' && !SERVICE.test(key)) {
      throw new Error(`"${key}" is neither "default" nor a service reference such as Organization/id`);
    }
    const table = clockTable(key, value);
    if (key === 'default') defaults = { ...DEFAULT_CLOCKS, ...table };
    else services[key] = table;
  }
  return { default: defaults, services };
}

function clockTable(where: string, value: unknown): ClockTable {
  if (!isObject(value)) throw new Error(`"${where}" must be an object of durations`);
  const table: Record<string, number> = {};
  for (const [key, duration] of Object.entries(value)) {
    if (!KEYS.has(key)) {
      throw new Error(`"${where}": "${key}" is neither a priority (${PRIORITIES.join(', ')}) nor a referral category`);
    }
    if (typeof duration !== 'string') throw new Error(`"${where}": "${key}" must be a duration such as "PT2H"`);
    try {
      table[key] = parseDuration(duration);
    } catch (error) {
      throw new Error(`"${where}": "${key}": ${(error as Error).message}`);
    }
  }
  return table;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface ClockInput {
  /** When the clock starts (the Task's authoredOn). */
  start: string;
  priority?: string;
  /** Referral category codes (of the ServiceRequest). */
  categories: readonly string[];
  /** The receiving service: the Task owner's Type/id. */
  owner?: string;
}

export interface ClockResult {
  /** The deadline (ISO instant). */
  end: string;
  /** What set it: the category or priority key, and whose table ("default" or the service). */
  basis: { key: string; table: string };
}

/** The response deadline of a referral, by the rules above. */
export function responseDeadline(input: ClockInput, clocks: ResponseClocks): ClockResult {
  const service = input.owner ? clocks.services[input.owner] : undefined;
  const tables: [string, ClockTable | undefined][] = [
    [input.owner ?? '', service],
    ['default', clocks.default],
  ];
  const pick = (keys: readonly string[]): (ClockResult['basis'] & { ms: number }) | undefined => {
    for (const [table, values] of tables) {
      const found = keys
        .filter((k) => values?.[k] !== undefined)
        .map((key) => ({ key, table, ms: values![key] }))
        .sort((a, b) => a.ms - b.ms)[0];
      if (found) return found;
    }
    return undefined;
  };
  const priority =
    input.priority && (PRIORITIES as readonly string[]).includes(input.priority) ? input.priority : 'routine';
  const chosen = pick(input.categories) ??
    pick([priority]) ?? { key: 'routine', table: 'default', ms: DEFAULT_CLOCKS.routine };
  const end = new Date(Date.parse(input.start) + chosen.ms).toISOString();
  return { end, basis: { key: chosen.key, table: chosen.table } };
}
