"use strict";
// costgate's harness helper for Node (18 or later): copy this file into your repository
// (`costgate init` does). No dependencies: it uses the built-in `fetch`. A harness built on it:
//
//   const cg = require("./costgate_harness.js");
//   for (const c of cg.cases()) {          // the golden cases costgate hands the harness
//     await cg.announce(c.id);             // every following untagged call belongs to this case
//     await myApp.answer(c.query, c.history);
//   }
//
// - cases() reads the JSONL file named by COSTGATE_CASES;
// - announce(id) sets the current case on the stand-in's control endpoint (and for tagClient),
//   which is also how a case answered without any model call is known to be done;
// - clear() unsets it; metric(id, name, value) reports one of your offline quality metrics;
// - tagClient(client) adds the x-costgate-case header to every call an AWS SDK v3 client makes,
//   and x-costgate-step inside withStep;
// - withStep(name, fn) names the pipeline step (a condense step, a router) of the calls fn makes,
//   so the stand-in answers them with the base's `steps:` answer;
// - converse(modelId, query, history, caseId) calls Converse on the stand-in with no SDK at all: a
//   placeholder for a harness whose application is not wired in yet, never for production.
// See docs/harness.md for the attribution rules.
const fs = require("node:fs");

let current = null;
let currentStep = null;

function baseUrl() {
  const url = process.env.COSTGATE_MOCK_URL || process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
  if (!url) {
    throw new Error(
      "COSTGATE_MOCK_URL is not set: run this harness through `costgate run` or `costgate check`",
    );
  }
  return url.replace(/\/+$/, "");
}

async function request(method, path, body) {
  const init = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await fetch(baseUrl() + path, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${text}`);
  return text.trim() ? JSON.parse(text) : null;
}

const casePath = (id) => `/_costgate/case/${encodeURIComponent(id)}`;

/** The golden cases of this run (`id`, `intent`, `query`, `history`, `context`...). */
function cases() {
  const path = process.env.COSTGATE_CASES;
  if (!path) {
    throw new Error(
      "COSTGATE_CASES is not set: run this harness through `costgate run` or `costgate check`",
    );
  }
  return fs
    .readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

/** Every following call without its own tag is attributed to `id`. */
async function announce(id) {
  await request("POST", casePath(id), {});
  current = id;
}

/** No current case. */
async function clear() {
  await request("DELETE", "/_costgate/case");
  current = null;
}

/** Reports an offline quality metric of a case (e.g. recall@3); compared base against head. */
async function metric(id, name, value, higherIsBetter = true) {
  await request("POST", `${casePath(id)}/metric`, {
    name,
    value,
    higher_is_better: higherIsBetter,
  });
}

/** Adds `x-costgate-case: <current case>` to every request an AWS SDK v3 client sends. */
function tagClient(client) {
  client.middlewareStack.add(
    (next) => async (args) => {
      if (current && args.request && args.request.headers) {
        args.request.headers["x-costgate-case"] = current;
      }
      if (currentStep && args.request && args.request.headers) {
        args.request.headers["x-costgate-step"] = currentStep;
      }
      return next(args);
    },
    { step: "build", name: "costgateCaseTag" },
  );
  return client;
}

/** Runs `fn` with its calls named as step `name`; resolves to what `fn` resolves to. */
async function withStep(name, fn) {
  const before = currentStep;
  currentStep = name;
  try {
    return await fn();
  } finally {
    currentStep = before;
  }
}

function messages(query, history) {
  // Converse wants alternating roles starting with the user: merge repeats, drop a leading answer.
  const turns = (history || []).map((m) => [m.role, m.content]).concat([["user", query]]);
  const out = [];
  for (const [role, text] of turns) {
    if (out.length === 0 && role !== "user") continue;
    const last = out[out.length - 1];
    if (last && last.role === role) last.content[0].text += `\n${text}`;
    else out.push({ role, content: [{ text }] });
  }
  return out;
}

/** Converse on the stand-in, unsigned (it ignores signatures). Resolves to the response. */
async function converse(modelId, query, history, caseId, options = {}) {
  const body = { messages: messages(query, history) };
  if (options.system) body.system = [{ text: options.system }];
  if (options.maxTokens) body.inferenceConfig = { maxTokens: options.maxTokens };
  const meta = {};
  if (caseId) meta.costgate_case = caseId;
  if (currentStep) meta.costgate_step = currentStep;
  if (Object.keys(meta).length > 0) body.requestMetadata = meta;
  const endpoint = (process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME || baseUrl()).replace(/\/+$/, "");
  const res = await fetch(`${endpoint}/model/${encodeURIComponent(modelId)}/converse`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`Converse ${modelId}: HTTP ${res.status}: ${text}`);
  return JSON.parse(text);
}

module.exports = {
  cases,
  announce,
  clear,
  metric,
  tagClient,
  withStep,
  converse,
  currentCase: () => current,
};
