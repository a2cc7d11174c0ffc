//! A request's reasoning setting, read from its family's own field and checked as Bedrock checks
//! it: a setting the model does not accept is a `ValidationException`, never a bill.

use serde_json::Value;

use super::error::BedrockError;
use crate::measure::reasoning::{self, ADAPTIVE_DEFAULT, Effort, MIN_BUDGET_TOKENS, Setting};

/// What a request body asked for, before the model is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Asked {
    /// No reasoning field.
    #[default]
    Unset,
    /// Thinking turned off explicitly.
    Disabled,
    /// `thinking: {type: enabled, budget_tokens}`.
    Budget(u64),
    /// `thinking: {type: adaptive}`, with the effort the request names, if any.
    Adaptive(Option<Effort>),
    /// An effort level without adaptive thinking (`outputConfig.effort`, Nova's
    /// `reasoningConfig`, OpenAI's `reasoning_effort`), and whether thinking is on beside it.
    Effort { level: Effort, thinking: bool },
}

fn invalid(msg: String) -> BedrockError {
    BedrockError::Validation(msg)
}

fn effort(v: &Value, path: &str) -> Result<Option<Effort>, BedrockError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Effort::named(s).map(Some).ok_or_else(|| {
            invalid(format!(
                "Malformed input request: `{path}` must be one of low, medium, high, xhigh, max; got `{s}`."
            ))
        }),
        other => Err(invalid(format!(
            "Malformed input request: `{path}` must be a string, got {other}."
        ))),
    }
}

/// Anthropic's `thinking` object, with the `output_config.effort` beside it.
fn thinking(t: &Value, output_effort: Option<Effort>, path: &str) -> Result<Asked, BedrockError> {
    if t.is_null() {
        return Ok(output_effort.map_or(Asked::Unset, |level| Asked::Effort {
            level,
            thinking: false,
        }));
    }
    match t["type"].as_str() {
        Some("enabled") => match &t["budget_tokens"] {
            Value::Number(n) if n.as_u64().is_some() => {
                Ok(Asked::Budget(n.as_u64().unwrap_or_default()))
            }
            Value::Null => Err(invalid(format!(
                "Malformed input request: `{path}.budget_tokens` is required when `{path}.type` is `enabled`."
            ))),
            other => Err(invalid(format!(
                "Malformed input request: `{path}.budget_tokens` must be a non-negative integer, got {other}."
            ))),
        },
        Some("adaptive") => Ok(Asked::Adaptive(output_effort)),
        Some("disabled") => Ok(Asked::Disabled),
        _ => Err(invalid(format!(
            "Malformed input request: `{path}.type` must be one of enabled, adaptive, disabled; got {}.",
            t["type"]
        ))),
    }
}

/// Converse and ConverseStream: Anthropic's `thinking` or Nova's `reasoningConfig` in
/// `additionalModelRequestFields`, `outputConfig.effort`, or OpenAI's `reasoning_effort`.
pub fn converse(v: &Value) -> Result<Asked, BedrockError> {
    let extra = &v["additionalModelRequestFields"];
    let output = match effort(&v["outputConfig"]["effort"], "outputConfig.effort")? {
        Some(e) => Some(e),
        None => effort(
            &extra["output_config"]["effort"],
            "additionalModelRequestFields.output_config.effort",
        )?,
    };
    if !extra["reasoningConfig"].is_null() {
        return nova(
            &extra["reasoningConfig"],
            "additionalModelRequestFields.reasoningConfig",
        );
    }
    if let Some(e) = effort(
        &extra["reasoning_effort"],
        "additionalModelRequestFields.reasoning_effort",
    )? {
        return Ok(Asked::Effort {
            level: e,
            thinking: true,
        });
    }
    thinking(
        &extra["thinking"],
        output,
        "additionalModelRequestFields.thinking",
    )
}

/// Anthropic Messages bodies: `thinking` and `output_config.effort`.
pub fn anthropic(v: &Value) -> Result<Asked, BedrockError> {
    let output = effort(&v["output_config"]["effort"], "output_config.effort")?;
    thinking(&v["thinking"], output, "thinking")
}

