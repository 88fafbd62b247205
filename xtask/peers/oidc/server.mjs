// A strict OAuth 2 / OIDC provider for the ccc toolkit's tests. Started by `cargo xtask peers up`
// on 127.0.0.1:$PORT. PKCE (S256) is required, codes are single use, refresh tokens rotate.
import http from 'node:http';
import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.PORT || 0);
// ISSUER: the address clients use, when it is not the listener's own (a proxy in front, as
// in `cargo xtask soak`)
const issuer = process.env.ISSUER || `http://127.0.0.1:${port}`;

// The one test account the password grant accepts (dev interactions accept any login name).
const accounts = { alice: { password: 'alice-password', email: 'alice@example.com' } };

// Counts token-endpoint requests per grant type, so tests can prove single-flight refresh.
const counters = {};

const configuration = {
  clients: [
    {
      client_id: 'ccc-public',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    },
    {
      client_id: 'ccc-confidential',
      client_secret: 'ccc-confidential-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials', 'authorization_code', 'refresh_token', 'password'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    },
  ],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    deviceFlow: { enabled: true },
  },
  rotateRefreshToken: true,
  scopes: ['openid', 'offline_access', 'email', 'api'],
  claims: { openid: ['sub'], email: ['email'] },
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: accounts[id]?.email }),
  }),
  ttl: {
    AccessToken: Number(process.env.ACCESS_TOKEN_TTL || 300),
    ClientCredentials: Number(process.env.ACCESS_TOKEN_TTL || 300),
    IdToken: 3600,
    RefreshToken: 86400,
    Grant: 86400,
    Session: 86400,
    Interaction: 3600,
    DeviceCode: 600,
    AuthorizationCode: 60,
  },
};

const provider = new Provider(issuer, configuration);

// A stand-in for an Entra ID tenant: the same provider, its issuer `{authority}/{tenant}/v2.0`
// as Entra's (so a client builds it from an authority and a tenant), with a public client like
// a developer app registration and Azure-style `.default` scopes.
const tenantPath = '/ccc-tenant/v2.0';
const entra = new Provider(`${issuer}${tenantPath}`, {
  ...configuration,
  clients: [
    {
      client_id: 'azure-dev',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    },
  ],
  scopes: ['openid', 'offline_access', 'https://management.azure.com/.default', 'https://vault.azure.net/.default'],
});

// The resource-owner password grant is not built in (it is discouraged); tests of the client's
// password flow need it, so it is registered here, issuing tokens the way built-in grants do.
provider.registerGrantType('password', async (ctx) => {
  const { client, params } = ctx.oidc;
  const account = accounts[params.username];
  if (!account || account.password !== params.password) {
    throw new errors.InvalidGrant('wrong username or password');
  }
  const requested = String(params.scope || 'openid').split(' ').filter(Boolean);
  const { AccessToken, RefreshToken, Grant } = provider;
  const grant = new Grant({ accountId: params.username, clientId: client.clientId });
  grant.addOIDCScope(requested.filter((s) => ['openid', 'offline_access', 'email'].includes(s)).join(' '));
  const grantId = await grant.save();
  const scope = requested.join(' ');
  const at = new AccessToken({ accountId: params.username, client, grantId, scope, gty: 'password' });
  const body = { access_token: await at.save(), token_type: 'Bearer', expires_in: at.expiration, scope };
  if (requested.includes('offline_access')) {
    const rt = new RefreshToken({ accountId: params.username, client, grantId, scope, gty: 'password' });
    body.refresh_token = await rt.save();
  }
  ctx.body = body;
}, ['username', 'password', 'scope']);

provider.use(async (ctx, next) => {
  if (ctx.path === '/test/counters') {
    ctx.body = counters;
    return;
  }
  if (ctx.path === '/test/counters/reset' && ctx.method === 'POST') {
    for (const k of Object.keys(counters)) delete counters[k];
    ctx.body = {};
    return;
  }
  if (ctx.path === '/token' && ctx.method === 'POST') {
    await next();
    const grant = ctx.oidc?.params?.grant_type || 'unknown';
    counters[grant] = (counters[grant] || 0) + 1;
    // per account too (`refresh_token:dana`, and `…:refused` for a refused one), so a test
    // can count its own user's grants while other tests run against the same provider
    const account = ctx.oidc?.entities?.RefreshToken?.accountId || ctx.oidc?.entities?.Account?.accountId;
    if (account) {
      const key = `${grant}:${account}${ctx.status >= 400 ? ':refused' : ''}`;
      counters[key] = (counters[key] || 0) + 1;
    }
    return;
  }
  await next();
});

// the tenant's token requests are counted too (`tenant:refresh_token:dana`)
entra.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && ctx.method === 'POST') {
    const grant = ctx.oidc?.params?.grant_type || 'unknown';
    const account = ctx.oidc?.entities?.RefreshToken?.accountId || ctx.oidc?.entities?.Account?.accountId;
    const key = `tenant:${grant}:${account}${ctx.status >= 400 ? ':refused' : ''}`;
    counters[key] = (counters[key] || 0) + 1;
  }
});

// one port: the tenant's paths go to the tenant's provider, mounted where its issuer says
// (oidc-provider reads the mount path from `originalUrl`)
const main = provider.callback();
const tenant = entra.callback();
const server = http.createServer((req, res) => {
  if (req.url === tenantPath || req.url.startsWith(`${tenantPath}/`) || req.url.startsWith(`${tenantPath}?`)) {
    req.originalUrl = req.url;
    req.url = req.url.slice(tenantPath.length) || '/';
    return tenant(req, res);
  }
  return main(req, res);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer} (and an Entra-like tenant at ${issuer}${tenantPath})`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
