// Clerk's own webhook code, for tests/webhooks/test_clerk_sdk.py: @clerk/backend's verifyWebhook
// and the standardwebhooks library it verifies with (both from tests/differential/node_modules).
//
// stdin:  {secret, sign: [{id, timestamp, body}], verify: [{headers: {name: value}, body}]}
// stdout: {signatures: [string], verified: [{ok, event} | {ok: false, error}]}

import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const here = new URL(".", import.meta.url).pathname;
const require = createRequire(`${here}../differential/package.json`);
const load = (name) => import(pathToFileURL(require.resolve(name)).href);

const { Webhook } = await load("standardwebhooks");
const { verifyWebhook } = await load("@clerk/backend/webhooks");

let input = "";
for await (const chunk of process.stdin) input += chunk;
const job = JSON.parse(input);

const webhook = new Webhook(job.secret);
const signatures = job.sign.map((m) => webhook.sign(m.id, new Date(m.timestamp * 1000), m.body));

const verified = [];
for (const v of job.verify) {
  const request = new Request("http://127.0.0.1/webhooks", {
    method: "POST",
    headers: v.headers,
    body: v.body,
  });
  try {
    verified.push({ ok: true, event: await verifyWebhook(request, { signingSecret: job.secret }) });
  } catch (e) {
    verified.push({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
}
process.stdout.write(JSON.stringify({ signatures, verified }));
