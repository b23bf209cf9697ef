// What @clerk/backend's authenticateRequest gave, in the shape the Python tests read: one
// shape for every harness (authenticate.mjs, devidp.mjs).

/** The headers as [name, value] pairs, each Set-Cookie apart. */
export function headerList(headers) {
  const out = [];
  for (const [name, value] of headers.entries()) {
    if (name !== "set-cookie") out.push([name, value]);
  }
  for (const value of headers.getSetCookie()) out.push(["set-cookie", value]);
  return out;
}

/** The auth object's fields (session and, for acceptsToken routes, machine ones), or null. */
export function authFields(auth) {
  if (auth === null || auth === undefined) return null;
  return {
    userId: auth.userId ?? null,
    sessionId: auth.sessionId ?? null,
    orgId: auth.orgId ?? null,
    orgRole: auth.orgRole ?? null,
    orgSlug: auth.orgSlug ?? null,
    orgPermissions: auth.orgPermissions ?? null,
    sessionStatus: auth.sessionStatus ?? null,
    // Machine auth objects (acceptsToken): compared for the machine scenarios only.
    tokenType: auth.tokenType ?? null,
    isAuthenticated: auth.isAuthenticated ?? null,
    machineId: auth.machineId ?? null,
    subject: auth.subject ?? null,
    scopes: auth.scopes ?? null,
    claims: auth.claims ?? null,
  };
}

/** status, reason, message, isSignedIn, headers, and toAuth() or the error it threw. */
export function stateFields(state) {
  const fields = {
    status: state.status,
    reason: state.reason ?? null,
    message: state.message ?? null,
    isSignedIn: state.isSignedIn,
    headers: headerList(state.headers ?? new Headers()),
    toAuth: null,
    toAuthError: null,
  };
  try {
    fields.toAuth = authFields(state.toAuth());
  } catch (err) {
    fields.toAuthError = String(err?.message ?? err);
  }
  return fields;
}
