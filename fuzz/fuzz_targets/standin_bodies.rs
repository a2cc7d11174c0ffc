//! Every request body family the Bedrock stand-in parses (Converse and each InvokeModel family),
//! counted with the built-in prices as a call and CountTokens would count it, its reasoning
//! setting checked; the same bytes as each embedding body, an OpenAI Responses body and a step
//! answer's case, and as a knowledge-base document to chunk.
#![no_main]

use costgate::standin::embed::{self, Kind};
use costgate::standin::request::{self, Family};
use costgate::measure::pricing::PricingTable;
use libfuzzer_sys::fuzz_target;

const MODELS: [&str; 6] = [
    "anthropic.claude-3-haiku-20240307-v1:0",
    "amazon.nova-micro-v1:0",
    "amazon.titan-text-express-v1",
    "meta.llama3-8b-instruct-v1:0",
    "mistral.mistral-7b-instruct-v0:2",
    "openai.gpt-oss-20b-1:0",
];

fuzz_target!(|data: &[u8]| {
    let Some((first, body)) = data.split_first() else {
        return;
    };
    let Ok(v) = request::json(body) else {
        return;
    };
    let table = PricingTable::builtin();
    let model = MODELS[*first as usize % MODELS.len()];
    let Ok(resolved) = table.resolve(model) else {
        return;
    };
    let prompt = if first & 0x80 != 0 {
        request::converse(&v)
    } else {
        match Family::of(model) {
            Some(f) => request::invoke(f, &v),
            None => return,
        }
    };
    if let Ok(p) = prompt {
        let _ = p.count(&resolved.price);
        let _ = p.texts().count();
        let _ = costgate::standin::reasoning::settle(p.reasoning, model, p.max_tokens);
    }
    for kind in [Kind::TitanV1, Kind::TitanV2, Kind::TitanImage, Kind::CohereV3, Kind::CohereV4, Kind::Nova] {
        if let Ok(e) = embed::parse(kind, &v) {
            let _ = embed::respond(&e, 1, "fuzz");
        }
    }
    let _ = costgate::standin::openai::responses_prompt(&v);
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = costgate::measure::knowledge::chunk(text);
    }
});
