/**
 * The input of `$record-mdt-decisions` read into decisions, and the HearthTask
 * and HearthCommunication each becomes (pure). A decision that cannot be read
 * is a 400 naming it (its place among the parameters and its number).
 */
import type { Communication, Parameters, ParametersParameter, Reference, Task } from '@medplum/fhirtypes';
import { FhirError } from '../../fhir/errors.ts';
import { localKey } from '../../fhir/reference.ts';
import { referenceParam, singleText } from '../params.ts';

export const PRIORITIES = ['routine', 'urgent', 'asap', 'stat'] as const;
const HEARTH = 'https://hearth.example/fhir';
const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

export interface Decision {
  /** 1-based number among the decisions, and the FHIRPath of its parameter, for messages. */
  number: number;
  expression: string;
  /** The patient's id. */
  patient: string;
  description: string;
  /** `Type/id` of the owner. */
  owner: string;
  due: string;
  priority: Task['priority'] & string;
  /** The plan to link, with the version it must still be at when one is named. */
  carePlan?: { id: string; version?: string };
}

export interface MeetingInput {
  decisions: Decision[];
  /** When the meeting was (default: now). */
  meeting?: string;
  summary?: string;
  /** Who asks for the tasks when the caller acts as no role or organisation (`Type/id`). */
  requester?: string;
}

export function readMeetingInput(input: Parameters): MeetingInput {
  const meeting = singleText(input, 'meeting');
  if (meeting !== undefined && !DATE.test(meeting))
    throw new FhirError('invalid', `meeting "${meeting}" is not a date`);
  const summary = singleText(input, 'summary');
  const requesterText = singleText(input, 'requester');
  const requester = requesterText === undefined ? undefined : localKey(requesterText);
  if (requesterText !== undefined && !requester) {
    throw new FhirError('invalid', `requester must be a reference such as PractitionerRole/id; got "${requesterText}"`);
  }
  const decisions: Decision[] = [];
  (input.parameter ?? []).forEach((p, index) => {
    if (p.name === 'decision') decisions.push(readDecision(p, decisions.length + 1, `Parameters.parameter[${index}]`));
  });
  if (!decisions.length) throw new FhirError('invalid', 'Record at least one decision');
  return { decisions, meeting, summary, requester };
}

function readDecision(part: ParametersParameter, number: number, expression: string): Decision {
  const where = `Decision ${number}: `;
  const fail = (message: string) => new FhirError('invalid', `${where}${message}`, { expression: [expression] });
  try {
    const patient = referenceParam(part, 'patient', 'Patient', { where });
    const description = singleText(part, 'description', where);
    const ownerText = singleText(part, 'owner', where);
    const due = singleText(part, 'due', where);
    const priority = singleText(part, 'priority', where) as Decision['priority'] | undefined;
    const plan = referenceParam(part, 'carePlan', 'CarePlan', { where, versioned: true });
    if (!patient || !description || !ownerText || !due || !priority) {
      throw fail('patient, description, owner, due and priority are all needed');
    }
    const owner = localKey(ownerText);
    if (!owner) throw fail(`owner must be a reference such as PractitionerRole/id; got "${ownerText}"`);
    if (!DATE.test(due)) throw fail(`due "${due}" is not a date or dateTime`);
    if (!PRIORITIES.includes(priority)) throw fail(`priority must be one of ${PRIORITIES.join(', ')}`);
    return {
      number,
      expression,
      patient: patient.id,
      description,
      owner,
      due,
      priority,
      ...(plan ? { carePlan: { id: plan.id, ...(plan.version ? { version: plan.version } : {}) } } : {}),
    };
  } catch (error) {
    if (error instanceof FhirError && !error.issues[0].expression) {
      throw new FhirError(error.category, error.message.startsWith(where) ? error.message : where + error.message, {
        expression: [expression],
      });
    }
    throw error;
  }
}

/** The HearthTask a decision becomes. */
export function decisionTask(d: Decision, context: { requester: string; authoredOn: string; plan?: string }): Task {
  return {
    resourceType: 'Task',
    meta: { profile: [`${HEARTH}/StructureDefinition/HearthTask`] },
    extension: [
      {
        url: `${HEARTH}/StructureDefinition/task-category`,
        valueCodeableConcept: { coding: [{ system: `${HEARTH}/CodeSystem/task-category`, code: 'mdt-action' }] },
      },
    ],
    // Agreed at the meeting with its owner there: no request to accept (STANDARDS §3.2, `ready`).
    status: 'ready',
    intent: 'order',
    priority: d.priority,
    description: d.description,
    ...(context.plan ? { basedOn: [{ reference: context.plan }] } : {}),
    for: { reference: `Patient/${d.patient}` },
    authoredOn: context.authoredOn,
    requester: { reference: context.requester },
    owner: { reference: d.owner },
    restriction: { period: { end: d.due } },
  };
}

/** The HearthCommunication telling the team what the meeting decided for one person. */
export function meetingCommunication(
  patient: string,
  context: { summary: string; team: string; sender: string; sent: string; meeting: string },
  decisions: { decision: Decision; task: string }[],
  plan?: string,
): Communication {
  const about: Reference[] = [...decisions.map((d) => ({ reference: d.task })), ...(plan ? [{ reference: plan }] : [])];
  const lines = decisions.map(
    ({ decision: d }) => `- ${d.description} (owner ${d.owner}, due ${d.due}, ${d.priority})`,
  );
  return {
    resourceType: 'Communication',
    meta: { profile: [`${HEARTH}/StructureDefinition/HearthCommunication`] },
    status: 'completed',
    subject: { reference: `Patient/${patient}` },
    about,
    sent: context.sent,
    sender: { reference: context.sender },
    recipient: [{ reference: context.team }],
    payload: [
      { contentString: `MDT meeting of ${context.meeting}: ${context.summary}\nDecisions:\n${lines.join('\n')}` },
    ],
  };
}
