//! The control endpoint a harness talks to besides Bedrock (docs/harness.md): announce the case
//! that follows (`POST /_costgate/case/{id}`, also how a case answered without a model is known),
//! clear it, and report the application's own offline metrics for a case (docs/harness.md).
//! Bounded: only dataset cases, short names, a fixed number of metrics per case.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::BedrockError;
use super::{State, lock};
use crate::measure::render::Metric;

/// Longest metric name accepted.
const MAX_NAME: usize = 128;
/// Distinct metrics a case may report.
const MAX_PER_CASE: usize = 64;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricBody {
    name: String,
    value: f64,
    #[serde(default = "higher")]
    higher_is_better: bool,
}

fn higher() -> bool {
    true
}

/// case → name → (sum, reports, higher_is_better of the first report).
#[derive(Debug, Default)]
pub struct Metrics(BTreeMap<String, BTreeMap<String, (f64, u32, bool)>>);

impl Metrics {
    pub fn means(&self) -> BTreeMap<String, BTreeMap<String, Metric>> {
        self.0
            .iter()
            .map(|(case, m)| {
                let m = m
                    .iter()
                    .map(|(name, (sum, n, higher))| {
                        (
                            name.clone(),
                            Metric {
                                value: sum / f64::from(*n),
                                higher_is_better: *higher,
                            },
                        )
                    })
                    .collect();
                (case.clone(), m)
            })
            .collect()
    }
}

pub(super) async fn set_case(AxState(st): AxState<Arc<State>>, Path(id): Path<String>) -> Response {
    if !st.cases.is_empty() && !st.cases.contains(&id) {
        return BedrockError::UnknownCase(id).into_response();
    }
    {
        let mut announced = lock(&st.announced);
        if st.may_track(&id, announced.len(), announced.contains(&id)) {
            announced.insert(id.clone());
        }
        let mut seen = lock(&st.seen);
        if st.may_track(&id, seen.len(), seen.contains(&id)) {
            seen.insert(id.clone());
        }
    }
    *lock(&st.current) = Some(id);
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn clear_case(AxState(st): AxState<Arc<State>>) -> Response {
    *lock(&st.current) = None;
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn record_metric(
    AxState(st): AxState<Arc<State>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if !st.cases.is_empty() && !st.cases.contains(&id) {
        return BedrockError::UnknownCase(id).into_response();
    }
    let bad = |m: String| BedrockError::Validation(m).into_response();
    let m: MetricBody = match serde_json::from_slice(&body) {
        Ok(m) => m,
        Err(e) => {
            return bad(format!(
                "metric for case `{id}`: {e}; send {{\"name\": \"recall@3\", \"value\": 0.67, \"higher_is_better\": true}}"
            ));
        }
    };
    if m.name.trim().is_empty() || m.name.chars().count() > MAX_NAME {
        return bad(format!(
            "metric for case `{id}`: `name` must be 1 to {MAX_NAME} characters"
        ));
    }
    if !m.value.is_finite() {
        return bad(format!(
            "metric `{}` for case `{id}`: `value` must be a finite number",
            m.name
        ));
    }
    let mut all = lock(&st.metrics);
    if !st.may_track(&id, all.0.len(), all.0.contains_key(&id)) {
        return bad(format!(
            "metric for case `{id}`: already holding metrics of {} cases without a dataset; start the stand-in with the golden cases (--config)",
            super::MAX_UNLISTED_CASES
        ));
    }
    let case = all.0.entry(id.clone()).or_default();
    if !case.contains_key(&m.name) && case.len() >= MAX_PER_CASE {
        return bad(format!(
            "case `{id}` already reported {MAX_PER_CASE} metrics; report fewer distinct names"
        ));
    }
    let e = case.entry(m.name).or_insert((0.0, 0, m.higher_is_better));
    e.0 += m.value;
    e.1 += 1;
    StatusCode::NO_CONTENT.into_response()
}
