/**
 * Every error becomes an OperationOutcome with the status from the one table in
 * fhir/errors.ts. Fastify's own errors (media type, body size, JSON) are mapped
 * onto the same categories; anything unexpected is a 500 without internals.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FhirError, type ErrorCategory } from '../../fhir/errors.ts';

const FASTIFY_CODES: Record<string, ErrorCategory> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'too-costly',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'structure',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'structure',
};

export function toFhirError(error: unknown): FhirError | undefined {
  if (error instanceof FhirError) return error;
  const e = error as FastifyError;
  const category = e.code ? FASTIFY_CODES[e.code] : undefined;
  if (category) return new FhirError(category, e.message);
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new FhirError('invalid', e.message);
  return undefined;
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const fhirError = toFhirError(error);
    if (fhirError) {
      // An operation may answer an unexpected error in its own form (BaRS): the cause is still logged.
      if (fhirError.category === 'exception' && fhirError.cause)
        request.log.error({ err: fhirError.cause }, 'unexpected error');
      return sendOutcome(reply, fhirError);
    }
    request.log.error({ err: error }, 'unexpected error');
    const internal = new FhirError('exception', 'An unexpected error occurred; it has been logged with the request id');
    return sendOutcome(reply, internal);
  });
  app.setNotFoundHandler((request, reply) => {
    return sendOutcome(reply, new FhirError('not-found', `Nothing at ${request.method} ${request.url.split('?')[0]}`));
  });
}

function sendOutcome(reply: FastifyReply, error: FhirError): FastifyReply {
  reply.code(error.status).header('Content-Type', 'application/fhir+json; charset=utf-8');
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply.send(JSON.stringify(error.toOperationOutcome()));
}
