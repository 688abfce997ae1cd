// Switchyard's development and test identity provider: the OpenID Certified `oidc-provider`
// with a static directory, a real login form (not the package's development interactions,
// which accept anything) and consent granted automatically to the one first-party client.
//
//   IDP_PORT (3900)  IDP_CLIENT_SECRET
// The clients are "native" with loopback redirect URIs, so (RFC 8252) any port on 127.0.0.1
// is accepted: `make run` on 3000, the browser suite on 3100, Rust tests on random ports.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';
import { users, checkPassword } from './users.mjs';

const port = Number(process.env.IDP_PORT ?? 3900);
const issuer = `http://127.0.0.1:${port}`;
const clientSecret = process.env.IDP_CLIENT_SECRET ?? 'switchyard-dev-secret';

// Fresh signing keys each start: one RSA (RS256) and one EC (ES256).
function jwk(type, options, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `${alg.toLowerCase()}-${crypto.randomUUID()}` };
}
const keys = [jwk('rsa', { modulusLength: 2048 }, 'RS256'), jwk('ec', { namedCurve: 'P-256' }, 'ES256')];

const client = (id, alg) => ({
  client_id: id,
  client_secret: clientSecret,
  application_type: 'native',
  redirect_uris: ['http://127.0.0.1/auth/callback'],
  post_logout_redirect_uris: ['http://127.0.0.1/auth/signed-out'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: alg,
});

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title, body) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · Company SSO</title>
<style>body{font-family:system-ui,sans-serif;background:#f1f5f9;margin:0;display:grid;place-items:center;min-height:100vh}
main{background:#fff;padding:2rem;border-radius:12px;box-shadow:0 1px 3px #0002;width:min(22rem,90vw)}
h1{font-size:1.25rem;margin:0 0 1rem}label{display:block;font-size:.875rem;margin:.75rem 0 .25rem}
input{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #cbd5e1;border-radius:6px;font-size:1rem}
.row{display:flex;gap:.5rem;margin-top:1.25rem}button{flex:1;padding:.6rem;border-radius:6px;border:0;font-size:1rem;cursor:pointer}
.primary{background:#4f46e5;color:#fff}.secondary{background:#e2e8f0}.error{color:#b91c1c;font-size:.875rem}</style>
</head><body><main>${body}</main></body></html>`;

const loginForm = (uid, { username = '', error = '' } = {}) => page('Sign in', `
<h1>Company SSO</h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login" autocomplete="off">
  <label for="username">User name</label>
  <input id="username" name="username" value="${escapeHtml(username)}" required autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required>
  <div class="row"><button class="primary" type="submit">Sign in</button>
  <button class="secondary" type="submit" formaction="/interaction/${uid}/abort" formnovalidate>Cancel</button></div>
</form>`);

const provider = new Provider(issuer, {
  clients: [client('switchyard', 'RS256'), client('switchyard-es256', 'ES256')],
  jwks: { keys },
  cookies: { keys: ['switchyard-idp-dev-cookie-key-1'] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // put the requested claims in the ID token, which is all the app reads
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // `form` is the provider's own hidden form (with its CSRF token); we only restyle the page
      async logoutSource(ctx, form) {
        ctx.body = page('Sign out', `<h1>Sign out of the company SSO?</h1>${form}
<div class="row"><button class="primary" autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button>
<button class="secondary" type="submit" form="op.logoutForm">Stay signed in</button></div>`);
      },
    },
  },
  pkce: { required: () => true },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, id) {
    const user = users[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: user.name, email: user.email, email_verified: true, groups: user.groups };
      },
    };
  },
  ttl: { Session: 12 * 3600, Interaction: 600, Grant: 12 * 3600, IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60 },
});

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const match = req.url.match(/^\/interaction\/([\w-]+)(\/login|\/abort)?$/);
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    const send = (status, html) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
    };
    // Switchyard is the company's own client: consent is implied, never asked.
    if (req.method === 'GET' && !match[2] && details.prompt.name === 'consent') {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      const missing = details.prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    if (req.method === 'GET' && !match[2]) return send(200, loginForm(details.uid));
    if (req.method === 'POST' && match[2] === '/abort') {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user cancelled the sign-in.' }, { mergeWithLastSubmission: false });
    }
    if (req.method === 'POST' && match[2] === '/login') {
      const form = await readForm(req);
      const username = (form.get('username') ?? '').trim();
      if (!checkPassword(username, form.get('password') ?? '')) {
        return send(401, loginForm(details.uid, { username, error: 'Unknown user name or wrong password.' }));
      }
      return provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
    }
    send(405, page('Error', '<h1>Method not allowed</h1>'));
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page('Error', `<h1>Sign-in failed</h1><p>${escapeHtml(err.message)}</p>`));
  }
});

server.listen(port, '127.0.0.1', () => console.log(`identity provider on ${issuer}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
