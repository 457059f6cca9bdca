/**
 * `Measure/[id]/$evaluate-measure` (R4, GET or POST) on Hearth's own
 * measures (measures.ts): a MeasureReport of the measurement period
 * (periodStart/periodEnd, each the whole range its date implies), summary
 * (reportType `population`, or `summary`) or `subject-list` (a contained List
 * per population), optionally narrowed to a team or an organisation
 * (`subject` = CareTeam/x or Organization/x). One SQL statement counts
 * (measure-sql.ts), over only what the caller may see: a user gets the
 * aggregates of her own patients, a system client with every patient all.
 */
import type { Measure } from '@medplum/fhirtypes';
import { requireScope } from '../auth/access.ts';
import { FhirError } from '../fhir/errors.ts';
import { localTarget } from '../fhir/reference.ts';
import { operationInput, operationParameter, type HearthOperation } from '../interactions/operations.ts';
import type { FhirRequest, FhirResponse, InteractionContext } from '../interactions/types.ts';
import { dateRange } from '../search/dates.ts';
import { runMeasure } from '../store/measures.ts';
import { singleText } from '../workflow/params.ts';
import type { MeasureQuery } from './measure-facts-sql.ts';
import { measureReport } from './measure-report.ts';
import { compileMeasure } from './measure-sql.ts';
import { hearthMeasureId, measureDefinition, type MeasureId } from './measures.ts';

/** The types each measure reads (the caller's token must allow searching them), besides Patient. */
const READS: Record<MeasureId, string[]> = {
  'neighbourhood-caseload': ['EpisodeOfCare'],
  'referral-response-time': ['Task'],
  'ucr-two-hour': ['Task', 'ServiceRequest'],
  'open-overdue-tasks': ['Task'],
  'cohort-emergency-admissions': ['Group', 'Encounter'],
};
const KNOWN = new Set(['periodStart', 'periodEnd', 'reportType', 'subject']);
const SUBJECT_TYPES = ['CareTeam', 'Organization'] as const;

export const evaluateMeasureOperation: HearthOperation = {
  code: 'evaluate-measure',
  resourceType: 'Measure',
  type: false,
  instance: true,
  affectsState: false,
  title: 'Evaluate one of Hearth’s equity and outcome measures',
  description:
    'Counts the measure over the period (periodStart to periodEnd, each the whole range its date implies) and ' +
    'returns a MeasureReport: populations, measure score and strata by deprivation decile and ethnic category ' +
    '("unknown" when not recorded). Only what the caller may see is counted; no small-number suppression is ' +
    'applied. See docs/population-measures.md.',
  parameters: [
    operationParameter('periodStart', 'in', 1, '1', 'date', 'Start of the measurement period (inclusive)'),
    operationParameter('periodEnd', 'in', 1, '1', 'date', 'End of the measurement period (the end of its day)'),
    operationParameter(
      'reportType',
      'in',
      0,
      '1',
      'code',
      'population (default; MeasureReport type summary, also accepted as summary) or subject-list (a List per population)',
    ),
    operationParameter(
      'subject',
      'in',
      0,
      '1',
      'string',
      "CareTeam/[id] or Organization/[id]: only that team's or organisation's caseload and tasks",
    ),
    operationParameter('return', 'out', 1, '1', 'MeasureReport', 'The MeasureReport (status complete)'),
  ],
  scope: { type: 'Measure', permission: 'r' },
  handle: evaluateMeasure,
};

export const MEASURE_OPERATIONS: HearthOperation[] = [evaluateMeasureOperation];

