// @clerk/backend's machine-token API against a running local identity provider
// (flask_idguard.devidp), for tests/devidp/test_machine_tokens_sdk.py: tokens created, verified
// and revoked through the SDK's own clients, and requests authenticated with acceptsToken.
//
// stdin:  {env: {CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY, CLERK_API_URL}, machineSecretKey,
//          appUrl, userId}
// stdout: {steps: [{step, status, reason, message, tokenType, subject, userId, machineId,
//          scopes, claims, error}]}
// Nothing is stubbed; only loopback is reachable.

const systemFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  const { hostname } = new URL(request.url);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(hostname)) {
    throw new TypeError(`devidp_machines.mjs: refusing to fetch ${request.url} (not loopback)`);
  }
  return systemFetch(request);
};

for (const level of ["log", "info", "warn", "error", "debug"]) {
  console[level] = (...args) => process.stderr.write(`[${level}] ${args.join(" ")}\n`);
}

const { createClerkClient } = await import("@clerk/backend");

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

const job = JSON.parse(await readStdin());
const clerk = createClerkClient({
  secretKey: job.env.CLERK_SECRET_KEY,
  publishableKey: job.env.CLERK_PUBLISHABLE_KEY,
  apiUrl: job.env.CLERK_API_URL,
  machineSecretKey: job.machineSecretKey,
});
const steps = [];

async function authenticate(step, token, acceptsToken) {
  const entry = { step };
  try {
    const request = new Request(job.appUrl, { headers: { authorization: `Bearer ${token}` } });
    const state = await clerk.authenticateRequest(request, { acceptsToken });
    const auth = state.toAuth();
    Object.assign(entry, {
      status: state.status,
      reason: state.reason ?? null,
      message: state.message ?? null,
      tokenType: auth?.tokenType ?? null,
      subject: auth?.subject ?? null,
      userId: auth?.userId ?? null,
      machineId: auth?.machineId ?? null,
      scopes: auth?.scopes ?? null,
      claims: auth?.claims ?? null,
    });
  } catch (err) {
    entry.error = String(err?.message ?? err);
  }
  steps.push(entry);
}

async function attempt(step, fn) {
  try {
    return await fn();
  } catch (err) {
    steps.push({ step, error: String(err?.message ?? err), status: err?.status ?? null });
    return null;
  }
}

const opaque = await attempt("m2m-create", () =>
  clerk.m2m.createToken({ secondsUntilExpiration: 600, claims: { env: "sdk" } }),
);
const jwt = await attempt("m2m-create-jwt", () => clerk.m2m.createToken({ tokenFormat: "jwt" }));
if (opaque) {
  const verified = await attempt("m2m-verify", () => clerk.m2m.verify({ token: opaque.token }));
  if (verified) steps.push({ step: "m2m-verify", subject: verified.subject, claims: verified.claims });
  await authenticate("m2m-request", opaque.token, "m2m_token");
  await authenticate("m2m-request-as-api-key", opaque.token, "api_key");
  await attempt("m2m-revoke", () => clerk.m2m.revokeToken({ m2mTokenId: opaque.id }));
  await authenticate("m2m-request-revoked", opaque.token, "m2m_token");
}
if (jwt) {
  await authenticate("m2m-jwt-request", jwt.token, ["m2m_token", "api_key"]);
}
const key = await attempt("api-key-create", () =>
  clerk.apiKeys.create({ name: "sdk", subject: job.userId, scopes: ["read"], claims: { team: "t" } }),
);
if (key) {
  await authenticate("api-key-request", key.secret, "any");
  await attempt("api-key-revoke", () => clerk.apiKeys.revoke({ apiKeyId: key.id }));
  await authenticate("api-key-request-revoked", key.secret, "any");
}
process.stdout.write(JSON.stringify({ steps }));
