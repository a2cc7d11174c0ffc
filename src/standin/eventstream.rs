//! AWS event-stream framing for ConverseStream and InvokeModelWithResponseStream: each event is a
//! binary frame (prelude with total and header lengths and its CRC, headers, payload, message CRC),
//! written with `aws-smithy-eventstream`, the same crate the Rust SDK decodes these frames with.

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};

/// The content type of an event-stream response body.
pub const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// Appends one `event` frame of type `event_type` with a JSON payload to `out`.
pub fn write_event(out: &mut Vec<u8>, event_type: &str, json: &serde_json::Value) {
    let payload = serde_json::to_vec(json).unwrap_or_default();
    let message = Message::new(payload)
        .add_header(Header::new(
            ":event-type",
            HeaderValue::String(event_type.to_string().into()),
        ))
        .add_header(Header::new(
            ":content-type",
            HeaderValue::String("application/json".into()),
        ))
        .add_header(Header::new(
            ":message-type",
            HeaderValue::String("event".into()),
        ));
    // Writing into a Vec only fails for frames over the format's 16 MiB limit; the stand-in's
    // events are a few hundred bytes.
    if let Err(e) = write_message_to(&message, out) {
        tracing::error!("event-stream frame not written: {e}");
    }
}

/// A response body that sends `frames` (concatenated event-stream frames) one frame at a time,
/// yielding between them so each is written as it is produced: clients' incremental decoders and
/// time-to-first-token code see a real stream, not one buffered body with a length.
pub fn streamed(frames: Vec<u8>) -> axum::body::Body {
    let frames = bytes::Bytes::from(frames);
    let mut at = 0usize;
    let mut parts = Vec::new();
    while at + 4 <= frames.len() {
        let total = u32::from_be_bytes([frames[at], frames[at + 1], frames[at + 2], frames[at + 3]])
            as usize;
        let end = (at + total.max(4)).min(frames.len());
        parts.push(frames.slice(at..end));
        at = end;
    }
    if at < frames.len() {
        parts.push(frames.slice(at..));
    }
    let stream = futures_util::stream::unfold(parts.into_iter(), |mut it| async move {
        let next = it.next()?;
        tokio::task::yield_now().await;
        Some((Ok::<_, std::convert::Infallible>(next), it))
    });
    axum::body::Body::from_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_eventstream::frame::read_message_from;

    #[test]
    fn frames_round_trip_through_the_sdk_decoder() {
        let mut buf = Vec::new();
        write_event(
            &mut buf,
            "messageStart",
            &serde_json::json!({"role": "assistant"}),
        );
        write_event(
            &mut buf,
            "messageStop",
            &serde_json::json!({"stopReason": "end_turn"}),
        );
        let mut cursor = bytes::Bytes::from(buf);
        let first = read_message_from(&mut cursor).unwrap();
        let ty = first
            .headers()
            .iter()
            .find(|h| h.name().as_str() == ":event-type")
            .unwrap();
        assert_eq!(ty.value().as_string().unwrap().as_str(), "messageStart");
        assert_eq!(first.payload().as_ref(), br#"{"role":"assistant"}"#);
        let second = read_message_from(&mut cursor).unwrap();
        assert_eq!(second.payload().as_ref(), br#"{"stopReason":"end_turn"}"#);
        assert!(cursor.is_empty());
    }

    #[test]
    fn prelude_carries_total_length_and_a_valid_crc() {
        let mut buf = Vec::new();
        write_event(&mut buf, "chunk", &serde_json::json!({"bytes": "e30="}));
        let total = u32::from_be_bytes(buf[0..4].try_into().unwrap()) as usize;
        assert_eq!(total, buf.len());
        // A corrupted payload byte must be rejected by the decoder's message CRC.
        let n = buf.len();
        buf[n - 6] ^= 0xff;
        assert!(read_message_from(&mut bytes::Bytes::from(buf)).is_err());
    }
}
