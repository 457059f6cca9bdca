/**
 * The pure collaboration rules: mentions are recipients
 * (workflow/communication-rules.ts), who reads (workflow/reader.ts), and the
 * unread condition a search compiles to (search/scope.ts, exact SQL).
 */
import type { Communication } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Access } from '../../server/src/auth/access.ts';
import { loadDefinitions } from '../../server/src/fhir/definitions.ts';
import { compileSearch } from '../../server/src/search/compile.ts';
import { parseSearch } from '../../server/src/search/parse.ts';
import {
  communicationRules,
  MENTION_URL,
  mentionsNotRecipients,
} from '../../server/src/workflow/communication-rules.ts';
import { readerOf, selvesOf } from '../../server/src/workflow/reader.ts';

beforeAll(() => loadDefinitions());
const ref = (reference: string) => ({ reference });
const mention = (reference: string) => ({ url: MENTION_URL, valueReference: ref(reference) });

describe('mentions', () => {
  const base: Communication = {
    resourceType: 'Communication',
    status: 'completed',
    recipient: [ref('CareTeam/team'), ref('PractitionerRole/gp')],
  };

  it('are recipients too: those that are not are named', () => {
    expect(mentionsNotRecipients({ ...base, extension: [mention('PractitionerRole/gp')] })).toEqual([]);
    expect(
      mentionsNotRecipients({
        ...base,
        extension: [
          mention('PractitionerRole/gp'),
          mention('PractitionerRole/nurse'),
          { url: 'other', valueString: 'x' },
        ],
      }),
    ).toEqual(['PractitionerRole/nurse']);
    // The same target written absolutely is not a local recipient.
    expect(
      mentionsNotRecipients({ ...base, extension: [mention('https://elsewhere.example/PractitionerRole/gp')] }),
    ).toEqual(['https://elsewhere.example/PractitionerRole/gp']);
  });

  it('a write whose mention is not a recipient is a 422 business-rule', async () => {
    const write = { ...base, extension: [mention('Practitioner/x')] };
    await expect(communicationRules.check!(undefined, write, undefined, undefined as never)).rejects.toMatchObject({
      category: 'business-rule',
      status: 422,
    });
    await expect(communicationRules.check!(undefined, base, undefined, undefined as never)).resolves.toBeUndefined();
  });
});

describe('readers', () => {
  const access = (identity: Partial<Access['identity']>): Access => ({
    clientId: 'web',
    scopes: [],
    subject: 'x',
    identity: { kind: 'user', clientId: 'web', allPatients: false, ...identity },
  });

  it('a user reads as their Practitioner, whatever the role; a system as its client', () => {
    const user = access({ practitioner: 'Practitioner/p', practitionerRole: 'PractitionerRole/r1' });
    expect(readerOf(user)).toBe('Practitioner/p');
    expect(readerOf(access({ practitioner: 'Practitioner/p', practitionerRole: 'PractitionerRole/r2' }))).toBe(
      'Practitioner/p',
    );
    expect(readerOf(access({ kind: 'system', clientId: 'epr', organization: 'Organization/o' }))).toBe('client:epr');
    expect(selvesOf(user)).toEqual(['Practitioner/p', 'PractitionerRole/r1']);
    expect(() => readerOf(undefined)).toThrow(/per user/);
  });
});

describe('the unread condition', () => {
  it('is an anti-join on the reader and, for their own messages, on the sender index', () => {
    const request = parseSearch('Communication', [['recipient', 'CareTeam/t']], {
      defaultCount: 20,
      maxCount: 100,
      strict: true,
    });
    request.unread = { reader: 'Practitioner/p', senders: ['PractitionerRole/r'] };
    const sql = compileSearch(request, { baseUrl: 'https://hearth.example/fhir' });
    expect(sql.text).toContain(
      "NOT EXISTS (SELECT 1 FROM communication_read cr WHERE cr.reader = $2 AND cr.communication_id = r.id) AND NOT EXISTS (SELECT 1 FROM sp_reference s WHERE s.resource_type = r.resource_type AND s.id = r.id AND s.code = 'sender' AND (s.target_type, s.target_id) IN (SELECT * FROM unnest($3::text[], $4::text[])))",
    );
    expect(sql.values.slice(0, 4)).toEqual(['Communication', 'Practitioner/p', ['PractitionerRole'], ['r']]);
  });
});

describe("a patient's record (Patient/$changes)", () => {
  it("is driven by the patient's _patient index rows (a semi-join on the covering index), not a per-row filter", () => {
    const request = parseSearch('Patient', [['_lastUpdated', 'gt2026-01-05T09:00:00.000Z']], {
      defaultCount: 20,
      maxCount: 100,
      strict: true,
    });
    request.resourceTypes = ['CarePlan', 'Task'];
    request.aboutPatient = 'p1';
    const sql = compileSearch(request, { baseUrl: 'https://hearth.example/fhir' });
    expect(sql.text).toContain(
      "WHERE r.resource_type = ANY($1::text[]) AND (r.resource_type, r.id) IN (SELECT m.resource_type, m.id FROM sp_reference m WHERE m.target_type = 'Patient' AND m.target_id = $2 AND m.code = '_patient') AND NOT r.deleted AND r.last_updated > $3",
    );
    expect(sql.values.slice(0, 2)).toEqual([['CarePlan', 'Task'], 'p1']);
  });
});
