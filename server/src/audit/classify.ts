/** Which RESTful interaction a FHIR request is (for its AuditEvent), and the resource it is about. */
import type { Interaction } from './audit-event.ts';

export function classify(method: string, path: string): { interaction: Interaction; what?: string } {
  const m = method === 'HEAD' ? 'GET' : method;
  const parts = path === '' ? [] : path.split('/');
  const [type, second, third, fourth] = parts;
  if (parts.some((p) => p.startsWith('$')))
    return { interaction: 'operation', what: second && !second.startsWith('$') ? `${type}/${second}` : undefined };
  if (parts.length === 0) return { interaction: m === 'POST' ? 'transaction' : 'search-system' };
  if (type === 'metadata') return { interaction: 'capabilities' };
  if (type === '_history') return { interaction: 'history-system' };
  if (type === '_search') return { interaction: 'search-system' };
  if (parts.length === 1) {
    if (m === 'GET') return { interaction: 'search-type' };
    if (m === 'POST') return { interaction: 'create' };
    return { interaction: m === 'PUT' ? 'update' : m === 'PATCH' ? 'patch' : 'delete' };
  }
  if (second === '_search') return { interaction: 'search-type' };
  if (second === '_history') return { interaction: 'history-type' };
  const what = `${type}/${second}`;
  if (parts.length === 2) {
    if (m === 'GET') return { interaction: 'read', what };
    return { interaction: m === 'PUT' ? 'update' : m === 'PATCH' ? 'patch' : 'delete', what };
  }
  if (third === '_history')
    return fourth
      ? { interaction: 'vread', what: `${what}/_history/${fourth}` }
      : { interaction: 'history-instance', what };
  return { interaction: 'search-compartment', what };
}