/// Nova 2's `reasoningConfig: {type: enabled, maxReasoningEffort}`.
pub fn nova(r: &Value, path: &str) -> Result<Asked, BedrockError> {
    match r["type"].as_str() {
        None if r.is_null() => Ok(Asked::Unset),
        Some("disabled") => Ok(Asked::Disabled),
        Some("enabled") => {
            let level = effort(
                &r["maxReasoningEffort"],
                &format!("{path}.maxReasoningEffort"),
            )?
            .unwrap_or(Effort::Low);
            Ok(Asked::Effort {
                level,
                thinking: true,
            })
        }
        _ => Err(invalid(format!(
            "Malformed input request: `{path}.type` must be `enabled` or `disabled`, got {}.",
            r["type"]
        ))),
    }
}

/// OpenAI chat bodies: `reasoning_effort`, or the Responses API's `reasoning.effort`.
pub fn openai(v: &Value) -> Result<Asked, BedrockError> {
    let level = match effort(&v["reasoning_effort"], "reasoning_effort")? {
        Some(e) => Some(e),
        None => effort(&v["reasoning"]["effort"], "reasoning.effort")?,
    };
    Ok(level.map_or(Asked::Unset, |level| Asked::Effort {
        level,
        thinking: true,
    }))
}

/// Bedrock passes a model's own validation errors on with this prefix.
const MODEL_ERRORS: &str = "The model returned the following errors:";

