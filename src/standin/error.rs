//! Bedrock-shaped errors: the status code, the `x-amzn-errortype` header and the `{"message": …}`
//! body the AWS SDKs read to raise the right exception class (`ValidationException`,
//! `ResourceNotFoundException`…). Every failure of the stand-in goes through here.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// An error answered to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BedrockError {
    /// 400 `ValidationException`: a malformed or incomplete request.
    Validation(String),
    /// 404 `ResourceNotFoundException`: a model the price table does not know.
    ModelNotFound(String),
    /// 413 `ValidationException`: a body over the stand-in's size cap.
    TooLarge { limit: usize },
    /// 404 `UnknownOperationException`: a path that is no Bedrock Runtime operation.
    UnknownOperation(String),
    /// 404 for the control endpoint: a case id not in the dataset.
    UnknownCase(String),
    /// 404 `ResourceNotFoundException` with its own message (a guardrail the base does not
    /// declare).
    NotFound(String),
}

impl BedrockError {
    pub fn kind(&self) -> &'static str {
        match self {
            BedrockError::Validation(_) | BedrockError::TooLarge { .. } => "ValidationException",
            BedrockError::ModelNotFound(_)
            | BedrockError::UnknownCase(_)
            | BedrockError::NotFound(_) => "ResourceNotFoundException",
            BedrockError::UnknownOperation(_) => "UnknownOperationException",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            BedrockError::Validation(_) => StatusCode::BAD_REQUEST,
            BedrockError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BedrockError::ModelNotFound(_)
            | BedrockError::UnknownOperation(_)
            | BedrockError::UnknownCase(_)
            | BedrockError::NotFound(_) => StatusCode::NOT_FOUND,
        }
    }

    pub fn message(&self) -> String {
        match self {
            BedrockError::Validation(m) => m.clone(),
            BedrockError::ModelNotFound(m) => format!(
                "The model `{m}` names no Bedrock model provider costgate knows: fix the model id, or add the model to the pricing file named by costgate.yaml (`pricing:`)."
            ),
            BedrockError::TooLarge { limit } => {
                format!(
                    "The request body exceeds the stand-in's limit of {} MiB.",
                    limit / (1024 * 1024)
                )
            }
            BedrockError::UnknownOperation(p) => {
                format!("`{p}` is not a Bedrock Runtime operation the stand-in serves.")
            }
            BedrockError::UnknownCase(id) => format!("No golden case has the id `{id}`."),
            BedrockError::NotFound(m) => m.clone(),
        }
    }
}

impl IntoResponse for BedrockError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message() }).to_string();
        let mut r = (self.status(), body).into_response();
        let h = r.headers_mut();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.insert("x-amzn-errortype", HeaderValue::from_static(self.kind()));
        r
    }
}
