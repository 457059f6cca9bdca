/** Required terminology bindings (server/src/validation/bindings.ts): hand-written cases, then real fixtures. */
import fs from 'node:fs';
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { validateRequiredBindings } from '../../server/src/validation/bindings.ts';
import { expandValueSet } from '../../server/src/validation/valuesets.ts';

const fixtures = new URL('../../../shared/fixtures/', import.meta.url);
const expressions = (resource: Resource): string[] =>
  validateRequiredBindings(resource).map((issue) => issue.expression?.[0] ?? '');

describe('validateRequiredBindings', () => {
  it('reports a Task status outside task-status as one code-invalid issue at Task.status', () => {
    const issues = validateRequiredBindings({ resourceType: 'Task', status: 'bogus' as 'draft', intent: 'order' });
    const text = 'Value "bogus" is not in the required value set http://hl7.org/fhir/ValueSet/task-status';
    expect(issues).toEqual([
      { severity: 'error', code: 'code-invalid', diagnostics: text, details: { text }, expression: ['Task.status'] },
    ]);
  });

  it('accepts a Task with valid status and intent (intent mixes task-intent and request-intent codes)', () => {
    expect(validateRequiredBindings({ resourceType: 'Task', status: 'requested', intent: 'order' })).toEqual([]);
    expect(validateRequiredBindings({ resourceType: 'Task', status: 'completed', intent: 'unknown' })).toEqual([]);
  });

  it('reports a Patient gender outside administrative-gender', () => {
    expect(expressions({ resourceType: 'Patient', gender: 'x' as 'other' })).toEqual(['Patient.gender']);
  });

  it('checks nested datatypes with array indices: Identifier, HumanName, ContactPoint, Address, Narrative', () => {
    const patient = {
      resourceType: 'Patient',
      text: { status: 'made-up', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' },
      identifier: [
        { use: 'official', value: '1' },
        { use: 'bogus', value: '2' },
      ],
      name: [
        { use: 'usual', family: 'A' },
        { use: 'nickname-ish', family: 'B' },
      ],
      telecom: [{ system: 'pigeon', value: 'x' }],
      address: [{ use: 'home' }, { use: 'holiday' }],
    } as unknown as Resource;
    expect(expressions(patient).sort()).toEqual([
      'Patient.address[1].use',
      'Patient.identifier[1].use',
      'Patient.name[1].use',
      'Patient.telecom[0].system',
      'Patient.text.status',
    ]);
  });

  it('accepts a valid Observation, including a choice-typed Quantity with a comparator', () => {
    const observation: Resource = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '2339-0' }] },
      valueQuantity: { value: 5, comparator: '<', unit: 'mmol/L' },
      interpretation: [{ coding: [{ system: 'http://snomed.info/sct', code: '281302008' }] }],
    };
    expect(validateRequiredBindings(observation)).toEqual([]);
  });

  it('reports a bad comparator inside a choice type of a backbone element', () => {
    const observation = {
      resourceType: 'Observation',
      status: 'amended', // a child of `final` in the observation-status hierarchy
      code: { text: 'Blood pressure' },
      component: [
        { code: { text: 'Systolic' }, valueQuantity: { value: 120, comparator: '<' } },
        { code: { text: 'Diastolic' }, valueQuantity: { value: 80, comparator: '~' } },
      ],
    } as unknown as Resource;
    expect(expressions(observation)).toEqual(['Observation.component[1].valueQuantity.comparator']);
  });

  it('reports each coding of a required CodeableConcept when none is from the value set (wrong system)', () => {
    const condition = {
      resourceType: 'Condition',
      subject: { reference: 'Patient/1' },
      clinicalStatus: { coding: [{ system: 'http://snomed.info/sct', code: 'active' }] },
      verificationStatus: {
        coding: [{ code: 'nonsense' }, { system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status' }],
      },
    } as unknown as Resource;
    const issues = validateRequiredBindings(condition);
    expect(issues.map((issue) => [issue.expression?.[0], issue.diagnostics])).toEqual([
      [
        'Condition.clinicalStatus.coding[0]',
        'Value "http://snomed.info/sct|active" is not in the required value set http://hl7.org/fhir/ValueSet/condition-clinical',
      ],
      [
        'Condition.verificationStatus.coding[0]',
        'Value "nonsense" is not in the required value set http://hl7.org/fhir/ValueSet/condition-ver-status',
      ],
    ]);
  });

  it('accepts a required CodeableConcept with one matching coding, a nested code, or only text', () => {
    const clinical = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
    const condition: Resource = {
      resourceType: 'Condition',
      subject: { reference: 'Patient/1' },
      clinicalStatus: {
        coding: [
          { system: 'http://example.org/local', code: 'x' },
          { system: clinical, code: 'relapse' },
        ],
      },
      verificationStatus: { text: 'not sure yet' },
    };
    expect(validateRequiredBindings(condition)).toEqual([]);
  });

  it('walks contained resources by their own type: the expression is <Parent>.contained[i].<path>', () => {
    const patient = {
      resourceType: 'Patient',
      contained: [
        { resourceType: 'Organization', id: 'org', name: 'Fine' },
        { resourceType: 'Observation', id: 'o', status: 'finished', code: { text: 'x' } },
      ],
    } as unknown as Resource;
    expect(expressions(patient)).toEqual(['Patient.contained[1].status']);
  });

  it('reports a Bundle entry request method and a bad code inside an entry resource', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Task', status: 'ready', intent: 'order' },
          request: { method: 'POST', url: 'Task' },
        },
        {
          resource: { resourceType: 'Task', status: 'nope', intent: 'order' },
          request: { method: 'POST', url: 'Task' },
        },
        { request: { method: 'FOO', url: 'Task/1' } },
      ],
    } as unknown as Resource;
    expect(expressions(bundle)).toEqual(['Bundle.entry[1].resource.status', 'Bundle.entry[2].request.method']);
  });

  it('walks recursive backbone elements (Questionnaire.item.item)', () => {
    const questionnaire = {
      resourceType: 'Questionnaire',
      status: 'active',
      item: [
        {
          linkId: '1',
          type: 'group',
          item: [
            { linkId: '1.1', type: 'string' },
            { linkId: '1.2', type: 'essay' },
          ],
        },
      ],
    } as unknown as Resource;
    expect(expressions(questionnaire)).toEqual(['Questionnaire.item[0].item[1].type']);
  });

  it('accepts what it cannot verify: SNOMED codes, mime types (BCP-13), currencies (ISO 4217), extensions', () => {
    const condition: Resource = {
      resourceType: 'Condition',
      subject: { reference: 'Patient/1' },
      code: { coding: [{ system: 'http://snomed.info/sct', code: 'not-a-real-concept' }] },
      extension: [{ url: 'http://example.org/x', valueCode: 'anything' }],
    };
    const document = {
      resourceType: 'DocumentReference',
      status: 'current',
      content: [{ attachment: { contentType: 'not/a-real-mime-type' } }],
    } as unknown as Resource;
    const invoice = {
      resourceType: 'Invoice',
      status: 'issued',
      totalNet: { value: 1, currency: 'XXQ' },
    } as unknown as Resource;
    expect([condition, document, invoice].flatMap(validateRequiredBindings)).toEqual([]);
  });
});

