/** Small builders for the generated resources (plain JSON: what the loader sends is what the generator made). */
export type Json = Record<string, unknown>;
export interface GeneratedResource extends Json {
  resourceType: string;
  id: string;
}

export const HEARTH = 'https://hearth.example/fhir';
export const profile = (name: string) => ({ profile: [`${HEARTH}/StructureDefinition/${name}`] });
export const ref = (reference: string) => ({ reference });
export const coding = (system: string, code: string, display?: string) => ({
  system,
  code,
  ...(display ? { display } : {}),
});
export const concept = (system: string, code: string, display?: string) => ({
  coding: [coding(system, code, display)],
});

export const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
export const CARE_TEAM_ROLE = `${HEARTH}/CodeSystem/care-team-role`;
export const REFERRAL_CATEGORY = `${HEARTH}/CodeSystem/referral-category`;
export const TRIAGE_OUTCOME = `${HEARTH}/CodeSystem/triage-outcome`;
export const TASK_CATEGORY = `${HEARTH}/CodeSystem/task-category`;
export const TASK_CATEGORY_EXTENSION = `${HEARTH}/StructureDefinition/task-category`;
export const HL7_ORGANIZATION_TYPE = 'http://terminology.hl7.org/CodeSystem/organization-type';

export const DAY_MS = 86_400_000;

/** An ISO instant `days` (may be fractional) before `asOf`. */
export const daysBefore = (asOf: number, days: number) => new Date(asOf - days * DAY_MS).toISOString();
export const dateBefore = (asOf: number, days: number) => daysBefore(asOf, days).slice(0, 10);
