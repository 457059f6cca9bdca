/** Display names of people, roles, organisations and teams, for screens (never for URLs or logs). */
import type { HumanName, Resource } from '@medplum/fhirtypes';

export function humanName(names: HumanName[] | undefined): string {
  const n = names?.find((x) => x.use === 'official') ?? names?.[0];
  if (!n) return '';
  if (n.text) return n.text;
  return [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter(Boolean).join(' ');
}

/** A resource's display name; roles are named by their practitioner, title and organisation when known. */
export function displayOf(resource: Resource | undefined, lookup: (ref: string) => Resource | undefined): string {
  if (!resource) return '';
  switch (resource.resourceType) {
    case 'Patient':
    case 'Practitioner':
    case 'RelatedPerson':
      return humanName(resource.name) || `${resource.resourceType}/${resource.id}`;
    case 'Organization':
    case 'CareTeam':
    case 'HealthcareService':
      return resource.name ?? `${resource.resourceType}/${resource.id}`;
    case 'PractitionerRole': {
      const who = resource.practitioner?.reference
        ? displayOf(lookup(resource.practitioner.reference), lookup)
        : resource.practitioner?.display;
      const title = resource.code?.[0]?.text ?? resource.code?.[0]?.coding?.[0]?.display;
      const org = resource.organization?.reference
        ? displayOf(lookup(resource.organization.reference), lookup)
        : undefined;
      const detail = [title, org].filter(Boolean).join(', ');
      return who ? (detail ? `${who} (${detail})` : who) : detail || `PractitionerRole/${resource.id}`;
    }
    default:
      return `${resource.resourceType}/${resource.id}`;
  }
}

/** The NHS number of a patient, spaced 3-3-4 as the NHS shows it. */
export function nhsNumber(identifiers: { system?: string; value?: string }[] | undefined): string | undefined {
  const v = identifiers?.find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')?.value;
  return v && /^\d{10}$/.test(v) ? `${v.slice(0, 3)} ${v.slice(3, 6)} ${v.slice(6)}` : v;
}
