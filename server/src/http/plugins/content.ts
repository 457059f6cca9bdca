/**
 * Request bodies and response formats (R4 http.html#mime-type): JSON bodies as
 * application/fhir+json, application/json or application/json-patch+json; forms
 * for POST _search. Responses are JSON only, so _format or Accept asking for
 * XML (or anything else) gets 406.
 */
import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import { FhirError } from '../../fhir/errors.ts';

export const FHIR_JSON = 'application/fhir+json';
const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json-patch+json'];
const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'text/json']);

export async function registerContentTypes(app: FastifyInstance): Promise<void> {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(new FhirError('structure', `The body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });
  await app.register(formbody);
}

/** Checks _format and Accept; throws 406 unless JSON can satisfy them. */
export function negotiateFormat(format: string | undefined, accept: string | undefined): void {
  if (format !== undefined) {
    if (!JSON_FORMATS.has(format.split(';')[0].trim())) {
      throw new FhirError('not-acceptable', `_format "${format}" is not supported; this server speaks JSON only`);
    }
    return; // _format overrides Accept
  }
  if (!accept) return;
  const ranges = accept.split(',').map((r) => r.split(';')[0].trim().toLowerCase());
  const ok = ranges.some(
    (r) => r === '*/*' || r === 'application/*' || JSON_FORMATS.has(r) || r === 'application/fhir+json',
  );
  if (!ok) throw new FhirError('not-acceptable', `Accept "${accept}" cannot be met; this server returns ${FHIR_JSON}`);
}
