// @clerk/backend's authenticateRequest against a running local identity provider
// (flask_idguard.devidp), for tests/devidp/test_clerk_backend_sdk.py.
//
// Unlike authenticate.mjs, nothing is stubbed: the SDK fetches the JWKS and handshake payloads
// from the provider's Backend API over loopback. One job per line on stdin, one result per line
// on stdout, so a test module starts node once and drives it step by step.
//
// job:    {id, env: {CLERK_SECRET_KEY, CLERK_PUBLISHABLE_KEY, CLERK_PROXY_URL, CLERK_API_URL},
//          url, method?, headers: [[name, value], ...], now_ms?}
//         now_ms, when given, is what Date.now() and new Date() answer during the job (the test's
//         clock, which may be travelling); otherwise the real clock.
// result: {id, status, reason, message, isSignedIn, headers: [[name, value], ...] (each
//          Set-Cookie separate), toAuth: {userId, sessionId, orgId, orgRole, orgSlug,
//          orgPermissions, sessionStatus} | null, toAuthError, error, fetches: [{method, url,
//          status}], logs: [[level, text], ...]}

import { createInterface } from "node:readline";

const SystemDate = globalThis.Date;
let clock = null;

class TestDate extends SystemDate {
  constructor(...args) {
    if (args.length === 0 && clock !== null) super(clock);
    else super(...args);
  }

  static now() {
    return clock === null ? SystemDate.now() : clock;
  }
}
globalThis.Date = TestDate;

// The SDK's runtime takes the global fetch when it is imported: wrap it first. Only loopback is
// reachable, and every call is recorded for the job that made it.
const systemFetch = globalThis.fetch;
let fetches = null;

globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  const { hostname } = new URL(request.url);
  const call = { method: request.method, url: request.url, status: null };
  if (fetches !== null) fetches.push(call);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(hostname)) {
    throw new TypeError(`devidp.mjs: refusing to fetch ${request.url} (not loopback)`);
  }
  const response = await systemFetch(request);
  call.status = response.status;
  return response;
};

// stdout carries the results: keep the SDK's console output with the job that caused it.
let logs = null;
for (const level of ["log", "info", "warn", "error", "debug"]) {
  console[level] = (...args) => {
    const text = args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(" ");
    if (logs !== null) logs.push([level, text]);
    else process.stderr.write(`[${level}] ${text}\n`);
  };
}

const { createClerkClient } = await import("@clerk/backend");
const { stateFields } = await import("./state.mjs");

function clientFor(env) {
  // Exactly what the provider prints, nothing else: no jwtKey, so the JWKS comes from apiUrl.
  return createClerkClient({
    secretKey: env.CLERK_SECRET_KEY,
    publishableKey: env.CLERK_PUBLISHABLE_KEY,
    proxyUrl: env.CLERK_PROXY_URL,
    apiUrl: env.CLERK_API_URL,
  });
}

async function run(job) {
  const result = {
    id: job.id,
    status: null,
    reason: null,
    message: null,
    isSignedIn: null,
    headers: [],
    toAuth: null,
    toAuthError: null,
    error: null,
    fetches: [],
    logs: [],
  };
  clock = job.now_ms ?? null;
  fetches = result.fetches;
  logs = result.logs;
  try {
    const request = new Request(job.url, { method: job.method ?? "GET", headers: job.headers ?? [] });
    const state = await clientFor(job.env).authenticateRequest(request);
    Object.assign(result, stateFields(state));
  } catch (err) {
    result.error = String(err?.stack ?? err);
  } finally {
    clock = null;
    fetches = null;
    logs = null;
  }
  return result;
}

// Jobs run one after the other: the clock, the fetch log and the console capture are global.
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  let result;
  try {
    result = await run(JSON.parse(line));
  } catch (err) {
    result = { id: null, error: `devidp.mjs: bad job: ${err}` };
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}