async function evaluateMeasure(req: FhirRequest, ctx: InteractionContext, id?: string): Promise<FhirResponse> {
  const stored = await ctx.repo.read('Measure', id!); // 404 for an unknown Measure
  const measure = JSON.parse(stored.content!) as Measure;
  const measureId = hearthMeasureId(measure);
  if (!measureId) {
    throw new FhirError('not-supported', `Hearth evaluates only its own measures; Measure/${id} is not one of them`);
  }
  const params = readParameters(req);
  for (const type of ['Patient', ...READS[measureId], ...(params.subject ? ['EpisodeOfCare'] : [])]) {
    requireScope(ctx.access, type, 's');
  }
  if (params.subject) await checkSubject(ctx, params.subject);
  const db = await ctx.repo.queryable();
  const guard = ctx.repo.guard;
  const now = new Date();
  const query: MeasureQuery = {
    measure: measureId,
    start: params.start,
    end: params.end,
    now,
    ...(params.subject ? { subject: params.subject } : {}),
    ...(guard ? { access: await guard.filter(db) } : {}),
  };
  const subjectList = params.reportType === 'subject-list';
  const rows = await runMeasure(db, compileMeasure(query, subjectList));
  if (subjectList) guard?.noteReturned(rows.flatMap((r) => r.patients ?? []));
  const report = measureReport({
    measure,
    scoring: measureDefinition(measureId).scoring,
    rows,
    type: params.reportType,
    periodStart: params.periodStart,
    periodEnd: params.periodEnd,
    now,
    ...(params.subject ? { subject: `${params.subject.type}/${params.subject.id}` } : {}),
  });
  return { status: 200, body: report };
}

interface Parameters {
  periodStart: string;
  periodEnd: string;
  start: string;
  end: string;
  reportType: 'summary' | 'subject-list';
  subject?: MeasureQuery['subject'];
}

function readParameters(req: FhirRequest): Parameters {
  const input = operationInput(req);
  for (const p of input.parameter ?? []) {
    if (!KNOWN.has(p.name ?? '')) {
      throw new FhirError('not-supported', `$evaluate-measure: parameter "${p.name}" is not supported here`);
    }
  }
  const periodStart = required(singleText(input, 'periodStart'), 'periodStart');
  const periodEnd = required(singleText(input, 'periodEnd'), 'periodEnd');
  const start = range(periodStart, 'periodStart').lo;
  const end = range(periodEnd, 'periodEnd').hi;
  if (start > end) throw new FhirError('invalid', 'periodStart is after periodEnd');
  const type = singleText(input, 'reportType') ?? 'population';
  if (type === 'subject') {
    throw new FhirError(
      'not-supported',
      'reportType subject (one person) is not supported: use population or subject-list',
    );
  }
  if (!['population', 'summary', 'subject-list'].includes(type)) {
    throw new FhirError('invalid', `reportType must be population (or summary) or subject-list; got "${type}"`);
  }
  const reportType = type === 'subject-list' ? 'subject-list' : 'summary';
  const subjectText = singleText(input, 'subject');
  let subject: MeasureQuery['subject'];
  if (subjectText !== undefined) {
    const target = localTarget(subjectText);
    const type = SUBJECT_TYPES.find((t) => t === target?.resourceType);
    if (!target || !type || target.versionId) {
      throw new FhirError('invalid', `subject must be CareTeam/[id] or Organization/[id]; got "${subjectText}"`);
    }
    subject = { type, id: target.id };
  }
  return { periodStart, periodEnd, start, end, reportType, ...(subject ? { subject } : {}) };
}

function required(value: string | undefined, name: string): string {
  if (value === undefined) throw new FhirError('invalid', `$evaluate-measure needs ${name}`);
  return value;
}

/** The implicit range of a date parameter (a date, or a dateTime), as R4 search dates. */
function range(value: string, name: string): { lo: string; hi: string } {
  try {
    return dateRange(value);
  } catch {
    throw new FhirError('invalid', `${name} must be a date (YYYY, YYYY-MM or YYYY-MM-DD); got "${value}"`);
  }
}

/** The subject must exist and be visible to the caller (a 400 otherwise: it is a bad parameter, not a bad target). */
async function checkSubject(ctx: InteractionContext, subject: NonNullable<MeasureQuery['subject']>): Promise<void> {
  try {
    await ctx.repo.read(subject.type, subject.id);
  } catch (error) {
    if (error instanceof FhirError && ['not-found', 'deleted', 'forbidden'].includes(error.category)) {
      throw new FhirError('invalid', `subject ${subject.type}/${subject.id} is not known`);
    }
    throw error;
  }
}
