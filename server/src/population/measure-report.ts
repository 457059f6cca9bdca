/**
 * The MeasureReport of an evaluation (pure): populations and strata from the
 * counting rows (store/measures.ts), the measure score by the measure's
 * scoring (cohort: the count; proportion: numerator / (denominator −
 * exclusions); ratio: numerator per 1,000 of the denominator;
 * continuous-variable: the median, the mean in an extension), and for a
 * subject list a contained List per population.
 */
import type {
  CodeableConcept,
  List,
  Measure,
  MeasureReport,
  MeasureReportGroup,
  MeasureReportGroupPopulation,
  MeasureReportGroupStratifierStratum,
  Quantity,
  Reference,
} from '@medplum/fhirtypes';
import type { MeasureRow } from '../store/measures.ts';
import { ETHNIC_CATEGORIES, ETHNIC_CATEGORY_SYSTEM } from './codes.ts';
import { STRATIFIERS, type Scoring } from './measures.ts';
import { UNKNOWN } from './measure-sql.ts';

export const MEAN_EXTENSION = 'https://hearth.example/fhir/StructureDefinition/measure-mean';
export const REPORT_SUBJECT_EXTENSION = 'https://hearth.example/fhir/StructureDefinition/measure-report-subject';
const UCUM = 'http://unitsofmeasure.org';
const DATA_ABSENT = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';

export interface ReportInput {
  measure: Measure;
  scoring: Scoring;
  rows: MeasureRow[];
  type: 'summary' | 'subject-list';
  periodStart: string;
  periodEnd: string;
  now: Date;
  subject?: string;
}

export function measureReport(input: ReportInput): MeasureReport {
  const contained: List[] = [];
  const groups = (input.measure.group ?? []).map((g): MeasureReportGroup => {
    const grp = g.id!;
    const codes = (g.population ?? []).map((p) => p.code!.coding![0].code!);
    const rows = input.rows.filter((r) => r.grp === grp);
    const overall = rows.filter((r) => r.stratifier === null);
    const population = codes.map((code): MeasureReportGroupPopulation => {
      const row = overall.find((r) => r.population === code);
      const out: MeasureReportGroupPopulation = {
        code: g.population!.find((p) => sameCode(p.code, code))!.code,
        count: row?.count ?? 0,
      };
      if (input.type === 'subject-list') {
        const id = `${grp}-${code}`;
        contained.push(subjectList(id, `${g.description ?? grp}: ${code}`, row?.items ?? []));
        out.subjectResults = { reference: `#${id}` };
      }
      return out;
    });
    const stratifier = STRATIFIERS.map((code, i) => ({
      code: [g.stratifier![i].code!],
      stratum: strataOf(
        rows.filter((r) => r.stratifier === code),
        code,
      ).map(([value, strataRows]): MeasureReportGroupStratifierStratum => ({
        value: stratumValue(code, value),
        population: codes.map((c) => ({
          code: g.population!.find((p) => sameCode(p.code, c))!.code,
          count: strataRows.find((r) => r.population === c)?.count ?? 0,
        })),
        ...scored(input.scoring, strataRows),
      })),
    }));
    return {
      id: grp,
      ...(g.description ? { code: { text: g.description } } : {}),
      population,
      ...scored(input.scoring, overall),
      stratifier,
    };
  });
  return {
    resourceType: 'MeasureReport',
    ...(contained.length ? { contained } : {}),
    ...(input.subject
      ? { extension: [{ url: REPORT_SUBJECT_EXTENSION, valueReference: { reference: input.subject } }] }
      : {}),
    status: 'complete',
    type: input.type,
    measure: input.measure.url!,
    date: input.now.toISOString(),
    period: { start: input.periodStart, end: input.periodEnd },
    ...(input.measure.improvementNotation ? { improvementNotation: input.measure.improvementNotation } : {}),
    group: groups,
  };
}

function sameCode(concept: CodeableConcept | undefined, code: string): boolean {
  return concept?.coding?.[0]?.code === code;
}

function count(rows: MeasureRow[], population: string): number {
  return rows.find((r) => r.population === population)?.count ?? 0;
}

const round = (n: number) => Math.round(n * 10_000) / 10_000;

/** measureScore (and the mean of a continuous variable) of some rows of one group (overall or one stratum). */
function scored(scoring: Scoring, rows: MeasureRow[]): Pick<MeasureReportGroup, 'measureScore' | 'extension'> {
  const quantity = (value: number, unit?: string, code?: string): Quantity => ({
    value: round(value),
    ...(unit ? { unit, system: UCUM, code: code ?? unit } : {}),
  });
  switch (scoring) {
    case 'cohort':
      return { measureScore: quantity(count(rows, 'initial-population')) };
    case 'proportion': {
      const denominator = count(rows, 'denominator') - count(rows, 'denominator-exclusion');
      return denominator > 0 ? { measureScore: quantity(count(rows, 'numerator') / denominator, '1') } : {};
    }
    case 'ratio': {
      const denominator = count(rows, 'denominator');
      if (denominator === 0) return {};
      return { measureScore: quantity((count(rows, 'numerator') * 1000) / denominator, 'per 1,000', '/10*3') };
    }
    case 'continuous-variable': {
      const observed = rows.find((r) => r.population === 'measure-observation');
      if (!observed || observed.median === null || observed.mean === null) return {};
      return {
        measureScore: quantity(observed.median, 'h'),
        extension: [{ url: MEAN_EXTENSION, valueQuantity: quantity(observed.mean, 'h') }],
      };
    }
  }
}

/** The strata present, in order: deciles 1–10 or categories A–Z, then unknown. */
function strataOf(rows: MeasureRow[], stratifier: string): [string, MeasureRow[]][] {
  const values = [...new Set(rows.map((r) => r.stratum!))];
  const rank = (v: string) => (v === UNKNOWN ? Infinity : stratifier === 'deprivation-decile' ? Number(v) : 0);
  values.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return values.map((v) => [v, rows.filter((r) => r.stratum === v)]);
}

function stratumValue(stratifier: string, value: string): CodeableConcept {
  if (value === UNKNOWN)
    return { coding: [{ system: DATA_ABSENT, code: 'unknown', display: 'Unknown' }], text: UNKNOWN };
  if (stratifier === 'ethnicity') {
    const display = ETHNIC_CATEGORIES[value];
    return { coding: [{ system: ETHNIC_CATEGORY_SYSTEM, code: value, ...(display ? { display } : {}) }], text: value };
  }
  return { text: value };
}

function subjectList(id: string, title: string, items: string[]): List {
  const entry = [...items].sort().map((reference) => ({ item: { reference } as Reference }));
  return { resourceType: 'List', id, status: 'current', mode: 'snapshot', title, ...(entry.length ? { entry } : {}) };
}
