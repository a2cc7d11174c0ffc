//! Embedding models through InvokeModel: Titan Text Embeddings v1 and v2, Titan Multimodal, Cohere
//! Embed v3 and v4, Nova multimodal embeddings. Each body is read in its own shape and checked as
//! Bedrock checks it; the answer is a deterministic vector per input, a hashed bag of words, so
//! texts that share words are close (an application's own vector search behaves plausibly) and
//! every run gives the same vectors.

use serde_json::{Value, json};

use super::error::BedrockError;
use super::media;

/// The body shape of an embedding model, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    TitanV1,
    TitanV2,
    TitanImage,
    CohereV3,
    CohereV4,
    Nova,
}

impl Kind {
    /// The embedding body shape of a resolved base model id, if it is an embedding model.
    pub fn of(base_id: &str) -> Option<Kind> {
        Some(if base_id.starts_with("amazon.titan-embed-text-v1") {
            Kind::TitanV1
        } else if base_id.starts_with("amazon.titan-embed-text-v2") {
            Kind::TitanV2
        } else if base_id.starts_with("amazon.titan-embed-image") {
            Kind::TitanImage
        } else if base_id.starts_with("cohere.embed-v4") {
            Kind::CohereV4
        } else if base_id.starts_with("cohere.embed-") {
            Kind::CohereV3
        } else if base_id.starts_with("amazon.nova-2-multimodal-embeddings") {
            Kind::Nova
        } else {
            return None;
        })
    }
}

/// Most texts one Cohere call takes.
const COHERE_MAX_TEXTS: usize = 96;

/// An embedding request as the stand-in understood it.
#[derive(Debug, Clone, PartialEq)]
pub struct Embed {
    pub kind: Kind,
    /// The texts to embed (one vector each; Titan takes one).
    pub texts: Vec<String>,
    /// Images in the request (billed per image by the multimodal models).
    pub images: u64,
    pub dimensions: usize,
    pub normalize: bool,
    /// Cohere's `embedding_types`, when the request names them.
    pub types: Vec<String>,
    /// Titan v2's `embeddingTypes`.
    pub titan_types: Vec<String>,
}

fn invalid(msg: String) -> BedrockError {
    BedrockError::Validation(format!(
        "Malformed input request: {msg}, please reformat your input and try again."
    ))
}

fn one_of(v: &Value, path: &str, allowed: &[u64], default: u64) -> Result<usize, BedrockError> {
    match v {
        Value::Null => Ok(default as usize),
        Value::Number(n) if n.as_u64().is_some_and(|d| allowed.contains(&d)) => {
            Ok(n.as_u64().unwrap_or(default) as usize)
        }
        other => Err(invalid(format!(
            "#/{path}: {other} is not a valid enum value (one of {})",
            allowed
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn text<'a>(v: &'a Value, path: &str) -> Result<Option<&'a str>, BedrockError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Err(invalid(format!(
            "#/{path}: expected minLength: 1, actual: 0"
        ))),
        Value::String(s) => Ok(Some(s)),
        other => Err(invalid(format!(
            "#/{path}: expected type: String, found: {other}"
        ))),
    }
}

fn strings(v: &Value, path: &str) -> Result<Vec<String>, BedrockError> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    invalid(format!("#/{path}/{i}: expected type: String, found: {x}"))
                })
            })
            .collect(),
        other => Err(invalid(format!(
            "#/{path}: expected type: JSONArray, found: {other}"
        ))),
    }
}

