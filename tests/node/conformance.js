"use strict";
// The AWS SDK for JavaScript v3 against costgate's Bedrock stand-in, with its default request
// handler (NodeHttp2Handler: cleartext HTTP/2). Each operation prints one JSON line with the usage
// the client itself reports; tests/it/clients_js.rs compares it with the stand-in's records.
const {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  CountTokensCommand,
} = require("@aws-sdk/client-bedrock-runtime");

const client = new BedrockRuntimeClient({
  endpoint: process.argv[2],
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDCOSTGATEJS", secretAccessKey: "dummy-secret" },
});
const NOVA = "amazon.nova-micro-v1:0";
const HAIKU = "anthropic.claude-3-haiku-20240307-v1:0";
const messages = [{ role: "user", content: [{ text: "ワンピースみたいな冒険マンガを教えて" }] }];
const system = [{ text: "You are MangaAssist." }];
const anthropicBody = (text) =>
  JSON.stringify({
    anthropic_version: "bedrock-2023-05-31",
    max_tokens: 50,
    system: "You are MangaAssist.",
    messages: [{ role: "user", content: [{ type: "text", text }] }],
  });
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const decode = (bytes) => JSON.parse(new TextDecoder().decode(bytes));

async function main() {
  say({ handler: client.config.requestHandler.constructor.name });

  const c = await client.send(new ConverseCommand({ modelId: NOVA, system, messages, inferenceConfig: { maxTokens: 40 } }));
  say({ op: "Converse", input: c.usage.inputTokens, output: c.usage.outputTokens, stop: c.stopReason, text: c.output.message.content[0].text.length > 0 });

  const s = await client.send(new ConverseStreamCommand({ modelId: NOVA, system, messages, inferenceConfig: { maxTokens: 40 } }));
  let text = "", deltas = 0, usage = null, stop = null;
  for await (const ev of s.stream) {
    if (ev.contentBlockDelta) { text += ev.contentBlockDelta.delta.text ?? ""; deltas += 1; }
    if (ev.messageStop) stop = ev.messageStop.stopReason;
    if (ev.metadata) usage = ev.metadata.usage;
  }
  say({ op: "ConverseStream", input: usage.inputTokens, output: usage.outputTokens, stop, deltas, text: text.length > 0 });

  const i = await client.send(new InvokeModelCommand({ modelId: HAIKU, contentType: "application/json", body: anthropicBody("Is volume 107 of ONE PIECE out?") }));
  const ib = decode(i.body);
  say({ op: "InvokeModel", input: ib.usage.input_tokens, output: ib.usage.output_tokens, stop: ib.stop_reason });

  const is = await client.send(new InvokeModelWithResponseStreamCommand({ modelId: HAIKU, contentType: "application/json", body: anthropicBody("Recommend a quiet fantasy") }));
  let metrics = null, chunks = 0, input = null, output = null;
  for await (const ev of is.body) {
    if (!ev.chunk) continue;
    chunks += 1;
    const e = decode(ev.chunk.bytes);
    if (e.type === "message_start") input = e.message.usage.input_tokens;
    if (e.type === "message_delta") output = e.usage.output_tokens;
    if (e["amazon-bedrock-invocationMetrics"]) metrics = e["amazon-bedrock-invocationMetrics"];
  }
  say({ op: "InvokeModelWithResponseStream", input, output, chunks, metrics_input: metrics.inputTokenCount, metrics_output: metrics.outputTokenCount });

  const t = await client.send(new CountTokensCommand({ modelId: HAIKU, input: { converse: { system, messages } } }));
  say({ op: "CountTokens", input: t.inputTokens });

  try {
    await client.send(new ConverseCommand({ modelId: NOVA, messages: [] }));
    say({ op: "error", name: "none" });
  } catch (e) {
    say({ op: "error", name: e.name, status: e.$metadata.httpStatusCode, message: e.message });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
