/** `CareTeam/{id}/$mdt-list` read into rows, and the decisions of a meeting as `$record-mdt-decisions` input. */
import type { Parameters } from '@medplum/fhirtypes';
import { parameters, partsNamed, reference, value, type Part } from '../../fhir/parameters.ts';

export interface MdtPerson {
  patient: string;
  reasons: { code: string; detail: string; evidence?: string }[];
}

export function mdtPeople(answer: Parameters): MdtPerson[] {
  return partsNamed(answer.parameter, 'person').map((p) => ({
    patient: reference(p.part, 'patient')?.reference ?? '',
    reasons: partsNamed(p.part, 'reason').map((r) => ({
      code: String(value(r.part, 'code') ?? ''),
      detail: String(value(r.part, 'detail') ?? ''),
      evidence: reference(r.part, 'evidence')?.reference,
    })),
  }));
}

export interface Decision {
  patient: string;
  description: string;
  owner: string;
  due: string;
  priority: 'routine' | 'urgent' | 'asap' | 'stat';
}

/** The operation's input: the meeting (now), an optional summary, and each decision with a description. */
export function decisionsInput(decisions: Decision[], summary: string, meeting = new Date()): Parameters {
  const chosen = decisions.filter((d) => d.description.trim());
  return parameters(
    { name: 'meeting', valueDateTime: meeting.toISOString() },
    ...(summary.trim() ? [{ name: 'summary', valueString: summary.trim() }] : []),
    ...chosen.map((d): Part => ({
      name: 'decision',
      part: [
        { name: 'patient', valueReference: { reference: d.patient } },
        { name: 'description', valueString: d.description.trim() },
        { name: 'owner', valueReference: { reference: d.owner } },
        { name: 'due', valueDate: d.due },
        { name: 'priority', valueCode: d.priority },
      ],
    })),
  );
}
