/**
 * What a user's tokens say about them: the access token's claims (fhirUser,
 * role, organisation, patient) and Hearth's own token response and
 * introspection fields naming the role and organisation, so a client need not
 * read them out of the access token (docs/security-tokens.md).
 */

/** The access token claims of a user acting in a role (with a patient in context, if launched with one). */
export function userClaims(
  role: { practitioner: string; organization: string },
  practitionerRole: string,
  patient: string | undefined,
): Record<string, unknown> {
  return {
    fhirUser: role.practitioner,
    practitioner_role: practitionerRole,
    organization: role.organization,
    ...(patient ? { patient } : {}),
  };
}

/**
 * The role and organisation a user acts for, as Hearth's own token response
 * fields (RFC 6749 §8.2: a vendor prefix; clients ignore fields they do not know).
 */
export function hearthContext(claims: Record<string, unknown>): Record<string, string> {
  const role = claims.practitioner_role;
  const organization = claims.organization;
  if (typeof role !== 'string') return {};
  return {
    hearth_practitioner_role: role,
    ...(typeof organization === 'string' ? { hearth_organization: organization } : {}),
  };
}
