//! The harness skeleton (harness mode): an entry point in the application's language built on the
//! shipped helper module, which works before any edit (a placeholder sends each query straight to
//! the model the logs show for its intent) and says where the application's own call goes.

use std::fmt::Write;

use super::{Language, Models, NewFile, Setup};

/// The helper modules, copied next to the entry point; documented as copy-in (docs/harness.md).
pub const PYTHON_HELPER: &str = include_str!("../../../templates/init/costgate_harness.py");
pub const NODE_HELPER: &str = include_str!("../../../templates/init/costgate_harness.js");
pub const PYTHON_ENTRY: &str = "costgate/golden_harness.py";
pub const NODE_ENTRY: &str = "costgate/golden_harness.js";

/// The entry point and its helper module.
pub fn files(setup: &Setup, models: &Models) -> Vec<NewFile> {
    match setup.language {
        Language::Python => vec![
            NewFile {
                path: PYTHON_ENTRY.into(),
                text: python(setup, models),
            },
            NewFile {
                path: "costgate/costgate_harness.py".into(),
                text: PYTHON_HELPER.into(),
            },
        ],
        Language::Node => vec![
            NewFile {
                path: NODE_ENTRY.into(),
                text: node(setup, models),
            },
            NewFile {
                path: "costgate/costgate_harness.js".into(),
                text: NODE_HELPER.into(),
            },
        ],
    }
}

/// `{"intent": "model", …}` lines, valid in Python and JavaScript alike (JSON strings are both).
fn model_lines(models: &Models, indent: &str) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut s = String::new();
    for (intent, model) in &models.by_intent {
        let _ = writeln!(s, "{indent}{}: {},", q(intent), q(model));
    }
    s
}

fn python(setup: &Setup, models: &Models) -> String {
    format!(
        r#""""costgate harness: replays every golden case through your application.

Written by `costgate init` on {today}. costgate runs it (`harness.command` in costgate.yaml) with the
Bedrock stand-in's address in AWS_ENDPOINT_URL_BEDROCK_RUNTIME, which boto3, langchain-aws, LiteLLM
and the Anthropic SDK read themselves: your application's own calls reach the stand-in unchanged.
{docs}
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # costgate_harness.py, next to this file
sys.path.insert(0, os.path.dirname(HERE))  # the repository root: import your application from it

import costgate_harness as cg  # noqa: E402

# The model the invocation logs show most for each intent: what the placeholder below calls.
MODELS = {{
{models}}}
DEFAULT_MODEL = {default}


def answer(case):
    # TODO: call your application's entry point instead of the placeholder, e.g.
    #     from myapp.service import answer
    #     return answer(case["intent"], case["query"], history=case.get("history"))
    # Calls made after cg.announce() are attributed to the case; for calls made on other threads,
    # tag the client (cg.tag_boto3(client)) or pass requestMetadata={{"costgate_case": case_id}}.
    model = MODELS.get(case["intent"], DEFAULT_MODEL)
    return cg.converse(model, case["query"], case.get("history"), case_id=case["id"])


def main():
    cases = cg.cases()
    for case in cases:
        cg.announce(case["id"])  # also how a case answered without any model call is known
        answer(case)
    print("answered {{}} cases".format(len(cases)), file=sys.stderr)


if __name__ == "__main__":
    main()
"#,
        today = setup.today,
        docs = setup.action.docs("harness.md"),
        models = model_lines(models, "    "),
        default = serde_json::to_string(&models.default).unwrap_or_default(),
    )
}

fn node(setup: &Setup, models: &Models) -> String {
    format!(
        r#""use strict";
// costgate harness: replays every golden case through your application.
//
// Written by `costgate init` on {today}. costgate runs it (`harness.command` in costgate.yaml)
// with the Bedrock stand-in's address in AWS_ENDPOINT_URL_BEDROCK_RUNTIME, which the AWS SDK for
// JavaScript v3 reads itself: your application's own calls reach the stand-in unchanged.
// {docs}
const cg = require("./costgate_harness.js");

// The model the invocation logs show most for each intent: what the placeholder below calls.
const MODELS = {{
{models}}};
const DEFAULT_MODEL = {default};

async function answer(c) {{
  // TODO: call your application's entry point instead of the placeholder, e.g.
  //     const {{ answer }} = require("../src/service.js");
  //     return answer(c.intent, c.query, c.history);
  // Calls made after cg.announce() are attributed to the case; for concurrent cases, tag the
  // client (cg.tagClient(client)) or pass requestMetadata: {{ costgate_case: c.id }}.
  const model = MODELS[c.intent] || DEFAULT_MODEL;
  return cg.converse(model, c.query, c.history, c.id);
}}

async function main() {{
  const cases = cg.cases();
  for (const c of cases) {{
    await cg.announce(c.id); // also how a case answered without any model call is known
    await answer(c);
  }}
  console.error(`answered ${{cases.length}} cases`);
}}

main().catch((e) => {{
  console.error(e);
  process.exitCode = 1;
}});
"#,
        today = setup.today,
        docs = setup.action.docs("harness.md"),
        models = model_lines(models, "  "),
        default = serde_json::to_string(&models.default).unwrap_or_default(),
    )
}
