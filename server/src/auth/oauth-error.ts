/** OAuth errors of the authorization server's endpoints (RFC 6749 §5.2), not OperationOutcomes. */
export class OAuthError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_scope',
    description: string,
    /** Who the refused request was for, when known (a refresh token's user and role), for the audit trail. */
    readonly who?: { username: string; practitionerRole: string },
  ) {
    super(description);
  }

  toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.message };
  }
}
