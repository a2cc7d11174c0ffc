//! What the head changed besides costs: routing (which model serves each intent) and policy
//! (thresholds, dataset, prices, approvers…), which the report lists and which never affect the
//! head's own verdict.

use std::collections::{BTreeMap, BTreeSet};

use crate::gate::report::RoutingChange;
use crate::measure::config::Config;
use crate::measure::pricing::PricingTable;
use crate::measure::routes::{Route, Routes};

fn route_label(r: Option<&Route>) -> Option<String> {
    r.map(|r| match r {
        Route::Bypass => "bypass".to_string(),
        Route::Model { model, .. } => model.clone(),
    })
}

pub fn routing_diff(base: &Routes, head: &Routes) -> Vec<RoutingChange> {
    let intents: BTreeSet<&String> = base.by_intent.keys().chain(head.by_intent.keys()).collect();
    intents
        .into_iter()
        .filter_map(|i| {
            let b = route_label(base.by_intent.get(i));
            let h = route_label(head.by_intent.get(i));
            (b != h).then(|| RoutingChange {
                intent: i.clone(),
                base: b,
                head: h,
            })
        })
        .collect()
}

/// Dotted-path differences between the base's and the head's policy settings.
pub fn policy_diff(base: &Config, head: &Config) -> Vec<String> {
    let b = serde_json::to_value(base.policy()).unwrap_or_default();
    let h = serde_json::to_value(head.policy()).unwrap_or_default();
    let (mut bf, mut hf) = (BTreeMap::new(), BTreeMap::new());
    flatten("", &b, &mut bf);
    flatten("", &h, &mut hf);
    let keys: BTreeSet<&String> = bf.keys().chain(hf.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (x, y) = (bf.get(k), hf.get(k));
            (x != y).then(|| {
                let show = |v: Option<&String>| v.cloned().unwrap_or_else(|| "(unset)".into());
                format!(
                    "{k}: {} → {} (ignored: policy comes from the base)",
                    show(x),
                    show(y)
                )
            })
        })
        .collect()
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// Any difference in what the entry bills, whatever file it came from: `origin`, `source` and
/// `as_of` describe a price, they are not one.
fn changed(
    b: &crate::measure::pricing::ModelPrice,
    h: &crate::measure::pricing::ModelPrice,
) -> bool {
    let plain = |p: &crate::measure::pricing::ModelPrice| crate::measure::pricing::ModelPrice {
        origin: String::new(),
        source: None,
        as_of: None,
        ..p.clone()
    };
    plain(b) != plain(h)
}

pub fn pricing_diff(base: &PricingTable, head: &PricingTable) -> Vec<String> {
    let mut out = Vec::new();
    let ids: BTreeSet<&String> = base.models().keys().chain(head.models().keys()).collect();
    for id in ids {
        match (base.models().get(id), head.models().get(id)) {
            (Some(b), Some(h)) if changed(b, h) => {
                let (br, hr) = (&b.standard.rates, &h.standard.rates);
                if br.input_per_mtok == hr.input_per_mtok
                    && br.output_per_mtok == hr.output_per_mtok
                    && b.token_scale == h.token_scale
                {
                    out.push(format!(
                        "pricing for {id}: cache, long-context, profile, tier, tokenizer or lifecycle entries changed (ignored: prices come from the base)"
                    ));
                    continue;
                }
                out.push(format!(
                    "pricing for {id}: input {} → {}, output {} → {} USD/Mtok, scale {} → {} (ignored: prices come from the base)",
                    br.input_per_mtok, hr.input_per_mtok, br.output_per_mtok, hr.output_per_mtok, b.token_scale, h.token_scale
                ));
            }
            (None, Some(_)) => out.push(format!("pricing adds {id} (ignored until merged)")),
            (Some(_), None) => out.push(format!(
                "pricing removes {id} (ignored: prices come from the base)"
            )),
            _ => {}
        }
    }
    out
}