/// The setting a call reasons with on `base_id`, or Bedrock's rejection of it. `max_tokens` is the
/// request's output cap.
pub fn settle(
    asked: Asked,
    base_id: &str,
    max_tokens: Option<u64>,
) -> Result<Option<Setting>, BedrockError> {
    let support = reasoning::support(base_id);
    let level = |level: Effort| -> Result<Option<Setting>, BedrockError> {
        if support.efforts.is_empty() {
            return Err(invalid(if base_id.starts_with("amazon.nova") {
                format!(
                    "Malformed input request: the provided reasoning config value is invalid: {base_id} does not reason. Remove `reasoningConfig`, or use a Nova 2 model."
                )
            } else {
                format!(
                    "The model {base_id} does not support an effort setting. Remove the effort field, or use a model that reasons with an effort level."
                )
            }));
        }
        if !support.accepts(level) {
            let named: Vec<&str> = support.efforts.iter().map(|e| e.name()).collect();
            return Err(invalid(format!(
                "The effort level `{level}` is not supported by {base_id}: use one of {}.",
                named.join(", ")
            )));
        }
        Ok(Some(Setting::Effort(level)))
    };
    match asked {
        Asked::Unset => Ok(support.always.map(Setting::Effort)),
        Asked::Disabled => Ok(None),
        Asked::Budget(budget) => {
            if support.adaptive && !support.budget {
                return Err(invalid(format!(
                    "{MODEL_ERRORS} \"thinking.type.enabled\" is not supported for this model. Use \"thinking.type.adaptive\" and \"output_config.effort\" to control thinking behavior."
                )));
            }
            if !support.budget {
                return Err(invalid(format!(
                    "{MODEL_ERRORS} {base_id} does not support thinking."
                )));
            }
            if budget < MIN_BUDGET_TOKENS {
                return Err(invalid(format!(
                    "{MODEL_ERRORS} thinking.enabled.budget_tokens: Input should be greater than or equal to {MIN_BUDGET_TOKENS}"
                )));
            }
            if max_tokens.is_some_and(|cap| budget >= cap) {
                return Err(invalid(format!(
                    "{MODEL_ERRORS} `max_tokens` must be greater than `thinking.budget_tokens`."
                )));
            }
            Ok(Some(Setting::Budget(budget)))
        }
        Asked::Adaptive(named) => {
            if !support.adaptive {
                return Err(invalid(format!(
                    "{MODEL_ERRORS} \"thinking.type.adaptive\" is not supported for this model. Use \"thinking.type.enabled\" with \"budget_tokens\"."
                )));
            }
            level(named.unwrap_or(ADAPTIVE_DEFAULT))
        }
        Asked::Effort { level: e, thinking } => {
            // Without thinking, an Anthropic effort is capped at high (Converse's `outputConfig`).
            if !thinking && e > Effort::High && base_id.starts_with("anthropic.") {
                return Err(invalid(format!(
                    "The effort level `{e}` needs thinking: when extended thinking is disabled, the effort level is capped at high. Use effort high or below, or enable thinking."
                )));
            }
            // Nova 2 reasons at high effort only with the output cap left to it.
            if e == Effort::High && base_id.starts_with("amazon.nova") && max_tokens.is_some() {
                return Err(invalid(
                    "Malformed input request: with `maxReasoningEffort` high, leave `maxTokens` unset: the model sets its own output length.".to_string(),
                ));
            }
            level(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SONNET_45: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

    #[test]
    fn each_family_field_is_read() {
        let c = json!({"additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 2048}}});
        assert_eq!(converse(&c).unwrap(), Asked::Budget(2048));
        let c = json!({"outputConfig": {"effort": "high"}});
        assert_eq!(
            converse(&c).unwrap(),
            Asked::Effort {
                level: Effort::High,
                thinking: false
            }
        );
        let c = json!({"additionalModelRequestFields": {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "medium"}}});
        assert!(matches!(
            converse(&c).unwrap(),
            Asked::Effort {
                level: Effort::Medium,
                ..
            }
        ));
        let a = json!({"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}});
        assert_eq!(anthropic(&a).unwrap(), Asked::Adaptive(Some(Effort::Max)));
        assert_eq!(
            openai(&json!({"reasoning_effort": "low"})).unwrap(),
            Asked::Effort {
                level: Effort::Low,
                thinking: true
            }
        );
        assert!(
            anthropic(&json!({"thinking": {"type": "sometimes"}}))
                .unwrap_err()
                .message()
                .contains("thinking.type")
        );
    }

    #[test]
    fn bedrock_rejects_what_the_model_does_not_accept() {
        let ok = settle(Asked::Budget(2048), SONNET_45, Some(4096)).unwrap();
        assert_eq!(ok, Some(Setting::Budget(2048)));
        for (asked, model, cap, says) in [
            (
                Asked::Budget(512),
                SONNET_45,
                Some(4096),
                "greater than or equal to 1024",
            ),
            (
                Asked::Budget(4096),
                SONNET_45,
                Some(4096),
                "`max_tokens` must be greater",
            ),
            (
                Asked::Budget(2048),
                "anthropic.claude-opus-4-7",
                Some(9000),
                "\"thinking.type.enabled\" is not supported",
            ),
            (
                Asked::Budget(2048),
                "anthropic.claude-3-5-haiku-20241022-v1:0",
                None,
                "does not support thinking",
            ),
            (
                Asked::Adaptive(None),
                SONNET_45,
                None,
                "\"thinking.type.adaptive\" is not supported",
            ),
            (
                Asked::Adaptive(Some(Effort::Xhigh)),
                "anthropic.claude-sonnet-4-6",
                None,
                "use one of low, medium, high, max",
            ),
            (
                Asked::Effort {
                    level: Effort::Low,
                    thinking: true,
                },
                "amazon.nova-pro-v1:0",
                None,
                "reasoning config value is invalid",
            ),
            (
                Asked::Effort {
                    level: Effort::High,
                    thinking: true,
                },
                "amazon.nova-2-lite-v1:0",
                Some(500),
                "leave `maxTokens` unset",
            ),
            (
                Asked::Effort {
                    level: Effort::Xhigh,
                    thinking: false,
                },
                "anthropic.claude-opus-4-7",
                None,
                "capped at high",
            ),
        ] {
            let e = settle(asked, model, cap).unwrap_err();
            assert!(
                e.message().contains(says),
                "{asked:?} on {model}: {}",
                e.message()
            );
        }
    }

    #[test]
    fn models_that_always_reason_use_their_default_level() {
        assert_eq!(
            settle(Asked::Unset, "openai.gpt-oss-120b-1:0", None).unwrap(),
            Some(Setting::Effort(Effort::Medium))
        );
        assert_eq!(settle(Asked::Unset, SONNET_45, None).unwrap(), None);
        assert_eq!(
            settle(Asked::Adaptive(None), "anthropic.claude-opus-4-7", None).unwrap(),
            Some(Setting::Effort(Effort::High))
        );
    }
}
