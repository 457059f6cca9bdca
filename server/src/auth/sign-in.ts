/**
 * The sign-in page of the authorization endpoint: plain HTML, no script, the
 * authorization request carried in hidden fields, every value escaped. Its
 * Content-Security-Policy allows its own form (and the redirect back to the
 * app after it) and inline styles, nothing else.
 */
import type { AuthorizeOutcome, AuthorizeRequest } from './authorization-server.ts';

const REQUEST_FIELDS: (keyof AuthorizeRequest)[] = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'aud',
  'code_challenge',
  'code_challenge_method',
];

export function signInPage(outcome: Extract<AuthorizeOutcome, { kind: 'sign-in' }>, action: string): string {
  const hidden = REQUEST_FIELDS.map((f) => {
    const value = outcome.request[f];
    return value === undefined ? '' : `<input type="hidden" name="${f}" value="${escape(value)}">`;
  }).join('');
  const roles = outcome.roles
    ? `<label>Role <select name="role">${outcome.roles
        .map(
          (r) =>
            `<option value="${escape(r.practitionerRole)}">${escape(r.practitionerRole)} at ${escape(r.organization)}</option>`,
        )
        .join('')}</select></label>`
    : '';
  const patient = outcome.choosePatient
    ? '<label>Patient (Hearth id or NHS number) <input name="patient" autocomplete="off" required></label>'
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to Hearth</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0}input,select,button{display:block;width:100%;padding:.5rem;margin-top:.3rem;font:inherit}
.error{color:#a00}</style></head>
<body><h1>Sign in to Hearth</h1>
<p>${escape(outcome.client.name)} asks to act for you.</p>
${outcome.error ? `<p class="error" role="alert">${escape(outcome.error)}</p>` : ''}
<form method="post" action="${escape(action)}">${hidden}
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
${roles}${patient}<button type="submit">Sign in</button></form></body></html>`;
}

/** The page's CSP: its form may post to the endpoint and the sign-in may redirect back to the app. */
export function signInPolicy(redirectUri: string | undefined): string {
  const back = redirectUri ? ` ${new URL(redirectUri).origin}` : '';
  return `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${back}; frame-ancestors 'none'; base-uri 'none'`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