/// Reads an embedding body of `kind`.
pub fn parse(kind: Kind, v: &Value) -> Result<Embed, BedrockError> {
    let mut e = Embed {
        kind,
        texts: Vec::new(),
        images: 0,
        dimensions: 1024,
        normalize: true,
        types: Vec::new(),
        titan_types: Vec::new(),
    };
    match kind {
        Kind::TitanV1 | Kind::TitanV2 => {
            let t = text(&v["inputText"], "inputText")?
                .ok_or_else(|| invalid("#: required key [inputText] not found".into()))?;
            e.texts.push(t.to_string());
            if kind == Kind::TitanV1 {
                e.dimensions = 1536;
            } else {
                e.dimensions = one_of(&v["dimensions"], "dimensions", &[256, 512, 1024], 1024)?;
                e.normalize = v["normalize"].as_bool().unwrap_or(true);
                e.titan_types = strings(&v["embeddingTypes"], "embeddingTypes")?;
            }
        }
        Kind::TitanImage => {
            let t = text(&v["inputText"], "inputText")?;
            let image = v["inputImage"].as_str();
            if t.is_none() && image.is_none() {
                return Err(invalid(
                    "#: at least one of inputText and inputImage is required".into(),
                ));
            }
            e.texts.extend(t.map(str::to_string));
            if let Some(img) = image {
                if media::decode(img).is_none() {
                    return Err(invalid("#/inputImage: not valid base64".into()));
                }
                e.images = 1;
            }
            e.dimensions = one_of(
                &v["embeddingConfig"]["outputEmbeddingLength"],
                "embeddingConfig/outputEmbeddingLength",
                &[256, 384, 1024],
                1024,
            )?;
        }
        Kind::CohereV3 | Kind::CohereV4 => {
            if v["input_type"].as_str().is_none() {
                return Err(invalid("#: required key [input_type] not found".into()));
            }
            e.texts = strings(&v["texts"], "texts")?;
            let images = strings(&v["images"], "images")?;
            e.images = images.len() as u64;
            if e.texts.is_empty() && images.is_empty() && v["inputs"].is_null() {
                return Err(invalid(
                    "#: one of texts, images or inputs is required".into(),
                ));
            }
            if e.texts.len() > COHERE_MAX_TEXTS {
                return Err(invalid(format!(
                    "#/texts: expected maximum item count: {COHERE_MAX_TEXTS}, found: {}",
                    e.texts.len()
                )));
            }
            for input in v["inputs"].as_array().into_iter().flatten() {
                let mut parts = Vec::new();
                for c in input["content"].as_array().into_iter().flatten() {
                    match c["type"].as_str() {
                        Some("text") => parts.push(c["text"].as_str().unwrap_or("").to_string()),
                        Some("image_url") => e.images += 1,
                        _ => {}
                    }
                }
                e.texts.push(parts.join(" "));
            }
            e.types = strings(&v["embedding_types"], "embedding_types")?;
            e.dimensions = if kind == Kind::CohereV4 {
                one_of(
                    &v["output_dimension"],
                    "output_dimension",
                    &[256, 512, 1024, 1536],
                    1536,
                )?
            } else {
                1024
            };
        }
        Kind::Nova => {
            let p = &v["singleEmbeddingParams"];
            if v["taskType"].as_str() != Some("SINGLE_EMBEDDING") || p.is_null() {
                return Err(invalid(
                    "#: taskType must be SINGLE_EMBEDDING with singleEmbeddingParams".into(),
                ));
            }
            e.dimensions = one_of(
                &p["embeddingDimension"],
                "singleEmbeddingParams/embeddingDimension",
                &[256, 384, 1024, 3072],
                3072,
            )?;
            if let Some(t) = text(&p["text"]["value"], "singleEmbeddingParams/text/value")? {
                e.texts.push(t.to_string());
            } else if !p["image"].is_null() {
                e.images = 1;
            } else {
                return Err(invalid(
                    "#/singleEmbeddingParams: one of text, image, audio or video is required"
                        .into(),
                ));
            }
        }
    }
    Ok(e)
}

/// The deterministic vector of `text`: each word (lowercased, split at anything that is not a
/// letter or digit) adds ±1 at a hashed position, then the vector is scaled to unit length when
/// `normalize`. Texts sharing words share positions, so their cosine similarity is higher.
pub fn vector(text: &str, dimensions: usize, normalize: bool) -> Vec<f32> {
    let mut v = vec![0f32; dimensions.max(1)];
    for word in words(text) {
        let h = fnv1a(word.as_bytes());
        let at = (h % v.len() as u64) as usize;
        v[at] += if h >> 63 == 0 { 1.0 } else { -1.0 };
    }
    if normalize {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
    }
    v
}

