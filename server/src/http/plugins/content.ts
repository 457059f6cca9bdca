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

/** Deeper JSON than any FHIR resource needs (a Questionnaire 40 items deep is about 90) is refused. */
export const MAX_JSON_DEPTH = 128;

/** Whether a parsed JSON value nests deeper than `max` (iterative: no recursion to exhaust). */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(node))
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

export async function registerContentTypes(app: FastifyInstance): Promise<void> {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return done(new FhirError('structure', `The body is not valid JSON: ${(error as Error).message}`), undefined);
    }
    if (depthExceeds(parsed, MAX_JSON_DEPTH)) {
      return done(new FhirError('structure', `The body is nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    }
    done(null, parsed);
  });
  await app.register(formbody);
}

/** Checks _format and Accept; throws 406 unless JSON (or one of `also`, e.g. NDJSON for a Bulk Data file) can satisfy them. */
export function negotiateFormat(
  format: string | undefined,
  accept: string | undefined,
  also: readonly string[] = [],
): void {
  if (format !== undefined) {
    if (!JSON_FORMATS.has(format.split(';')[0].trim())) {
      throw new FhirError('not-acceptable', `_format "${format}" is not supported; this server speaks JSON only`);
    }
    return; // _format overrides Accept
  }
  if (!accept) return;
  const ranges = accept.split(',').map((r) => r.split(';')[0].trim().toLowerCase());
  const ok = ranges.some(
    (r) =>
      r === '*/*' || r === 'application/*' || JSON_FORMATS.has(r) || r === 'application/fhir+json' || also.includes(r),
  );
  if (!ok) throw new FhirError('not-acceptable', `Accept "${accept}" cannot be met; this server returns ${FHIR_JSON}`);
}
