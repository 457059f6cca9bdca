/**
 * The codes the access policy reads (server/src/auth/sealing.ts, restricted.ts)
 * are published: the packaged CodeSystems (fhir-profiles, built from
 * terminology.fsh) and the ones the server installs at start
 * (conformance/hearth-package.ts) have the systems' canonical URLs and every code
 * the server uses. Hearth's code systems are complete, so a code outside them
 * is refused on write (validation/profiles.ts checkLocalCodes).
 */
import { generatedResources } from '@hearth/fhir-profiles';
import type { CodeSystem, CodeSystemConcept, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { ORGANIZATION_TYPE_SYSTEM, RESTRICTED_ACTIVITY, VOLUNTARY_TYPE } from '../../server/src/auth/restricted.ts';
import { ACTIVITY_SYSTEM, SENSITIVE_DATA_ACTIVITY } from '../../server/src/auth/sealing.ts';
import { hearthConformance } from '../../server/src/conformance/hearth-package.ts';
import { DEMO_RESOURCES } from '../../server/src/demo/neighbourhood.ts';
import { checkLocalCodes } from '../../server/src/validation/profiles.ts';

/** Every system#code the server's access decisions read. */
const USED: [system: string, codes: string[]][] = [
  [ACTIVITY_SYSTEM, [SENSITIVE_DATA_ACTIVITY, RESTRICTED_ACTIVITY]],
  [ORGANIZATION_TYPE_SYSTEM, [VOLUNTARY_TYPE]],
];

const codes = (concepts: CodeSystemConcept[] = []): string[] => concepts.flatMap((c) => [c.code, ...codes(c.concept)]);

function codeSystem(resources: readonly Resource[], url: string): CodeSystem | undefined {
  return resources.find((r): r is CodeSystem => r.resourceType === 'CodeSystem' && r.url === url);
}

describe('Hearth code systems of the access policy', () => {
  const packaged = generatedResources() as unknown as Resource[];
  const installed = hearthConformance().resources;

  for (const [system, used] of USED) {
    it(`${system}: packaged and installed, complete, with every code the server uses (${used.join(', ')})`, () => {
      for (const resources of [packaged, installed]) {
        const cs = codeSystem(resources, system);
        expect(cs, `CodeSystem ${system}`).toBeDefined();
        expect(cs!.content).toBe('complete');
        expect(cs!.status).toBe('active');
        expect(codes(cs!.concept)).toEqual(expect.arrayContaining(used));
      }
      // And a ValueSet of its codes, as every Hearth code system has.
      const vs = packaged.find((r) => r.resourceType === 'ValueSet' && r.id === codeSystem(packaged, system)!.id);
      expect(JSON.stringify(vs)).toContain(system);
    });
  }

  it('accepts the codes in use on a PractitionerRole and an Organization, refuses one outside the system', () => {
    const role: Resource = {
      resourceType: 'PractitionerRole',
      code: [
        { coding: [{ system: ACTIVITY_SYSTEM, code: SENSITIVE_DATA_ACTIVITY }] },
        { coding: [{ system: ACTIVITY_SYSTEM, code: RESTRICTED_ACTIVITY }] },
      ],
    };
    const organization: Resource = {
      resourceType: 'Organization',
      type: [{ coding: [{ system: ORGANIZATION_TYPE_SYSTEM, code: VOLUNTARY_TYPE }] }],
    };
    expect(checkLocalCodes(role)).toEqual([]);
    expect(checkLocalCodes(organization)).toEqual([]);
    const unknown: Resource = {
      resourceType: 'Organization',
      type: [{ coding: [{ system: ORGANIZATION_TYPE_SYSTEM, code: 'charity' }] }],
    };
    expect(checkLocalCodes(unknown)).toMatchObject([
      {
        severity: 'error',
        code: 'code-invalid',
        diagnostics: `Code "charity" is not in the code system ${ORGANIZATION_TYPE_SYSTEM}`,
        expression: ['Organization.type[0]'],
      },
    ]);
  });

  it('the demo neighbourhood uses only codes of the published systems', () => {
    expect(DEMO_RESOURCES.flatMap(checkLocalCodes)).toEqual([]);
  });
});
