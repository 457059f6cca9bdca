/**
 * A person's record as FHIR resources, in the shape population/codes.ts
 * describes (so stratification finds it): Patient (HearthPatient, ethnic
 * category extension, deprivation decile on the home address), Conditions,
 * Observations (functional deficits and social factors), MedicationStatements
 * and Encounters (A&E class EMER; emergency admission class IMP, priority EM).
 */
import {
  ACT_PRIORITY_SYSTEM,
  ADMISSION_CLASS,
  AE_ATTENDANCE_CLASS,
  DEPRIVATION_DECILE_EXTENSION,
  EMERGENCY_PRIORITY,
  ENCOUNTER_CLASS_SYSTEM,
  ETHNIC_CATEGORIES,
  ETHNIC_CATEGORY_EXTENSION,
  ETHNIC_CATEGORY_SYSTEM,
  SNOMED,
  SOCIAL_FACTORS,
} from '../../server/src/population/codes.ts';
import type { Footprint } from './directory.ts';
import { coding, concept, dateBefore, daysBefore, NHS_NUMBER, profile, ref, type GeneratedResource } from './fhir.ts';
import type { Person } from './person.ts';

const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';
const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const NHS_VERIFICATION = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland';
const SOCIAL_DISPLAY = new Map(SOCIAL_FACTORS.map((factor) => [factor.code, factor.display]));

export function patientResource(person: Person, practice: string): GeneratedResource {
  return {
    resourceType: 'Patient',
    id: person.id,
    meta: profile('HearthPatient'),
    extension: [
      {
        url: ETHNIC_CATEGORY_EXTENSION,
        valueCodeableConcept: concept(ETHNIC_CATEGORY_SYSTEM, person.ethnicity, ETHNIC_CATEGORIES[person.ethnicity]),
      },
    ],
    identifier: [
      {
        extension: [
          {
            url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
            valueCodeableConcept: concept(NHS_VERIFICATION, '01', 'Number present and verified'),
          },
        ],
        system: NHS_NUMBER,
        value: person.nhsNumber,
      },
    ],
    active: true,
    name: [{ use: 'official', family: person.family, given: [person.given] }],
    gender: person.sex,
    birthDate: person.birthDate,
    address: [
      {
        extension: [{ url: DEPRIVATION_DECILE_EXTENSION, valueInteger: person.sector.decile }],
        use: 'home',
        line: [person.street],
        city: person.sector.town,
        postalCode: person.postcode,
        country: 'GB',
      },
    ],
    generalPractitioner: [ref(practice)],
    managingOrganization: ref(practice),
  };
}

export function clinicalResources(person: Person, asOf: number, footprint: Footprint): GeneratedResource[] {
  const subject = ref(`Patient/${person.id}`);
  const out: GeneratedResource[] = [];
  let c = 0;
  let o = 0;
  for (const d of person.diagnoses) {
    if (d.recordedAs === 'Condition') {
      out.push({
        resourceType: 'Condition',
        id: `${person.id}-c${c++}`,
        clinicalStatus: concept(CONDITION_CLINICAL, 'active'),
        verificationStatus: concept(CONDITION_VERIFICATION, 'confirmed'),
        category: [concept(CONDITION_CATEGORY, 'problem-list-item')],
        code: { coding: [coding(SNOMED, d.code)], text: d.text },
        subject,
        onsetDateTime: dateBefore(asOf, d.onsetDays),
        recordedDate: dateBefore(asOf, d.onsetDays),
      });
    } else {
      out.push(observation(`${person.id}-o${o++}`, subject, 'survey', d.code, d.text, dateBefore(asOf, d.onsetDays)));
    }
  }
  for (const code of person.social) {
    const days = 30 + ((person.index * 37 + code.length * 101) % 700);
    out.push(
      observation(
        `${person.id}-o${o++}`,
        subject,
        'social-history',
        code,
        SOCIAL_DISPLAY.get(code)!,
        dateBefore(asOf, days),
      ),
    );
  }
  person.medicines.forEach((medicine, k) => {
    out.push({
      resourceType: 'MedicationStatement',
      id: `${person.id}-m${k}`,
      status: 'active',
      medicationCodeableConcept: { coding: [coding(SNOMED, medicine.code, medicine.display)] },
      subject,
      effectivePeriod: { start: dateBefore(asOf, 60 + ((person.index * 13 + k * 97) % 1500)) },
      dateAsserted: dateBefore(asOf, 7 + ((person.index + k) % 80)),
      dosage: [{ text: medicine.dosage }],
    });
  });
  person.attendances.forEach((daysAgo, k) => {
    const start = daysBefore(asOf, daysAgo);
    out.push({
      resourceType: 'Encounter',
      id: `${person.id}-ae${k}`,
      status: 'finished',
      class: coding(ENCOUNTER_CLASS_SYSTEM, AE_ATTENDANCE_CLASS, 'emergency'),
      type: [{ text: 'A&E attendance' }],
      subject,
      period: { start, end: daysBefore(asOf, daysAgo - 0.16) },
      serviceProvider: ref(footprint.acuteTrust),
    });
  });
  person.admissions.forEach(({ daysAgo, stay }, k) => {
    out.push({
      resourceType: 'Encounter',
      id: `${person.id}-ad${k}`,
      status: 'finished',
      class: coding(ENCOUNTER_CLASS_SYSTEM, ADMISSION_CLASS, 'inpatient encounter'),
      priority: concept(ACT_PRIORITY_SYSTEM, EMERGENCY_PRIORITY, 'emergency'),
      type: [{ text: 'Emergency admission' }],
      subject,
      period: { start: daysBefore(asOf, daysAgo), end: daysBefore(asOf, Math.max(0, daysAgo - stay)) },
      serviceProvider: ref(footprint.acuteTrust),
    });
  });
  return out;
}

function observation(
  id: string,
  subject: { reference: string },
  category: string,
  code: string,
  text: string,
  effective: string,
): GeneratedResource {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    category: [concept(OBSERVATION_CATEGORY, category)],
    code: { coding: [coding(SNOMED, code)], text },
    subject,
    effectiveDateTime: effective,
  };
}
