/**
 * Unread messages per user (issue 7 item 5; docs/workflow-intake.md):
 * `Communication/$mark-read` (instance, or type level with `communication`
 * ids) records that the caller has read messages (`read=false`: unread
 * again); `Communication/$unread` lists the messages addressed to the caller
 * (reader.ts) that they have not read, newest first, as a searchset that
 * takes Communication search parameters (`patient`, `about`, `mentioned`…).
 * Read state is the reader's own: one person's marks never change another's.
 */
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/errors.ts';
import { localTarget } from '../fhir/reference.ts';
import { operationInput, type HearthOperation } from '../interactions/operations.ts';
import { parseOptions, searchset } from '../interactions/search.ts';
import type { FhirRequest, FhirResponse, InteractionContext } from '../interactions/types.ts';
import { parseSearch } from '../search/parse.ts';
import { markRead as storeRead, markUnread, readTimes } from '../store/collaboration.ts';
import { addresseesOf, readerOf, selvesOf } from './reader.ts';

/** Most messages one $mark-read call takes. */
const MAX_MARKED = 1000;

export const markRead: HearthOperation = {
  code: 'mark-read',
  resourceType: 'Communication',
  type: true,
  instance: true,
  affectsState: true,
  title: 'Mark messages read (or unread) for me',
  description:
    "Records that the caller (a user: their Practitioner; a system: its client) has read the messages, or with read=false that they have not. Only the caller's own read state changes; the Communications are not written.",
  parameters: [
    {
      name: 'communication',
      use: 'in',
      min: 0,
      max: '*',
      type: 'string',
      documentation: 'At type level: a message, as id or Communication/id (1 to 1000)',
    },
    { name: 'read', use: 'in', min: 0, max: '1', type: 'boolean', documentation: 'false: mark unread (default true)' },
    {
      name: 'read',
      use: 'out',
      min: 1,
      max: '*',
      type: 'string',
      documentation: 'Per message, parts communication (Reference) and at (instant; absent when unread)',
    },
  ],
  scope: { type: 'Communication', permission: 'r' },
  handle: (req, ctx, id) => mark(req, ctx, id),
};

export const unread: HearthOperation = {
  code: 'unread',
  resourceType: 'Communication',
  type: true,
  instance: false,
  affectsState: false,
  title: 'My unread messages',
  description:
    'The messages addressed to the caller (a recipient is them, their role, their organisation or one of their teams) that they have not marked read, not sent by them and not entered in error; newest first; paged; any Communication search parameter narrows them.',
  parameters: [
    {
      name: 'return',
      use: 'out',
      min: 1,
      max: '1',
      type: 'Bundle',
      documentation: 'A searchset of the unread messages',
    },
  ],
  scope: { type: 'Communication', permission: 's' },
  handle: (req, ctx) => listUnread(req, ctx),
};

export const READ_STATE_OPERATIONS: HearthOperation[] = [markRead, unread];

async function mark(req: FhirRequest, ctx: InteractionContext, id?: string): Promise<FhirResponse> {
  const reader = readerOf(ctx.access);
  const input = operationInput(req);
  const ids = id ? [id] : communicationIds(input);
  if (!ids.length) throw new FhirError('invalid', '$mark-read needs a communication (id or Communication/id)');
  if (ids.length > MAX_MARKED) throw new FhirError('too-costly', `$mark-read takes at most ${MAX_MARKED} messages`);
  const read = readFlag(input);
  const at = new Date().toISOString();
  return ctx.repo.transaction(async (tx) => {
    // Each must be a message the caller may see: an unknown or hidden one is a 404, and nothing is marked.
    for (const one of ids) await tx.read('Communication', one);
    const db = await tx.queryable();
    if (read) await storeRead(db, reader, ids, at);
    else await markUnread(db, reader, ids);
    const times = await readTimes(db, reader, ids);
    const parameter: ParametersParameter[] = ids.map((one) => ({
      name: 'read',
      part: [
        { name: 'communication', valueReference: { reference: `Communication/${one}` } },
        ...(times.has(one) ? [{ name: 'at', valueInstant: times.get(one) }] : []),
      ],
    }));
    return { status: 200, body: { resourceType: 'Parameters', parameter } };
  });
}

async function listUnread(req: FhirRequest, ctx: InteractionContext): Promise<FhirResponse> {
  const reader = readerOf(ctx.access);
  const addressees = await addresseesOf(ctx.access!, await ctx.repo.queryable());
  const selves = selvesOf(ctx.access!);
  const mine = addressees.join(',');
  // Paging links carry the filters added here; they are added again (not twice) on the next page.
  const given = operationInput(req)
    .parameter!.map((p): [string, string] => [p.name!, String(p.valueString ?? '')])
    .filter(([k, v]) => !(k === 'recipient' && v === mine) && !(k === 'status:not' && v === 'entered-in-error'));
  const paging = req.query.filter(([k]) => k === '_count' || k === '_cursor' || k === '_sort');
  const params: [string, string][] = [
    ...given,
    ...paging,
    ['recipient', addressees.length ? mine : 'Organization/none'],
    ['status:not', 'entered-in-error'],
  ];
  if (!paging.some(([k]) => k === '_sort')) params.push(['_sort', '-_lastUpdated']);
  const request = parseSearch('Communication', params, parseOptions(req, ctx));
  request.unread = { reader, senders: selves };
  return searchset(ctx, request, 'Communication/$unread');
}

function communicationIds(input: Parameters): string[] {
  const ids = (input.parameter ?? [])
    .filter((p) => p.name === 'communication')
    .flatMap((p) => (p.valueReference?.reference ?? p.valueString ?? p.valueId ?? '').split(','))
    .map((v) => v.trim())
    .filter(Boolean)
    .map((v) => {
      const target = v.includes('/') ? localTarget(v) : { resourceType: 'Communication', id: v };
      if (target?.resourceType !== 'Communication') {
        throw new FhirError('invalid', `communication "${v}" is not a Communication id or Communication/id`);
      }
      return target.id;
    });
  return [...new Set(ids)];
}

function readFlag(input: Parameters): boolean {
  const p = input.parameter?.find((x) => x.name === 'read');
  if (!p) return true;
  const value = p.valueBoolean ?? p.valueString;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new FhirError('invalid', `read must be true or false; got ${JSON.stringify(value)}`);
}
