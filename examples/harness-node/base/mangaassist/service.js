"use strict";
// The MangaAssist service: routes each intent to a model (or to no model at all), builds the prompt
// and calls Bedrock through the AWS SDK for JavaScript v3 with its default request handler.
const {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
} = require("@aws-sdk/client-bedrock-runtime");
const { search } = require("./catalogue.js");

// Region, endpoint (AWS_ENDPOINT_URL_BEDROCK_RUNTIME) and credentials come from the environment.
const client = new BedrockRuntimeClient({});

const SYSTEM = "You are MangaAssist, the assistant of an online manga store. Answer briefly and kindly.";
const TOP_K = 3;
const MODELS = {
  recommendation: "us.anthropic.claude-haiku-4-5-20251001-v1:0",
  product_question: "us.anthropic.claude-haiku-4-5-20251001-v1:0",
  chit_chat: "amazon.nova-micro-v1:0",
};

function messages(history, text) {
  const turns = (history || []).map((m) => ({ role: m.role, content: [{ text: m.content }] }));
  return [...turns, { role: "user", content: [{ text }] }];
}

async function answer(intent, query, history, caseId) {
  if (intent === "order_status") {
    // Template bypass: order status is answered from the order system, no model.
    return `Your order ${query.match(/MH-\d+-\d+/)?.[0] ?? ""} is on its way.`;
  }
  let text = query;
  if (intent === "recommendation") {
    const hits = search(query, TOP_K).map((h) => `- ${h.title} (${h.genres.join(", ")}; ${h.volumes} volumes): ${h.blurb}`);
    text = `Catalogue matches:\n${hits.join("\n")}\n\nCustomer: ${query}`;
  }
  const input = {
    modelId: MODELS[intent],
    system: [{ text: SYSTEM }],
    messages: messages(history, text),
    inferenceConfig: { maxTokens: 400 },
    requestMetadata: { costgate_case: caseId },
  };
  if (intent === "chit_chat") {
    // Small talk streams, as the chat UI does; the stream is read to the end.
    const out = await client.send(new ConverseStreamCommand(input));
    let reply = "";
    for await (const ev of out.stream) {
      if (ev.contentBlockDelta) reply += ev.contentBlockDelta.delta.text ?? "";
    }
    return reply;
  }
  const out = await client.send(new ConverseCommand(input));
  return out.output.message.content.map((c) => c.text ?? "").join("");
}

module.exports = { answer };
