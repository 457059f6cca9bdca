/**
 * `POST [base]/$process-message` for BaRS (NHS Booking and Referral Standard,
 * STANDARDS.md §1; docs/bars.md): a message Bundle in, processed at once
 * (never async), in the order BaRS checks it:
 *  1. X-Request-ID and X-Correlation-ID (UUIDs; 400);
 *  2. the pair claimed (store/bars-messages.ts): a retry of a processed message
 *     is 409 duplicate, of one still processing 425, of a refused one the same
 *     refusal;
 *  3. the Bundle and MessageHeader (message.ts; 400 / 422 for an unknown version);
 *  4. the destination: a service hosted here and its Organization (hosted.ts; 422);
 *  5. the event and reason (400; bookings 422; servicerequest-response 404
 *     unless it answers a message received here, else 422);
 *  6. the declared MessageDefinition: one Hearth receives, and the message
 *     has what it requires (definitions.ts; 422);
 *  7. the event's rules, then the writes in one transaction with the message
 *     marked processed: a new referral (create-referral.ts) or a
 *     cancellation (cancel-referral.ts).
 * The answer: 200 with a message Bundle (response.ts); errors carry REC_*
 * codes; both echo X-Request-ID and X-Correlation-ID.
 */
import type { Bundle } from '@medplum/fhirtypes';
import { requireScope } from '../../auth/access.ts';
import { DEFAULT_BARS_VERSIONS } from '../../config.ts';
import type { HearthOperation } from '../../interactions/operations.ts';
import type { FhirRequest, FhirResponse, InteractionContext } from '../../interactions/types.ts';
import {
  claimMessage,
  completeMessage,
  failMessage,
  knownMessageBundle,
  releaseMessage,
  type MessageIds,
} from '../../store/bars-messages.ts';
import { cancelReferralFromBars } from './cancel-referral.ts';
import { createReferralFromBars } from './create-referral.ts';
import {
  checkAgainstDefinition,
  PROCESS_MESSAGE_DEFINITION,
  SUPPORTED_MESSAGES,
  supportedMessage,
} from './definitions.ts';
import { asBarsError, barsError, replayedError } from './errors.ts';
import { echoHeaders, messageHeaders } from './headers.ts';
import { hostedService } from './hosted.ts';
import { actionOf, cancellationOf, checkNewReferral, focusRequest, readMessage, receiptOf } from './message.ts';
import { responseMessage } from './response.ts';

/** After this long a claimed message still processing is taken to be abandoned (its node stopped) and processed again. */
const ABANDONED_AFTER_SECONDS = 300;

export const processMessage: HearthOperation = {
  code: 'process-message',
  type: false,
  instance: false,
  affectsState: true,
  title: 'Process a BaRS message',
  description:
    'BaRS (NHS Booking and Referral Standard) messages to the services Hearth hosts: a new referral or its ' +
    'cancellation, processed synchronously. Headers X-Request-ID and X-Correlation-ID (UUIDs) are required and ' +
    'echoed; errors carry REC_* codes of https://fhir.nhs.uk/CodeSystem/http-error-codes. See docs/bars.md.',
  parameters: [
    { name: 'content', use: 'in', min: 1, max: '1', type: 'Bundle', documentation: 'The message Bundle (the body).' },
    {
      name: 'async',
      use: 'in',
      min: 0,
      max: '1',
      type: 'boolean',
      documentation: 'Not supported: always synchronous.',
    },
    { name: 'return', use: 'out', min: 0, max: '1', type: 'Bundle', documentation: 'The response message Bundle.' },
  ],
  scope: { type: 'ServiceRequest', permission: 'c' },
  standardDefinition: PROCESS_MESSAGE_DEFINITION,
  mapError: (error, req) => asBarsError(error, echoHeaders(req.headers)),
  handle: async (req, ctx) => ({ ...(await receive(req, ctx)), headers: echoHeaders(req.headers) }),
};

export const BARS_OPERATIONS: HearthOperation[] = [processMessage];