describe('expandValueSet', () => {
  it('expands whole code systems including nested concepts, ignoring a |version suffix', () => {
    const expansion = expandValueSet('http://hl7.org/fhir/ValueSet/condition-clinical|4.0.1');
    expect([...(expansion?.codes ?? [])].sort()).toEqual([
      'active',
      'inactive',
      'recurrence',
      'relapse',
      'remission',
      'resolved',
    ]);
  });

  it('treats value sets over SNOMED CT, BCP-47 or filters as not checkable', () => {
    expect(expandValueSet('http://hl7.org/fhir/ValueSet/clinical-findings')).toBeUndefined();
    expect(expandValueSet('http://hl7.org/fhir/ValueSet/all-languages')).toBeUndefined();
    expect(expandValueSet('http://hl7.org/fhir/ValueSet/mimetypes')).toBeUndefined();
  });
});

describe('real fixtures', () => {
  const readJson = (url: URL): Resource => JSON.parse(fs.readFileSync(url, 'utf8')) as Resource;
  const jsonFiles = (folder: string): URL[] =>
    fs
      .readdirSync(new URL(folder, fixtures))
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => new URL(`${folder}${name}`, fixtures));
  const describeIssues = (issues: OperationOutcomeIssue[]): string[] =>
    issues.map((issue) => `${issue.expression?.[0]}: ${issue.diagnostics}`);

  it('every resource of every Synthea bundle passes', () => {
    const resources = jsonFiles('synthea/').flatMap((url) =>
      ((readJson(url) as Bundle).entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : [])),
    );
    expect(resources.length).toBeGreaterThan(1000);
    const failures = resources
      .map((resource) => ({
        resource: `${resource.resourceType}/${resource.id}`,
        issues: validateRequiredBindings(resource),
      }))
      .filter((result) => result.issues.length > 0)
      .map((result) => ({ resource: result.resource, issues: describeIssues(result.issues) }));
    expect(failures).toEqual([]);
  });

  it('reports (without asserting) which FHIR R4 specification examples fail', () => {
    const files = jsonFiles('r4-examples/');
    expect(files.length).toBeGreaterThan(0);
    const failures = files.flatMap((url) => {
      const issues = validateRequiredBindings(readJson(url));
      return issues.length ? [`${url.pathname.split('/').pop()}: ${describeIssues(issues).join('; ')}`] : [];
    });
    console.log(
      `r4-examples failing required bindings: ${failures.length} of ${files.length}\n${failures.join('\n')}`.trim(),
    );
  });
});
