/**
 * `CarePlan/{id}/$diff?from=<versionId>&to=<versionId>`: what changed in the
 * plan between two versions (default: the previous and the current one) and
 * who made each version in between. The changes are FHIRPath Patch
 * operations (diff.ts); each version from `from`+1 to `to` is described by its
 * Provenance (agent who / onBehalfOf, recorded, activity). Runs as the caller:
 * both versions are read as a vread would be (404 when the caller may not see
 * them), and only Provenance they may see is used.
 */
import type { CarePlan, Parameters, ParametersParameter, Provenance } from '@medplum/fhirtypes';
import { FhirError } from '../../fhir/errors.ts';
import { operationInput, type HearthOperation } from '../../interactions/operations.ts';
import type { InteractionContext } from '../../interactions/types.ts';
import { parseSearch } from '../../search/parse.ts';
import { singleText } from '../params.ts';
import { diffResources } from './diff.ts';
import { operationParameter } from './diff-parameters.ts';

export const diffOperation: HearthOperation = {
  code: 'diff',
  resourceType: 'CarePlan',
  type: false,
  instance: true,
  affectsState: false,
  title: 'Changes between two versions of a care plan, and who made them',
  description:
    'Returns the changes from version `from` to version `to` of the CarePlan (default: the previous and the ' +
    'current version) as FHIRPath Patch operations (type, path, name, index, previousValue, value), and for each ' +
    'version after `from` up to `to` who made it (from its Provenance).',
  parameters: [
    { name: 'from', use: 'in', min: 0, max: '1', type: 'id', documentation: 'The older versionId (default: to - 1)' },
    { name: 'to', use: 'in', min: 0, max: '1', type: 'id', documentation: 'The newer versionId (default: current)' },
    { name: 'from', use: 'out', min: 1, max: '1', type: 'id', documentation: 'The older version compared' },
    { name: 'to', use: 'out', min: 1, max: '1', type: 'id', documentation: 'The newer version compared' },
    {
      name: 'operation',
      use: 'out',
      min: 0,
      max: '*',
      documentation: 'One change, as a FHIRPath Patch operation, with previousValue for delete and replace',
      part: [
        { name: 'type', use: 'out', min: 1, max: '1', type: 'code', documentation: 'add | insert | delete | replace' },
        { name: 'path', use: 'out', min: 1, max: '1', type: 'string', documentation: 'FHIRPath of the element' },
        { name: 'name', use: 'out', min: 0, max: '1', type: 'string', documentation: 'add: the element added' },
        { name: 'index', use: 'out', min: 0, max: '1', type: 'integer', documentation: 'insert: its position' },
        { name: 'previousValue', use: 'out', min: 0, max: '1', type: 'Element', documentation: 'The old value' },
        { name: 'value', use: 'out', min: 0, max: '1', type: 'Element', documentation: 'The new value' },
      ],
    },
    {
      name: 'version',
      use: 'out',
      min: 0,
      max: '*',
      documentation: 'Each version after from up to to: who made it and when',
      part: [
        { name: 'versionId', use: 'out', min: 1, max: '1', type: 'id', documentation: 'The version' },
        { name: 'recorded', use: 'out', min: 0, max: '1', type: 'instant', documentation: 'When (Provenance)' },
        { name: 'activity', use: 'out', min: 0, max: '1', type: 'code', documentation: 'CREATE | UPDATE | DELETE' },
        {
          name: 'agent',
          use: 'out',
          min: 0,
          max: '*',
          documentation: 'Provenance.agent: type, who, onBehalfOf',
          part: [
            { name: 'type', use: 'out', min: 0, max: '1', type: 'code', documentation: 'author, enterer…' },
            { name: 'who', use: 'out', min: 1, max: '1', type: 'Reference', documentation: 'Role or system' },
            { name: 'onBehalfOf', use: 'out', min: 0, max: '1', type: 'Reference', documentation: 'Organisation' },
          ],
        },
      ],
    },
  ],
  scope: { type: 'CarePlan', permission: 'r' },
  async handle(req, ctx, id) {
    const input = operationInput(req);
    const to = versionParam(singleText(input, 'to')) ?? (await ctx.repo.read('CarePlan', id!)).versionId;
    const from = versionParam(singleText(input, 'from')) ?? to - 1;
    if (from < 1) throw new FhirError('processing', `CarePlan/${id} has no version before ${to} to compare with`);
    if (from >= to) throw new FhirError('invalid', `from (${from}) must be an earlier version than to (${to})`);
    if (to - from > ctx.maxPageSize) {
      throw new FhirError('too-costly', `Compare at most ${ctx.maxPageSize} versions apart (asked ${to - from})`);
    }
    const older = await ctx.repo.vread('CarePlan', id!, from);
    const newer = await ctx.repo.vread('CarePlan', id!, to);
    const ops = diffResources(JSON.parse(older.content!) as CarePlan, JSON.parse(newer.content!) as CarePlan);
    const provenance = await provenanceOf(ctx, id!, older.lastUpdated, newer.lastUpdated);
    const versions: ParametersParameter[] = [];
    for (let v = from + 1; v <= to; v++) versions.push(versionParameter(v, provenance.get(v)));
    const body: Parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'from', valueId: String(from) },
        { name: 'to', valueId: String(to) },
        ...ops.map(operationParameter),
        ...versions,
      ],
    };
    return { status: 200, body };
  },
};

function versionParam(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new FhirError('invalid', `"${text}" is not a versionId (1, 2, …)`);
  return Number(text);
}

/** The Provenance the caller may see of the plan's versions recorded from `since` to `until`, by version. */
async function provenanceOf(
  ctx: InteractionContext,
  id: string,
  since: string,
  until: string,
): Promise<Map<number, Provenance>> {
  const request = parseSearch(
    'Provenance',
    [
      ['target', `CarePlan/${id}`],
      ['recorded', `ge${since}`],
      ['recorded', `le${until}`],
    ],
    { defaultCount: ctx.maxPageSize, maxCount: ctx.maxPageSize, strict: true },
  );
  const { rows } = await ctx.repo.search(request, { withTotal: false });
  const byVersion = new Map<number, Provenance>();
  const prefix = `CarePlan/${id}/_history/`;
  for (const row of rows) {
    const provenance = JSON.parse(row.content) as Provenance;
    for (const target of provenance.target) {
      if (target.reference?.startsWith(prefix))
        byVersion.set(Number(target.reference.slice(prefix.length)), provenance);
    }
  }
  return byVersion;
}

function versionParameter(versionId: number, provenance: Provenance | undefined): ParametersParameter {
  const part: ParametersParameter[] = [{ name: 'versionId', valueId: String(versionId) }];
  if (provenance) {
    part.push({ name: 'recorded', valueInstant: provenance.recorded });
    const activity = provenance.activity?.coding?.[0]?.code;
    if (activity) part.push({ name: 'activity', valueCode: activity });
    for (const agent of provenance.agent) {
      const type = agent.type?.coding?.[0]?.code;
      part.push({
        name: 'agent',
        part: [
          ...(type ? [{ name: 'type', valueCode: type }] : []),
          { name: 'who', valueReference: agent.who },
          ...(agent.onBehalfOf ? [{ name: 'onBehalfOf', valueReference: agent.onBehalfOf }] : []),
        ],
      });
    }
  }
  return { name: 'version', part };
}
