// Run scenarios through @clerk/backend's authenticateRequest, for tests/clerk/test_differential.py.
//
// stdin:  a JSON array of scenarios
//   {id, now_ms, method, url, headers: [[name, value], ...],
//    options: {publishableKey, secretKey, jwtKey?, apiUrl?, authorizedParties?, audience?, domain?,
//              isSatellite?, proxyUrl?, signInUrl?, satelliteAutoSync?, organizationSyncOptions?,
//              clockSkewInMs?},
//    acceptsToken?, machineSecretKey?},
//    bapi: {"<METHOD> <path?query>": {status, body} | {network_error: true}}}
// stdout: a JSON array of results
//   {id, status, reason, message, isSignedIn, headers: [[name, value], ...] (Set-Cookie entries
//    separate), toAuth: {userId, sessionId, orgId, orgRole, orgSlug, orgPermissions,
//    sessionStatus, tokenType, isAuthenticated, machineId, subject, scopes, claims} | null,
//    toAuthError, error (authenticateRequest threw),
//    bapi_calls: [{method, url, headers, body, unexpected?}], logs: [[level, text], ...]}
//
// Time is frozen at now_ms for Date.now() and new Date(); fetch is a stub that serves the
// scenario's canned Backend API answers and fails loudly on anything else.

const RealDate = globalThis.Date;
let frozenNow = null;

class FrozenDate extends RealDate {
  constructor(...args) {
    if (args.length === 0 && frozenNow !== null) {
      super(frozenNow);
    } else {
      super(...args);
    }
  }

  static now() {
    return frozenNow === null ? RealDate.now() : frozenNow;
  }
}
globalThis.Date = FrozenDate;

// The fetch stub must be in place before @clerk/backend is imported: its runtime binds the global
// fetch at import time.
let currentBapi = null;
let currentCalls = null;

async function stubFetch(input, init = {}) {
  const request = new Request(input, init);
  const url = new URL(request.url);
  const body = request.method === "GET" || request.method === "HEAD" ? null : await request.text();
  const call = {
    method: request.method,
    url: request.url,
    headers: Object.fromEntries(request.headers.entries()),
    body: body === null ? null : parseMaybeJson(body),
  };
  if (currentCalls === null) {
    throw new Error(`fetch outside a scenario: ${request.method} ${request.url}`);
  }
  currentCalls.push(call);
  const key = `${request.method} ${url.pathname}${url.search}`;
  const canned = currentBapi?.[key];
  if (canned === undefined) {
    call.unexpected = true;
    throw new TypeError(`differential stub: unexpected fetch ${key}`);
  }
  if (canned.network_error) {
    throw new TypeError("fetch failed");
  }
  return new Response(JSON.stringify(canned.body ?? null), {
    status: canned.status ?? 200,
    headers: { "Content-Type": "application/json" },
  });
}
globalThis.fetch = stubFetch;

function parseMaybeJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// console.log writes to stdout, which carries our JSON: capture all console output per scenario.
let currentLogs = null;
for (const level of ["log", "info", "warn", "error", "debug"]) {
  console[level] = (...args) => {
    const text = args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(" ");
    if (currentLogs !== null) {
      currentLogs.push([level, text]);
    } else {
      process.stderr.write(`[${level}] ${text}\n`);
    }
  };
}

const { createClerkClient } = await import("@clerk/backend");
const { stateFields } = await import("./state.mjs");

const CLIENT_KEYS = ["publishableKey", "secretKey", "machineSecretKey", "jwtKey", "apiUrl", "domain", "isSatellite", "proxyUrl", "audience"];

async function runScenario(scenario) {
  const result = {
    id: scenario.id,
    status: null,
    reason: null,
    message: null,
    isSignedIn: null,
    headers: [],
    toAuth: null,
    toAuthError: null,
    error: null,
    bapi_calls: [],
    logs: [],
  };
  frozenNow = scenario.now_ms;
  currentBapi = scenario.bapi ?? {};
  currentCalls = result.bapi_calls;
  currentLogs = result.logs;
  try {
    const options = { ...scenario.options };
    const clientOptions = {};
    for (const key of CLIENT_KEYS) {
      if (options[key] !== undefined) clientOptions[key] = options[key];
    }
    const client = createClerkClient({ ...clientOptions, telemetry: { disabled: true } });
    const request = new Request(scenario.url, {
      method: scenario.method ?? "GET",
      headers: scenario.headers ?? [],
    });
    const state = await client.authenticateRequest(request, options);
    Object.assign(result, stateFields(state));
  } catch (err) {
    result.error = String(err?.message ?? err);
  } finally {
    frozenNow = null;
    currentBapi = null;
    currentCalls = null;
    currentLogs = null;
  }
  return result;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

const scenarios = JSON.parse(await readStdin());
const results = [];
for (const scenario of scenarios) {
  // One at a time: the clock, the fetch stub and the log capture are process-wide.
  results.push(await runScenario(scenario));
}
process.stdout.write(JSON.stringify(results));
