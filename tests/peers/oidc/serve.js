// A certified OpenID Connect provider (panva's oidc-provider) on 127.0.0.1, for the sign-in tests.
// Usage: node serve.js PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
// Its development sign-in page takes any login: that login is the person's subject and their
// verified e-mail address (a real provider would check a password; wavecast only reads the claims).
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: [clientSecret] },
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return { sub: id, email: id.trim().toLowerCase(), email_verified: true }; } };
  },
});

provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
