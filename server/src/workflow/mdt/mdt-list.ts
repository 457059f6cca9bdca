/**
 * `CareTeam/{id}/$mdt-list`: the people for the team's next MDT meeting.
 * Everyone on the team's caseload (an active EpisodeOfCare with this team)
 * who is flagged for MDT review, at high risk, or has a breached clock
 * (reasons.ts), each with the reasons and the resource giving each (only
 * resources the caller may see: candidates-sql.ts). A
 * Parameters resource: a person may have several reasons, each with its own
 * evidence, which List.entry.flag (one CodeableConcept) cannot carry. The
 * candidates come from one indexed statement (store/mdt.ts); only people the
 * caller may see are listed.
 */
import type { Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { operationInput, type HearthOperation } from '../../interactions/operations.ts';
import { readMdtCandidates } from '../../store/mdt.ts';
import { compileMdtCandidates } from './candidates-sql.ts';
import { TASK_BREACH_EXTENSION } from '../../subscriptions/topics.ts';
import { mdtEntries, OPEN_TASK_STATUSES, type MdtEntry } from './reasons.ts';
import { readNeighbourhoodTeam } from './team.ts';

const DEFAULT_RISK_THRESHOLD = 0.5;

export const mdtListOperation: HearthOperation = {
  code: 'mdt-list',
  resourceType: 'CareTeam',
  type: false,
  instance: true,
  affectsState: false,
  title: "The people for a neighbourhood team's next MDT meeting",
  description:
    "Lists the people on the team's caseload who are flagged for MDT review (an active Flag coded " +
    'referral-category#mdt-review), at high risk (their latest RiskAssessment of a method predicts high risk, or ' +
    'a probability at or above HEARTH_MDT_RISK_THRESHOLD) or with a breached clock (an open Task past its due ' +
    'date or marked with the task-breach extension), each with the reasons and the resource giving each.',
  parameters: [
    { name: 'team', use: 'out', min: 1, max: '1', type: 'Reference', documentation: 'The team' },
    { name: 'generated', use: 'out', min: 1, max: '1', type: 'instant', documentation: 'When the list was made' },
    {
      name: 'person',
      use: 'out',
      min: 0,
      max: '*',
      documentation: 'One person to discuss, most reasons first',
      part: [
        { name: 'patient', use: 'out', min: 1, max: '1', type: 'Reference', documentation: 'The person' },
        {
          name: 'reason',
          use: 'out',
          min: 1,
          max: '*',
          documentation: 'Why they are on the list',
          part: [
            {
              name: 'code',
              use: 'out',
              min: 1,
              max: '1',
              type: 'code',
              documentation: 'flagged | high-risk | breached-clock',
            },
            { name: 'evidence', use: 'out', min: 1, max: '1', type: 'Reference', documentation: 'Flag, Task…' },
            { name: 'detail', use: 'out', min: 1, max: '1', type: 'string', documentation: 'In words' },
          ],
        },
      ],
    },
  ],
  scope: { type: 'CareTeam', permission: 'r' },
  async handle(req, ctx, id) {
    operationInput(req);
    await readNeighbourhoodTeam(ctx, id);
    const now = Date.now();
    const db = await ctx.repo.queryable();
    const guard = ctx.repo.guard;
    const query = compileMdtCandidates({
      teamId: id!,
      openStatuses: OPEN_TASK_STATUSES,
      now: new Date(now).toISOString(),
      breachExtension: TASK_BREACH_EXTENSION,
      access: guard ? await guard.filter(db) : undefined,
    });
    const rows = await readMdtCandidates(db, query);
    const candidates = rows.map((r) => ({ patient: r.patient, resource: JSON.parse(r.content) as Resource }));
    const threshold = ctx.workflow?.mdtRiskThreshold ?? DEFAULT_RISK_THRESHOLD;
    const entries: MdtEntry[] = [];
    for (const entry of mdtEntries(candidates, { now, riskThreshold: threshold })) {
      if (guard && !(await guard.allows(db, [entry.patient]))) continue;
      guard?.noteReturned([entry.patient]);
      entries.push(entry);
    }
    const body: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'team', valueReference: { reference: `CareTeam/${id}` } },
        { name: 'generated', valueInstant: new Date(now).toISOString() },
        ...entries.map(personParameter),
      ],
    };
    return { status: 200, body };
  },
};

function personParameter(entry: MdtEntry): ParametersParameter {
  return {
    name: 'person',
    part: [
      { name: 'patient', valueReference: { reference: `Patient/${entry.patient}` } },
      ...entry.reasons.map((r) => ({
        name: 'reason',
        part: [
          { name: 'code', valueCode: r.code },
          { name: 'evidence', valueReference: { reference: r.evidence } },
          { name: 'detail', valueString: r.detail },
        ],
      })),
    ],
  };
}
