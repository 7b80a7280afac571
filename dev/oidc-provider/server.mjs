// A real OpenID provider for dev/run and dev/test: the certified `oidc-provider` package with
// the demo users, its own login page, and nothing that says yes to everyone. Never deployed.
//
//   OIDC_USERS_FILE   JSON [{ username, password, email, groups }], read at every sign-in
//   PORT              0 (default) for a free one; the issuer URL is printed on stdout
//   OIDC_CLIENT_SECRET the confidential client's secret (default "atrium-dev-secret")
//
// Two clients, both "native" so that any loopback port is a valid redirect (RFC 8252 7.3):
//   atrium               public, PKCE only
//   atrium-confidential  with a client secret (client_secret_basic / _post)
//
// Tests may ask for one tampered ID token: POST /_faults {"nonce": "...", "id_token": kind}
// with kind one of other-issuer, other-audience, expired, unknown-key. The token response
// for the authorization request with that nonce then carries an ID token re-signed that way.

import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes, sign, timingSafeEqual } from 'node:crypto';
import Provider from 'oidc-provider';

const usersFile = process.env.OIDC_USERS_FILE;
if (!usersFile) {
  console.error('OIDC_USERS_FILE is not set');
  process.exit(2);
}
const clientSecret = process.env.OIDC_CLIENT_SECRET ?? 'atrium-dev-secret';

function users() {
  return JSON.parse(readFileSync(usersFile, 'utf8'));
}

function findUser(username) {
  return users().find((u) => u.username === username);
}

function passwordMatches(user, password) {
  const a = Buffer.from(user.password);
  const b = Buffer.from(password ?? '');
  return a.length === b.length && timingSafeEqual(a, b);
}

function keyPair(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, jwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}
const signing = keyPair('atrium-dev-signing');
const rogue = keyPair('not-published'); // never in the JWKS: "signed with an unknown key"

const html = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${html(title)}</title>
<style>body{font-family:system-ui,sans-serif;background:#f1f5f9;color:#0f172a;margin:0}
main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:.5rem;border:1px solid #cbd5e1}
label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;margin-top:.25rem;box-sizing:border-box;border:1px solid #64748b;border-radius:.25rem}
button{margin-top:1.5rem;padding:.6rem 1rem;border:0;border-radius:.25rem;background:#115e59;color:#fff;font-weight:600;cursor:pointer}
button.secondary{background:#e2e8f0;color:#0f172a;margin-left:.5rem}.error{background:#fee2e2;color:#7f1d1d;padding:.75rem;border-radius:.25rem}</style>
</head><body><main>${body}</main></body></html>`;

function loginPage(uid, clientName, error) {
  return page('Sign in · Demo University', `<h1>Demo University</h1>
<p>Sign in to continue to ${html(clientName)}.</p>
${error ? `<p class="error" role="alert">${html(error)}</p>` : ''}
<form method="post" action="/interaction/${html(uid)}/login">
<label>Username<input name="username" autocomplete="username" required autofocus></label>
<label>Password<input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${html(uid)}/abort"><button class="secondary" type="submit">Cancel</button></form>`);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) break;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const b64url = (buffer) => Buffer.from(buffer).toString('base64url');

/** The same ID token with one thing wrong, signed again. */
function tamper(idToken, kind, issuer) {
  const [, payloadPart] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
  let key = signing;
  switch (kind) {
    case 'other-issuer': claims.iss = `${issuer}/someone-else`; break;
    case 'other-audience': claims.aud = 'another-client'; claims.azp = 'another-client'; break;
    case 'expired': claims.iat -= 7200; claims.exp = Math.floor(Date.now() / 1000) - 3600; break;
    case 'unknown-key': key = rogue; break;
    default: throw new Error(`unknown fault ${kind}`);
  }
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: key.jwk.kid }));
  const payload = b64url(JSON.stringify(claims));
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), key.privateKey);
  return `${header}.${payload}.${b64url(signature)}`;
}

const faults = new Map(); // nonce -> kind

