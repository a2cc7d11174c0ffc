//! Dollars per month (docs/configuration.md): the per-case costs of each side projected onto
//! production traffic, `requests_per_month × Σ_intent share(intent) × mean_cost(side, intent)`, and
//! the monthly thresholds. The number finance asks about, next to the percentages a reviewer reads.

use std::collections::BTreeMap;

use crate::gate::verdict::{Decision, FailKind, IntentMonthly};
use crate::measure::config::Thresholds;
pub use crate::measure::config::Traffic;

/// One gated case as the projection sees it.
pub struct CaseCost<'a> {
    pub intent: &'a str,
    pub weight: f64,
    pub base_usd: f64,
    pub head_usd: f64,
}

/// Dollars per month on each side.
#[derive(Debug, Clone, PartialEq)]
pub struct Monthly {
    pub base_usd: f64,
    pub head_usd: f64,
    pub delta_usd: f64,
    /// Each intent's part, in intent order.
    pub by_intent: Vec<IntentMonthly>,
}

/// The formula above, over the base dataset's cases. Sums run in intent order (sorted), cases in
/// dataset order, so the same inputs give the same bits.
pub fn project(traffic: &Traffic, cases: &[CaseCost<'_>]) -> Monthly {
    // intent → (weight, Σ weight × base, Σ weight × head)
    let mut by_intent: BTreeMap<&str, (f64, f64, f64)> = BTreeMap::new();
    let mut total_weight = 0.0;
    for c in cases {
        let e = by_intent.entry(c.intent).or_default();
        e.0 += c.weight;
        e.1 += c.weight * c.base_usd;
        e.2 += c.weight * c.head_usd;
        total_weight += c.weight;
    }
    let (mut base, mut head) = (0.0, 0.0);
    let rpm = traffic.requests_per_month;
    let mut parts = Vec::with_capacity(by_intent.len());
    for (intent, (w, b, h)) in &by_intent {
        let share = match &traffic.intent_share {
            Some(s) => s.get(*intent).copied().unwrap_or(0.0),
            None if total_weight > 0.0 => w / total_weight,
            None => 0.0,
        };
        if *w > 0.0 {
            base += share * (b / w);
            head += share * (h / w);
            parts.push(IntentMonthly {
                intent: intent.to_string(),
                base_usd: rpm * share * (b / w),
                head_usd: rpm * share * (h / w),
            });
        }
    }
    let (base_usd, head_usd) = (rpm * base, rpm * head);
    Monthly {
        base_usd,
        head_usd,
        delta_usd: head_usd - base_usd,
        by_intent: parts,
    }
}

/// The `warn_`/`fail_monthly_delta_usd` thresholds (strict, like every threshold).
pub fn apply(m: &Monthly, t: &Thresholds, decision: &mut Decision) {
    let line = |limit: f64| {
        format!(
            "projected {}/month > {}/month",
            signed_usd(m.delta_usd),
            dollars(limit)
        )
    };
    if let Some(limit) = t.fail_monthly_delta_usd.filter(|l| m.delta_usd > *l) {
        decision.fail(FailKind::MonthlyDelta, line(limit));
    } else if let Some(limit) = t.warn_monthly_delta_usd.filter(|l| m.delta_usd > *l) {
        decision.warn("monthly warn limit", line(limit));
    }
}

/// Whole dollars with thousands separators: `$1,240`.
pub fn dollars(v: f64) -> String {
    let n = v.abs().round() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("${out}")
}

/// `+$1,240` / `-$310`; amounts under ten dollars keep cents: `+$4.20`; nothing is `$0`.
pub fn signed_usd(v: f64) -> String {
    let sign = if v < 0.0 { "-" } else { "+" };
    if v.abs() < 0.005 {
        "$0".into()
    } else if v.abs() < 10.0 {
        format!("{sign}${:.2}", v.abs())
    } else {
        format!("{sign}{}", dollars(v))
    }
}

/// Dollars for people: whole dollars from $10 up (`$1,472`), cents below (`$4.20`).
pub fn people_usd(v: f64) -> String {
    if v.abs() < 10.0 {
        format!("{}${:.2}", if v < 0.0 { "-" } else { "" }, v.abs())
    } else {
        format!("{}{}", if v < 0.0 { "-" } else { "" }, dollars(v))
    }
}

/// `1.2M`, `350k`, `900`: request counts for a headline.
pub fn requests(n: f64) -> String {
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if n >= 1e9 {
        format!("{}B", trim(format!("{:.1}", n / 1e9)))
    } else if n >= 1e6 {
        format!("{}M", trim(format!("{:.1}", n / 1e6)))
    } else if n >= 1e3 {
        format!("{}k", trim(format!("{:.1}", n / 1e3)))
    } else {
        format!("{n:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(intent: &str, weight: f64, base_usd: f64, head_usd: f64) -> CaseCost<'_> {
        CaseCost {
            intent,
            weight,
            base_usd,
            head_usd,
        }
    }

    #[test]
    fn default_shares_are_the_datasets_weighted_mix() {
        let t = Traffic {
            requests_per_month: 1_000_000.0,
            intent_share: None,
        };
        let m = project(
            &t,
            &[cc("a", 1.0, 0.001, 0.002), cc("b", 3.0, 0.001, 0.001)],
        );
        // share(a) = 1/4, share(b) = 3/4: base = 1e6 × 0.001; head = 1e6 × (0.25×0.002 + 0.75×0.001)
        assert_eq!(
            m.base_usd,
            1_000_000.0 * (0.25 * (0.001 / 1.0) + 0.75 * ((3.0 * 0.001) / 3.0))
        );
        assert_eq!(
            m.head_usd,
            1_000_000.0 * (0.25 * (0.002 / 1.0) + 0.75 * ((3.0 * 0.001) / 3.0))
        );
        assert!((m.delta_usd - 250.0).abs() < 1e-9);
    }

    #[test]
    fn named_shares_weight_intents_and_unnamed_get_zero() {
        let mut shares = BTreeMap::new();
        shares.insert("a".to_string(), 1.0);
        let t = Traffic {
            requests_per_month: 1000.0,
            intent_share: Some(shares),
        };
        let m = project(&t, &[cc("a", 1.0, 0.5, 1.0), cc("b", 1.0, 100.0, 100.0)]);
        assert_eq!(
            (m.base_usd, m.head_usd, m.delta_usd),
            (500.0, 1000.0, 500.0)
        );
        assert_eq!(t.unknown_intents(&["b"]), ["a"]);
    }

    #[test]
    fn display_forms() {
        assert_eq!(dollars(1240.4), "$1,240");
        assert_eq!(dollars(1_234_567.0), "$1,234,567");
        assert_eq!(signed_usd(-310.0), "-$310");
        assert_eq!(signed_usd(0.421), "+$0.42");
        assert_eq!(requests(1_200_000.0), "1.2M");
        assert_eq!(requests(350_000.0), "350k");
        assert_eq!(requests(2_000_000.0), "2M");
    }
}
