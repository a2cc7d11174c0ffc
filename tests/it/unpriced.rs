//! Unpriced is never $0 (docs/pricing.md#unpriced-calls): a call to a model the price table lacks
//! is served, recorded as unpriced, counted at $0 with a note that the totals are a floor, and a
//! head that adds one warns, or fails under `thresholds.unpriced: fail`.

use crate::support::*;

/// Each case calls Nova Micro; the head also calls the model named in `extra.txt`, if any.
const APP: &str = r#"
import json, os, urllib.request
URL = os.environ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"].rstrip("/")
extra = open("extra.txt").read().strip()
def call(model, case):
    body = json.dumps({"messages": [{"role": "user", "content": [{"text": case["query"]}]}],
                       "requestMetadata": {"costgate_case": case["id"]}}).encode()
    req = urllib.request.Request(URL + "/model/" + model + "/converse", data=body,
                                 headers={"content-type": "application/json"})
    return json.load(urllib.request.urlopen(req))
for line in open(os.environ["COSTGATE_CASES"]):
    case = json.loads(line)
    call("amazon.nova-micro-v1:0", case)
    if extra:
        r = call(extra, case)
        assert r["usage"]["outputTokens"] == 150, r
"#;

const GOLDEN: &str = "- {id: U-1, intent: chat, query: manga like Frieren}\n- {id: U-2, intent: chat, query: something like Berserk}\n";

fn tree(root: &std::path::Path, extra: &str, policy: &str) {
    write_tree(
        root,
        &[
            (
                "costgate.yaml",
                &format!(
                    "version: 1\ngolden: golden.yaml\nmode: harness\nharness:\n  command: [\"python3\", \"app.py\"]\n  timeout_s: 60\n{policy}"
                ),
            ),
            ("golden.yaml", GOLDEN),
            ("app.py", APP),
            ("extra.txt", extra),
        ],
    );
}

#[test]
fn a_head_calling_an_unpriced_model_warns_and_the_totals_say_they_are_a_floor() {
    require_python(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (base, head) = (dir.path().join("base"), dir.path().join("head"));
    tree(&base, "", "");
    tree(&head, "mistral.mistral-next-v9:0", "");
    let (code, r, err) = check_json(&base, &head);
    assert_eq!(code, 0, "{err}");
    assert_eq!(r["verdict"], "warn", "{r:#}");
    let u1 = report_case(&r, "U-1");
    assert_eq!(u1["head"]["unpriced_calls"], 1, "{u1}");
    assert_eq!(
        u1["head"]["unpriced_models"][0],
        "mistral.mistral-next-v9:0"
    );
    assert_eq!(u1["head"]["calls"], 2);
    // The unpriced call adds nothing to the cost, which is therefore a floor.
    assert_eq!(u1["head"]["cost_usd"], u1["base"]["cost_usd"]);
    assert_eq!(r["summary"]["unpriced_calls_head"], 2);
    assert!(r["summary"].get("unpriced_calls_base").is_none());
    let reasons = r["reasons"].to_string();
    assert!(
        reasons.contains("2 case(s) call models the price table does not price")
            && reasons.contains("mistral.mistral-next-v9:0"),
        "{reasons}"
    );
    assert_eq!(r["reason_labels"][0]["rule"], "unpriced");
    let notes = r["notes"].to_string();
    assert!(notes.contains("the totals are a floor"), "{notes}");

    // The base's policy can make it a failure; a head cannot loosen it.
    tree(&base, "", "thresholds: {unpriced: fail}\n");
    tree(
        &head,
        "mistral.mistral-next-v9:0",
        "thresholds: {unpriced: warn}\n",
    );
    let (code, r, err) = check_json(&base, &head);
    assert_eq!(code, 1, "{err}");
    assert_eq!(r["verdict"], "fail");

    // A model that was already unpriced at the base is a note, not the PR's doing.
    tree(
        &base,
        "mistral.mistral-next-v9:0",
        "thresholds: {unpriced: fail}\n",
    );
    let (code, r, err) = check_json(&base, &head);
    assert_eq!(code, 0, "{err}");
    assert_eq!(r["verdict"], "pass", "{r:#}");
    assert_eq!(r["summary"]["unpriced_calls_base"], 2);
}
