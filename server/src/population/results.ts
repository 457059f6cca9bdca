/**
 * The FHIR resources a person's stratification writes (pure): the eFI
 * Observation (SNOMED 713636003) and the RiskAssessment, each with an id
 * derived from the patient's, so re-stratifying makes a new version of the
 * same resource (history kept). Both carry the tag that marks Hearth's own
 * stratification output (the queue does not re-stratify on them).
 */
import { createHash } from 'node:crypto';
import type { Observation, Patient, Reference, Resource, RiskAssessment } from '@medplum/fhirtypes';
import { FRAILTY_CATEGORY_CODES, FRAILTY_INDEX_SCORE_CODE, SNOMED } from './codes.ts';
import type { PersonEvidence } from './evidence.ts';
import { MAX_SCORE, MODEL_CODE, MODEL_VERSION, type RiskResult } from './risk-model.ts';
import type { Segment } from './segments.ts';

export const HEARTH_CS = 'https://hearth.example/fhir/CodeSystem/';
export const MODEL_SYSTEM = `${HEARTH_CS}risk-model`;
export const POPULATION_GROUP_SYSTEM = `${HEARTH_CS}population-group`;
export const STRATIFICATION_TAG = { system: `${HEARTH_CS}hearth-output`, code: 'stratification' };
export const RISK_SCORE_EXTENSION = 'https://hearth.example/fhir/StructureDefinition/risk-score';
export const SEGMENT_EXTENSION = 'https://hearth.example/fhir/StructureDefinition/population-segment';
const RISK_PROBABILITY = 'http://terminology.hl7.org/CodeSystem/risk-probability';
const RISK_DISPLAY = { low: 'Low likelihood', moderate: 'Moderate likelihood', high: 'High likelihood' } as const;

/** `prefix-<patient id>`, or `prefix-<hash>` when that would pass FHIR's 64-character id limit. */
export function derivedId(prefix: string, patientId: string): string {
  const id = `${prefix}-${patientId}`;
  if (id.length <= 64) return id;
  return `${prefix}-${createHash('sha256').update(patientId).digest('hex').slice(0, 40)}`;
}

export const efiObservationId = (patientId: string) => derivedId('efi', patientId);
export const riskAssessmentId = (patientId: string) => derivedId('risk', patientId);

const ref = <T extends Resource = Resource>(reference: string): Reference<T> => ({ reference }) as Reference<T>;

/** The eFI Observation: derivedFrom holds the Observations among the evidence (R4 allows no Condition there). */
export function efiObservation(e: PersonEvidence, result: RiskResult, now: string): Observation {
  const evidence = [...new Set([...e.deficits.values()].flat())].sort();
  const observations = evidence.filter((r) => r.startsWith('Observation/'));
  const category = result.band === 'fit' ? undefined : FRAILTY_CATEGORY_CODES[result.band];
  return {
    resourceType: 'Observation',
    id: efiObservationId(e.patientId),
    meta: { tag: [STRATIFICATION_TAG] },
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'survey' }] }],
    code: { coding: [{ system: SNOMED, code: FRAILTY_INDEX_SCORE_CODE, display: 'Frailty index score' }] },
    subject: ref<Patient>(`Patient/${e.patientId}`),
    effectiveDateTime: now,
    issued: now,
    valueQuantity: { value: round(result.efi), unit: 'score', system: 'http://unitsofmeasure.org', code: '1' },
    method: {
      coding: [{ system: MODEL_SYSTEM, code: 'efi', version: '1' }],
      text: 'Electronic Frailty Index (Clegg et al. 2016): distinct deficits present / 36',
    },
    component: [
      {
        code: { text: 'eFI category' },
        valueCodeableConcept: category
          ? { coding: [{ system: SNOMED, code: category, display: `${cap(result.band)} frailty` }] }
          : { text: 'Fit' },
      },
      {
        code: { text: 'Deficits present' },
        valueQuantity: { value: result.deficitCount, unit: 'deficits', system: 'http://unitsofmeasure.org', code: '1' },
      },
    ],
    note: [{ text: `Deficits: ${[...e.deficits.keys()].sort().join(', ') || 'none'}` }],
    ...(observations.length ? { derivedFrom: observations.map((o) => ref<Observation>(o)) } : {}),
  };
}

/** The RiskAssessment: method = the model and its version, basis = the evidence, reasons as notes. */
export function riskAssessment(e: PersonEvidence, result: RiskResult, segment: Segment, now: string): RiskAssessment {
  const evidence = [
    `Observation/${efiObservationId(e.patientId)}`,
    ...new Set([
      ...[...e.deficits.values()].flat(),
      ...e.emergencyAdmissions,
      ...e.aeAttendances,
      ...[...e.social.values()].flat(),
    ]),
  ];
  const end = new Date(Date.parse(now) + 365 * 86_400_000).toISOString();
  return {
    resourceType: 'RiskAssessment',
    id: riskAssessmentId(e.patientId),
    meta: { tag: [STRATIFICATION_TAG] },
    extension: [
      { url: RISK_SCORE_EXTENSION, valueInteger: result.score },
      {
        url: SEGMENT_EXTENSION,
        valueCoding: { system: POPULATION_GROUP_SYSTEM, code: `segment-${segment.key}`, display: segment.name },
      },
    ],
    status: 'final',
    code: { text: 'Neighbourhood risk stratification' },
    subject: ref<Patient>(`Patient/${e.patientId}`),
    occurrenceDateTime: now,
    method: {
      coding: [{ system: MODEL_SYSTEM, code: MODEL_CODE, version: MODEL_VERSION, display: 'Hearth risk model' }],
      text: `Hearth neighbourhood risk model v${MODEL_VERSION} (docs/population-stratify.md)`,
    },
    basis: evidence.map(ref),
    prediction: [
      {
        outcome: { text: 'Emergency admission or escalating care need' },
        qualitativeRisk: {
          coding: [{ system: RISK_PROBABILITY, code: result.risk, display: RISK_DISPLAY[result.risk] }],
        },
        whenPeriod: { start: now, end },
        rationale: `Score ${result.score} of ${MAX_SCORE}; segment: ${segment.name}`,
      },
    ],
    note: (result.reasons.length ? result.reasons : ['+0 no risk factor recorded']).map((text) => ({ text })),
  };
}

const round = (n: number) => Math.round(n * 10_000) / 10_000;
const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
