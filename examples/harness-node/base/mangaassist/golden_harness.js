"use strict";
// costgate harness entry point: feeds every golden case through the real service code. costgate
// runs `node mangaassist/golden_harness.js` with AWS_ENDPOINT_URL_BEDROCK_RUNTIME pointing at its
// Bedrock stand-in and COSTGATE_CASES naming a JSONL file of the golden cases. Calls are tagged
// with requestMetadata.costgate_case; each case is also announced on the control endpoint, so a
// case answered without a model call (order status) is known to cost $0.
const fs = require("node:fs");
const { answer } = require("./service.js");

async function announce(id) {
  const base = process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME.replace(/\/$/, "");
  const res = await fetch(`${base}/_costgate/case/${encodeURIComponent(id)}`, { method: "POST" });
  if (!res.ok) throw new Error(`announcing ${id}: HTTP ${res.status}`);
}

async function main() {
  const cases = fs
    .readFileSync(process.env.COSTGATE_CASES, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  for (const c of cases) {
    await announce(c.id);
    await answer(c.intent, c.query, c.history, c.id);
  }
  console.error(`answered ${cases.length} cases`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
