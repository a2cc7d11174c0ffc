//! `costgate.yaml` and the routes file as `init` writes them: every default written out with what
//! it does, so that the file is the team's policy to read and edit, not a copy of the docs.

use std::fmt::Write;

use super::{Models, ROUTES_FILE, Setup};
use crate::measure::config::{Mode, QualityPolicy, Thresholds};
use crate::measure::routes::DEFAULT_ROUTE;
use crate::ratchet::calibrate::traffic::{self, Proposal};

/// `costgate.yaml`. `traffic` is `calibrate`'s proposal over the intents the golden cases have.
pub fn costgate_yaml(setup: &Setup, traffic: Option<&Proposal>) -> String {
    let t = Thresholds::default();
    let q = QualityPolicy::default();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# costgate's policy for this repository, written by `costgate init` on {}. A pull request\n\
         # is gated by the base branch's copy of this file, never by its own.\n\
         # Every key: {}",
        setup.today,
        setup.action.docs("configuration.md")
    );
    s.push_str("version: 1\ngolden: golden/\n");
    match setup.mode {
        Mode::Render => {
            let _ = writeln!(
                s,
                "mode: render\nroutes: {ROUTES_FILE}   # each intent's model; add its templates as prompts move into files"
            );
        }
        Mode::Harness => {
            let argv: Vec<String> = setup
                .command
                .iter()
                .map(|a| serde_json::to_string(a).unwrap_or_default())
                .collect();
            let _ = writeln!(
                s,
                "mode: harness\nharness:\n  command: [{}]   # run with the stand-in's address in its environment\n  timeout_s: 600",
                argv.join(", ")
            );
        }
    }
    let _ = write!(
        s,
        "thresholds:                       # costgate's defaults, written out\n\
         \x20 fail_query_regression_pct: {}     # fail: a case more than this % dearer\n\
         \x20 warn_p95_regression_pct: {}       # warn: the p95 per-case cost more than this % higher\n\
         \x20 pass_band_pct: {}                 # warn: any case or the total beyond this %\n\
         \x20 min_cost_delta_usd: {}      # a per-case change smaller than this counts as 0\n\
         \x20 warn_streak_fail: {}               # this many warns in a row fail\n\
         \x20 cumulative_fail_pct: {}           # fail: mean $/session this % above the baseline\n",
        t.fail_query_regression_pct,
        t.warn_p95_regression_pct,
        t.pass_band_pct,
        t.min_cost_delta_usd,
        t.warn_streak_fail,
        t.cumulative_fail_pct,
    );
    if traffic.is_some() {
        s.push_str(
            "  # warn_monthly_delta_usd: 50     # with `traffic`: warn above this many $/month added\n\
             \x20 # fail_monthly_delta_usd: 500    # ... and fail above this\n",
        );
    }
    let _ = write!(
        s,
        "quality:                          # `expect` entries in golden cases, harness metrics\n\
         \x20 max_broken_expectations: {}\n\
         \x20 metric_drop_pct: {}\n",
        q.max_broken_expectations, q.metric_drop_pct
    );
    if let Some(p) = traffic {
        let _ = writeln!(
            s,
            "# Proposed from {} logged invocations over {:.1} days. Logs that are a sample give a\n\
             # sample's rate: scale requests_per_month to all of production.",
            p.invocations, p.days
        );
        s.push_str(&traffic::yaml(p));
    }
    s.push_str(
        "approvers:                        # who may sign off a justified regression\n\
         \x20 users: []                       # GitHub logins\n\
         \x20 min_permission: maintain\n\
         override:\n\
         \x20 label: emergency-override\n\
         \x20 review_due_days: 7\n\
         \x20 max_per_30_days: 1\n\
         baseline: .cost-baseline.yaml     # written by `costgate baseline`\n",
    );
    let _ = writeln!(
        s,
        "refresh:\n  intent_key: {}   # the requestMetadata key naming the intent in invocation logs",
        serde_json::to_string(&setup.intent_key).unwrap_or_default()
    );
    s
}

