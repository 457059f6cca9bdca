/**
 * Implicit ranges of FHIR date/dateTime/instant search values: "2025" covers the
 * whole year, "2025-02-03T10:00" the minute (R4 search, date parameters).
 */
import { FhirError } from '../fhir/errors.ts';

const DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export interface DateRange {
  lo: string;
  hi: string;
}

export function dateRange(value: string): DateRange {
  const m = DATE.exec(value);
  if (!m) throw new FhirError('invalid', `Invalid date search value "${value}"`);
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const zone = tz ?? 'Z';
  const year = Number(y);
  const month = mo ? Number(mo) - 1 : 0;
  const day = d ? Number(d) : 1;
  if (month > 11 || day < 1 || day > 31 || Number(h ?? 0) > 23 || Number(mi ?? 0) > 59 || Number(s ?? 0) > 59) {
    throw new FhirError('invalid', `Invalid date search value "${value}"`);
  }
  const start = (parts: string) => new Date(parts).getTime();
  let loMs: number;
  let hiMs: number;
  if (h !== undefined) {
    const base = `${y}-${mo}-${d}T${h}:${mi}`;
    if (s !== undefined) {
      loMs = start(`${base}:${s}${frac ?? ''}${zone}`);
      hiMs = frac ? loMs : start(`${base}:${s}${zone}`) + 999;
    } else {
      loMs = start(`${base}:00${zone}`);
      hiMs = loMs + 60_000 - 1;
    }
  } else if (d !== undefined) {
    loMs = Date.UTC(year, month, day);
    hiMs = Date.UTC(year, month, day + 1) - 1;
  } else if (mo !== undefined) {
    loMs = Date.UTC(year, month, 1);
    hiMs = Date.UTC(year, month + 1, 1) - 1;
  } else {
    loMs = Date.UTC(year, 0, 1);
    hiMs = Date.UTC(year + 1, 0, 1) - 1;
  }
  if (Number.isNaN(loMs) || Number.isNaN(hiMs)) throw new FhirError('invalid', `Invalid date search value "${value}"`);
  return { lo: new Date(loMs).toISOString(), hi: new Date(hiMs).toISOString() };
}
