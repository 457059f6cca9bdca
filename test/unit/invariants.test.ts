/** Base validation of invariants whose FHIRPath result is empty (validation/invariants.ts). */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../server/src/fhir/definitions.ts';
import { baseIssues } from '../../server/src/validation/validate.ts';

beforeAll(() => loadDefinitions());

const assessment = (prediction: object[]) => ({
  resourceType: 'RiskAssessment' as const,
  status: 'final' as const,
  subject: { reference: 'Patient/p' },
  prediction,
});

describe('invariants with an empty result', () => {
  it('passes ras-2 on a prediction without a probability (the rule says nothing about it)', () => {
    expect(baseIssues(assessment([{ qualitativeRisk: { text: 'high' } }]))).toEqual([]);
  });

  it('still fails ras-2 on a probability over 100', () => {
    const issues = baseIssues(assessment([{ qualitativeRisk: { text: 'high' } }, { probabilityDecimal: 200 }]));
    expect(issues).toHaveLength(1);
    expect(issues[0].expression).toEqual(['RiskAssessment.prediction[1]']);
    expect(issues[0].details?.text).toMatch(/ras-2/);
  });
});
