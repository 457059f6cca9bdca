/** `CarePlan/{id}/$diff` in words: per version, who changed it and when, and what (FHIRPath Patch operations). */
import type { Parameters, Reference } from '@medplum/fhirtypes';
import { part, partsNamed, value, type Part } from '../../fhir/parameters.ts';

export interface VersionChange {
  versionId: string;
  recorded?: string;
  activity?: string;
  authors: Reference[];
}

export interface PlanDiff {
  from: string;
  to: string;
  operations: string[];
  versions: VersionChange[];
}

/** A value of a part as text: primitives as they are, references by reference, anything else briefly. */
function valueText(p: Part | undefined): string {
  if (!p) return '';
  if (p.valueReference) return p.valueReference.display ?? p.valueReference.reference ?? '';
  for (const [key, v] of Object.entries(p)) {
    if (key.startsWith('value') && (typeof v !== 'object' || v === null)) return String(v);
  }
  if (p.part) return p.part.map((x) => `${x.name} ${valueText(x)}`.trim()).join(', ');
  return '(details)';
}

export function describeOperation(parts: Part[] | undefined): string {
  const type = String(value(parts, 'type') ?? '');
  const path = String(value(parts, 'path') ?? '');
  const name = value(parts, 'name');
  const where = name ? `${path}.${name}` : path;
  switch (type) {
    case 'replace':
      return `${where}: ${valueText(part(parts, 'previousValue'))} → ${valueText(part(parts, 'value'))}`;
    case 'add':
    case 'insert':
      return `${where}: added ${valueText(part(parts, 'value'))}`;
    case 'delete':
      return `${where}: removed ${valueText(part(parts, 'previousValue'))}`.trim();
    default:
      return `${type} ${where}`;
  }
}

export function planDiff(answer: Parameters): PlanDiff {
  return {
    from: String(value(answer.parameter, 'from') ?? ''),
    to: String(value(answer.parameter, 'to') ?? ''),
    operations: partsNamed(answer.parameter, 'operation').map((o) => describeOperation(o.part)),
    versions: partsNamed(answer.parameter, 'version').map((v) => {
      const agents = partsNamed(v.part, 'agent');
      const authors = agents.filter((a) => value(a.part, 'type') === 'author');
      return {
        versionId: String(value(v.part, 'versionId') ?? ''),
        recorded: value(v.part, 'recorded') as string | undefined,
        activity: value(v.part, 'activity') as string | undefined,
        authors: (authors.length ? authors : agents)
          .map((a) => part(a.part, 'who')?.valueReference)
          .filter((r): r is Reference => !!r),
      };
    }),
  };
}