async function receive(req: FhirRequest, ctx: InteractionContext): Promise<FhirResponse> {
  const headers = messageHeaders(req.headers);
  requireScope(ctx.access, 'Task', 'c');
  if (req.query.some(([k, v]) => k === 'async' && v === 'true')) {
    throw barsError(
      'invalid',
      'not-supported',
      'BaRS messages are processed synchronously: async=true is not supported',
    );
  }
  const ids: MessageIds = { requestId: headers.requestId, correlationId: headers.correlationId };
  const db = await ctx.repo.queryable();
  const claim = await claimMessage(
    db,
    ids,
    {
      ...receiptOf(req.body),
      clientId: ctx.access?.clientId,
      endUserOrganisation: headers.endUserOrganisation,
      requestingPractitioner: headers.requestingPractitioner,
    },
    ABANDONED_AFTER_SECONDS,
  );
  if (!claim.claimed) {
    if (claim.state === 'processing') {
      throw barsError(
        'too-early',
        'transient',
        'The first attempt of this message is still being processed; retry later',
      );
    }
    if (claim.state === 'completed') {
      throw barsError(
        'conflict',
        'duplicate',
        'This message has been recognised as having already been successfully processed',
      );
    }
    throw replayedError(claim.status ?? 400, claim.outcome ?? { resourceType: 'OperationOutcome', issue: [] });
  }
  try {
    return await processClaimed(req, ctx, ids);
  } catch (error) {
    const answer = asBarsError(error, echoHeaders(req.headers));
    if (answer.status < 500) await failMessage(db, ids, answer.status, answer.toOperationOutcome());
    else await releaseMessage(db, ids);
    throw answer;
  }
}

async function processClaimed(req: FhirRequest, ctx: InteractionContext, ids: MessageIds): Promise<FhirResponse> {
  const settings = ctx.bars ?? { services: [], versions: DEFAULT_BARS_VERSIONS };
  const message = readMessage(req.body, settings.versions);
  const hosted = await hostedService(ctx.repo, message, settings.services);
  const action = actionOf(message);
  if (action === 'response') {
    const answered = message.header.response?.identifier;
    if (!answered) {
      throw barsError('invalid', 'invariant', 'A servicerequest-response needs MessageHeader.response.identifier', [
        'MessageHeader.response',
      ]);
    }
    if (!(await knownMessageBundle(await ctx.repo.queryable(), answered))) {
      throw barsError('not-found', 'not-found', `No message with Bundle.id ${answered} was received here`, [
        'MessageHeader.response.identifier',
      ]);
    }
    throw barsError(
      'processing',
      'not-supported',
      'Hearth sends no BaRS requests yet, so it processes no servicerequest-response',
      ['MessageHeader.eventCoding'],
    );
  }
  const definition = supportedMessage(message.header.definition);
  if (definition?.kind !== action) {
    const wanted = SUPPORTED_MESSAGES.find((m) => m.kind === action)!.url;
    throw barsError(
      'processing',
      'not-supported',
      `MessageHeader.definition "${message.header.definition ?? ''}" is not one Hearth receives for this event and reason (${wanted})`,
      ['MessageHeader.definition'],
    );
  }
  checkAgainstDefinition(message.bundle, definition);
  const sr = focusRequest(message);
  if (action === 'referral') {
    checkNewReferral(message, sr.resource);
    const created = await ctx.repo.transaction(async (tx) => {
      const made = await createReferralFromBars({ ...ctx, repo: tx }, message, hosted, sr);
      await completeMessage(await tx.queryable(), ids, {
        serviceRequestId: made.serviceRequest.id,
        taskId: made.task.id,
      });
      return made;
    });
    return ok(responseMessage(message, hosted, created.serviceRequest, created.resources, ctx.baseUrl));
  }
  const cancellation = { ...cancellationOf(sr), sent: sr.resource };
  const cancelled = await ctx.repo.transaction(async (tx) => {
    const done = await cancelReferralFromBars({ ...ctx, repo: tx }, message, hosted, cancellation);
    await completeMessage(await tx.queryable(), ids, {
      serviceRequestId: done.serviceRequest.id,
      taskId: done.tasks[0]?.id,
    });
    return done;
  });
  const resources = [cancelled.serviceRequest, ...cancelled.tasks];
  return ok(responseMessage(message, hosted, cancelled.serviceRequest, resources, ctx.baseUrl));
}

function ok(body: Bundle): FhirResponse {
  return { status: 200, body };
}