const server = createServer();
await new Promise((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const redirectUris = ['http://127.0.0.1/auth/callback', 'http://localhost/auth/callback'];
const postLogoutRedirectUris = ['http://127.0.0.1/', 'http://localhost/'];
const common = {
  application_type: 'native',
  grant_types: ['authorization_code'],
  response_types: ['code'],
  redirect_uris: redirectUris,
  post_logout_redirect_uris: postLogoutRedirectUris,
};

const provider = new Provider(issuer, {
  clients: [
    { ...common, client_id: 'atrium', client_name: 'Atrium', token_endpoint_auth_method: 'none' },
    { ...common, client_id: 'atrium-confidential', client_name: 'Atrium', client_secret: clientSecret, token_endpoint_auth_method: 'client_secret_basic' },
  ],
  jwks: { keys: [signing.jwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },
  // Like Cognito: the groups and username are in the ID token itself.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub', 'cognito:username', 'cognito:groups'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page('Sign out · Demo University', `<h1>Sign out of Demo University?</h1>${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button class="secondary" type="submit" form="op.logoutForm">No, stay signed in</button>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Signed out · Demo University', '<h1>You are signed out of Demo University.</h1>');
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const user = findUser(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          'cognito:username': user.username,
          'cognito:groups': user.groups,
          preferred_username: user.username,
          name: user.username,
          email: user.email,
          email_verified: true,
        };
      },
    };
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Sign-in error · Demo University', `<h1>Something went wrong</h1>${Object.entries(out)
      .map(([k, v]) => `<p><strong>${html(k)}</strong>: ${html(v)}</p>`).join('')}`);
  },
});

// The provider's own login and consent steps. Consent is given by the institution for its
// own portal, so the grant is recorded without asking.
provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)(\/login|\/abort)?$/.exec(ctx.path);
  if (!match) return next();
  ctx.set('cache-control', 'no-store');
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const client = await provider.Client.find(details.params.client_id);
  const clientName = client?.clientName ?? details.params.client_id;
  const step = match[2];
  if (step === '/abort' && ctx.method === 'POST') {
    const to = await provider.interactionResult(ctx.req, ctx.res, { error: 'access_denied', error_description: 'The user cancelled the sign-in' }, { mergeWithLastSubmission: false });
    ctx.status = 303;
    return ctx.redirect(to);
  }
  if (step === '/login' && ctx.method === 'POST') {
    const form = await readForm(ctx.req);
    const user = findUser(form.get('username') ?? '');
    if (!user || !passwordMatches(user, form.get('password'))) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginPage(details.uid, clientName, 'That username and password do not match.');
      return undefined;
    }
    const to = await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: user.username } }, { mergeWithLastSubmission: false });
    ctx.status = 303;
    return ctx.redirect(to);
  }
  if (ctx.method !== 'GET') return next();
  if (details.prompt.name === 'login') {
    ctx.type = 'html';
    ctx.body = loginPage(details.uid, clientName);
    return undefined;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  if (details.prompt.details.missingOIDCScope) grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
  if (details.prompt.details.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
  const to = await provider.interactionResult(ctx.req, ctx.res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  ctx.status = 303;
  return ctx.redirect(to);
});

// Fault injection, and the tampering it asks for on the way out of the token endpoint.
provider.use(async (ctx, next) => {
  if (ctx.path === '/_faults' && ctx.method === 'POST') {
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    const { nonce, id_token: kind } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (!nonce || !['other-issuer', 'other-audience', 'expired', 'unknown-key'].includes(kind)) {
      ctx.status = 400;
      ctx.body = { error: 'need {"nonce": "...", "id_token": "other-issuer|other-audience|expired|unknown-key"}' };
      return;
    }
    faults.set(nonce, kind);
    ctx.status = 204;
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.body && typeof ctx.body === 'object' && ctx.body.id_token) {
    const [, payload] = ctx.body.id_token.split('.');
    const { nonce } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const kind = faults.get(nonce);
    if (kind) {
      faults.delete(nonce);
      ctx.body = { ...ctx.body, id_token: tamper(ctx.body.id_token, kind, issuer) };
    }
  }
});

server.on('request', provider.callback());
console.log(issuer);
