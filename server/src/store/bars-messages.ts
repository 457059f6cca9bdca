/**
 * SQL of the BaRS message log (migration 013): claiming a message's
 * X-Request-ID + X-Correlation-ID before it is processed, recording how it
 * ended, and finding messages by Bundle.id or ServiceRequest.
 */
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { Queryable } from './resources.ts';

export interface MessageIds {
  requestId: string;
  correlationId: string;
}

/** What is known of a message when it arrives (for the audit record; each may be missing in a malformed one). */
export interface MessageReceipt {
  clientId?: string;
  bundleId?: string;
  event?: string;
  reason?: string;
  sourceEndpoint?: string;
  endUserOrganisation?: unknown;
  requestingPractitioner?: unknown;
}

export type MessageState = 'processing' | 'completed' | 'failed';

/** Claimed: this request processes the message. Otherwise how the earlier attempt stands. */
export type Claim =
  { claimed: true } | { claimed: false; state: MessageState; status?: number; outcome?: OperationOutcome };

/**
 * Claims the pair for this attempt: a new pair, or one whose attempt has been
 * processing for longer than `staleSeconds` (its node is presumed gone).
 * One statement, committed at once, so a concurrent retry sees the claim.
 */
export async function claimMessage(
  db: Queryable,
  ids: MessageIds,
  receipt: MessageReceipt,
  staleSeconds: number,
): Promise<Claim> {
  const { rows } = await db.query(
    `INSERT INTO bars_message (request_id, correlation_id, state, client_id, bundle_id, event, reason,
                               source_endpoint, end_user_organisation, requesting_practitioner)
     VALUES ($1, $2, 'processing', $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (request_id, correlation_id) DO UPDATE SET started = now()
       WHERE bars_message.state = 'processing' AND bars_message.started < now() - make_interval(secs => $10)
     RETURNING request_id`,
    [
      ids.requestId,
      ids.correlationId,
      receipt.clientId ?? null,
      receipt.bundleId ?? null,
      receipt.event ?? null,
      receipt.reason ?? null,
      receipt.sourceEndpoint ?? null,
      json(receipt.endUserOrganisation),
      json(receipt.requestingPractitioner),
      staleSeconds,
    ],
  );
  if (rows.length) return { claimed: true };
  const existing = await db.query<{ state: MessageState; status: number | null; outcome: OperationOutcome | null }>(
    'SELECT state, status, outcome FROM bars_message WHERE request_id = $1 AND correlation_id = $2',
    [ids.requestId, ids.correlationId],
  );
  const row = existing.rows[0];
  // Released between the two statements (a server error): as good as processing; the sender retries.
  if (!row) return { claimed: false, state: 'processing' };
  return { claimed: false, state: row.state, status: row.status ?? undefined, outcome: row.outcome ?? undefined };
}

/** Marks the message processed; run in the transaction of its writes, so it is completed if and only if they are. */
export async function completeMessage(
  db: Queryable,
  ids: MessageIds,
  referral: { serviceRequestId?: string; taskId?: string },
): Promise<void> {
  await db.query(
    `UPDATE bars_message SET state = 'completed', finished = now(), status = 200, service_request_id = $3, task_id = $4
      WHERE request_id = $1 AND correlation_id = $2`,
    [ids.requestId, ids.correlationId, referral.serviceRequestId ?? null, referral.taskId ?? null],
  );
}

/** Records the refusal a retry is answered with again. */
export async function failMessage(
  db: Queryable,
  ids: MessageIds,
  status: number,
  outcome: OperationOutcome,
): Promise<void> {
  await db.query(
    `UPDATE bars_message SET state = 'failed', finished = now(), status = $3, outcome = $4
      WHERE request_id = $1 AND correlation_id = $2`,
    [ids.requestId, ids.correlationId, status, JSON.stringify(outcome)],
  );
}

/** Forgets an attempt that ended in a server error: a retry is processed afresh. */
export async function releaseMessage(db: Queryable, ids: MessageIds): Promise<void> {
  await db.query(`DELETE FROM bars_message WHERE request_id = $1 AND correlation_id = $2 AND state = 'processing'`, [
    ids.requestId,
    ids.correlationId,
  ]);
}

/** Whether a message with this Bundle.id was received and processed here. */
export async function knownMessageBundle(db: Queryable, bundleId: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM bars_message WHERE bundle_id = $1 AND state = 'completed' LIMIT 1`, [
    bundleId,
  ]);
  return rows.length > 0;
}

export interface MessageRecord extends MessageIds, MessageReceipt {
  state: MessageState;
  serviceRequestId?: string;
  taskId?: string;
  received: string;
}

/** The messages that created or changed a ServiceRequest, oldest first (audit). */
export async function messagesOfServiceRequest(db: Queryable, serviceRequestId: string): Promise<MessageRecord[]> {
  const { rows } = await db.query(
    `SELECT * FROM bars_message WHERE service_request_id = $1 ORDER BY received, request_id`,
    [serviceRequestId],
  );
  return rows.map((r) => ({
    requestId: r.request_id,
    correlationId: r.correlation_id,
    state: r.state,
    clientId: r.client_id ?? undefined,
    bundleId: r.bundle_id ?? undefined,
    event: r.event ?? undefined,
    reason: r.reason ?? undefined,
    sourceEndpoint: r.source_endpoint ?? undefined,
    endUserOrganisation: r.end_user_organisation ?? undefined,
    requestingPractitioner: r.requesting_practitioner ?? undefined,
    serviceRequestId: r.service_request_id ?? undefined,
    taskId: r.task_id ?? undefined,
    received: (r.received as Date).toISOString(),
  }));
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}