/// The routes file (render mode): each logged intent to its model, the query sent as it is.
pub fn routes_yaml(models: &Models, setup: &Setup) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut s = format!(
        "# How each intent is served, written by `costgate init` on {} from the invocation logs: the\n\
         # model they show most for each intent, and its median answer length. No templates yet: each\n\
         # case's query is sent as it is. Add `system:` and `prompt:` templates as your prompts move\n\
         # into files ({}).\n",
        setup.today,
        setup.action.docs("configuration.md")
    );
    // An intent literally named `default` is served by the `default` route below.
    let named = |intent: &&String| intent.as_str() != DEFAULT_ROUTE;
    for (intent, model) in models.by_intent.iter().filter(|(i, _)| named(i)) {
        let _ = writeln!(s, "{}:\n  model: {}", q(intent), q(model));
        if let Some(n) = models.output_tokens.get(intent) {
            let _ = writeln!(
                s,
                "  output_tokens: {n}   # the median answer logged for it"
            );
        }
    }
    for (intent, model) in models.unpriced.iter().filter(|(i, _)| named(i)) {
        let _ = writeln!(
            s,
            "# {}: logged on {}, which the price table does not know; it goes to `default` until you\n\
             # price it in a pricing file ({}) and uncomment:\n\
             # {}:\n#   model: {}",
            intent,
            model,
            setup.action.docs("pricing.md"),
            q(intent),
            q(model)
        );
    }
    let _ = writeln!(s, "default:\n  model: {}", q(&models.default));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infra::tree::DirTree;
    use crate::measure::config::Config;
    use crate::ratchet::init::{ActionRef, Language, Models};

    fn setup(mode: Mode, command: &[&str]) -> Setup {
        Setup {
            mode,
            language: Language::Python,
            command: command.iter().map(|s| s.to_string()).collect(),
            intent_key: "topic: main".into(),
            action: ActionRef {
                repo: "acme/costgate".into(),
                tag: "v0.1.0-prebuilt".into(),
            },
            today: chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap(),
        }
    }

    fn load(text: &str) -> Config {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("costgate.yaml"), text).unwrap();
        let tree = DirTree::new(dir.path(), "tree".to_string());
        Config::load(&tree, "costgate.yaml").unwrap_or_else(|d| panic!("{d}\n{text}"))
    }

    #[test]
    fn the_written_config_is_costgates_defaults() {
        let proposal = Proposal {
            requests_per_month: 15_469,
            intent_share: [("faq".to_string(), 0.7), ("odd: one".to_string(), 0.3)]
                .into_iter()
                .collect(),
            invocations: 1000,
            days: 2.0,
            with_intent: 1.0,
        };
        let cfg = load(&costgate_yaml(&setup(Mode::Render, &[]), Some(&proposal)));
        assert_eq!(cfg.thresholds, Thresholds::default());
        assert_eq!(cfg.quality, QualityPolicy::default());
        assert_eq!(cfg.mode, Mode::Render);
        assert_eq!(cfg.golden, "golden/");
        assert_eq!(cfg.refresh.intent_key, "topic: main");
        let traffic = cfg.traffic.unwrap();
        assert_eq!(traffic.requests_per_month, 15_469.0);
        assert_eq!(traffic.intent_share.unwrap()["odd: one"], 0.3);

        let cfg = load(&costgate_yaml(
            &setup(Mode::Harness, &["python3", "it's \"quoted\".py"]),
            None,
        ));
        assert_eq!(cfg.mode, Mode::Harness);
        assert_eq!(
            cfg.harness.unwrap().command,
            ["python3", "it's \"quoted\".py"]
        );
        assert!(cfg.traffic.is_none());
    }

    #[test]
    fn an_intent_named_default_does_not_repeat_the_key() {
        let mut models = Models {
            default: "amazon.nova-lite-v1:0".into(),
            ..Models::default()
        };
        models
            .by_intent
            .insert("default".into(), "amazon.nova-micro-v1:0".into());
        models
            .by_intent
            .insert("faq: \"quoted\"".into(), "amazon.nova-micro-v1:0".into());
        let text = routes_yaml(&models, &setup(Mode::Render, &[]));
        assert_eq!(text.matches("default:").count(), 1, "{text}");
        let parsed: std::collections::BTreeMap<String, serde_json::Value> =
            crate::infra::yaml::from_str(&text).unwrap();
        assert_eq!(parsed["faq: \"quoted\""]["model"], "amazon.nova-micro-v1:0");
        assert_eq!(parsed["default"]["model"], "amazon.nova-lite-v1:0");
    }
}
