// A real OpenID Provider (panva's oidc-provider) for flask-idguard's test suite.
//
// Started by tests/test_oidc_server.py on loopback: it listens on an ephemeral port and prints
// one line, `listening <issuer>`, once it accepts connections. Clients obtain JWT access tokens
// for a resource indicator by client credentials, plain or DPoP-bound (send a DPoP proof).
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const RESOURCES = {
  // resource indicator -> access token lifetime in seconds
  'https://api.test': 300,
  'https://other-api.test': 300,
};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'rs256-test', alg: 'RS256', use: 'sig' };

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'idguard-tests',
      client_secret: 'idguard-tests-secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
      scope: 'read:a read:b',
    }],
    jwks: { keys: [signingKey] },
    scopes: ['read:a', 'read:b'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      dPoP: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'https://api.test',
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resourceIndicator) => {
          if (!(resourceIndicator in RESOURCES)) {
            throw new Provider.errors.InvalidTarget();
          }
          return {
            scope: 'read:a read:b',
            audience: resourceIndicator,
            accessTokenTTL: RESOURCES[resourceIndicator],
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`listening ${issuer}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