/// Lowercased words: the unit of [`vector`]'s and rerank's relevance.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// FNV-1a, 64-bit: a fixed, platform-independent hash, so vectors repeat on every machine.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The response body: each model's own shape. `input_tokens` is what Titan reports in its body
/// (the others report it in the token-count header only).
pub fn respond(e: &Embed, input_tokens: u64, request_id: &str) -> Value {
    let vectors: Vec<Vec<f32>> = if e.texts.is_empty() {
        // An image alone embeds as its placeholder.
        vec![vector("image", e.dimensions, e.normalize)]
    } else {
        e.texts
            .iter()
            .map(|t| vector(t, e.dimensions, e.normalize))
            .collect()
    };
    match e.kind {
        Kind::TitanV1 => json!({"embedding": vectors[0], "inputTextTokenCount": input_tokens}),
        Kind::TitanV2 => {
            let mut by_type = json!({"float": vectors[0]});
            if e.titan_types.iter().any(|t| t == "binary") {
                let bits: Vec<u8> = vectors[0].iter().map(|x| u8::from(*x > 0.0)).collect();
                by_type["binary"] = json!(bits);
            }
            json!({"embedding": vectors[0], "inputTextTokenCount": input_tokens, "embeddingsByType": by_type})
        }
        Kind::TitanImage => {
            json!({"embedding": vectors[0], "inputTextTokenCount": input_tokens, "message": null})
        }
        // Embed v4 answers keyed by type even when no type is asked for (as the live API does).
        Kind::CohereV3 if e.types.is_empty() => json!({
            "id": request_id, "embeddings": vectors, "texts": e.texts, "response_type": "embeddings_floats"
        }),
        Kind::CohereV3 | Kind::CohereV4 => {
            let types = if e.types.is_empty() {
                vec!["float".to_string()]
            } else {
                e.types.clone()
            };
            let mut by_type = serde_json::Map::new();
            for t in types {
                let value = if t == "float" {
                    json!(vectors)
                } else {
                    // Quantised types: the sign of each value, as integers.
                    json!(
                        vectors
                            .iter()
                            .map(|v| v.iter().map(|x| i8::from(*x > 0.0)).collect::<Vec<_>>())
                            .collect::<Vec<_>>()
                    )
                };
                by_type.insert(t, value);
            }
            json!({"id": request_id, "embeddings": by_type, "texts": e.texts, "response_type": "embeddings_by_type"})
        }
        Kind::Nova => json!({"embeddings": [{
            "embeddingType": if e.texts.is_empty() { "IMAGE" } else { "TEXT" },
            "embedding": vectors[0],
        }]}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn texts_that_share_words_are_closer() {
        let q = vector("pirate adventure manga", 256, true);
        let near = vector("a long pirate adventure with friends", 256, true);
        let far = vector("quiet cooking stories in a village", 256, true);
        assert!(cos(&q, &near) > cos(&q, &far) + 0.2);
        assert!((cos(&q, &q) - 1.0).abs() < 1e-5);
        assert_eq!(q, vector("Pirate, adventure manga!", 256, true));
    }

    #[test]
    fn bodies_are_read_and_checked_in_their_own_shape() {
        let e = parse(
            Kind::TitanV2,
            &json!({"inputText": "hello", "dimensions": 256}),
        )
        .unwrap();
        assert_eq!((e.dimensions, e.texts.len()), (256, 1));
        let err = parse(
            Kind::TitanV2,
            &json!({"inputText": "hello", "dimensions": 300}),
        )
        .unwrap_err();
        assert!(
            err.message()
                .contains("#/dimensions: 300 is not a valid enum value"),
            "{err:?}"
        );
        assert!(parse(Kind::TitanV1, &json!({"inputText": ""})).is_err());
        let c = parse(
            Kind::CohereV3,
            &json!({"texts": ["a", "b"], "input_type": "search_document"}),
        )
        .unwrap();
        assert_eq!(c.texts.len(), 2);
        let many: Vec<String> = (0..97).map(|i| i.to_string()).collect();
        assert!(
            parse(
                Kind::CohereV3,
                &json!({"texts": many, "input_type": "search_document"})
            )
            .is_err()
        );
        assert!(parse(Kind::CohereV3, &json!({"texts": ["a"]})).is_err());
        let n = parse(Kind::Nova, &json!({"taskType": "SINGLE_EMBEDDING", "singleEmbeddingParams": {"embeddingPurpose": "GENERIC_INDEX", "embeddingDimension": 384, "text": {"truncationMode": "END", "value": "hi"}}})).unwrap();
        assert_eq!(n.dimensions, 384);
    }

    #[test]
    fn responses_carry_vectors_of_the_requested_size() {
        let e = parse(
            Kind::CohereV4,
            &json!({"texts": ["a b"], "input_type": "search_query", "output_dimension": 256}),
        )
        .unwrap();
        let r = respond(&e, 3, "req");
        assert_eq!(r["embeddings"]["float"][0].as_array().unwrap().len(), 256);
        assert_eq!(r["response_type"], "embeddings_by_type");
        let t = parse(Kind::TitanV1, &json!({"inputText": "a b"})).unwrap();
        assert_eq!(
            respond(&t, 2, "r")["embedding"].as_array().unwrap().len(),
            1536
        );
    }
}
