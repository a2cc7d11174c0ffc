//! Images and documents in requests: input Bedrock bills in tokens that no public tokenizer gives.
//! The stand-in estimates them from the providers' published rules (docs/harness.md, "Images and
//! documents"), so an application that attaches a picture or a PDF is not priced as if it had
//! sent nothing, and the report says the count is an estimate.

use base64::Engine;

/// An image or a binary document, as much of it as its tokens depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `size` is `None` when the image is not in the body (an S3 location) or its header is not
    /// one `imagesize` reads.
    Image { size: Option<(u64, u64)> },
    /// A PDF (with its page count when the file shows one) or another binary format.
    Document { pages: Option<u64>, bytes: u64 },
}

/// Whose published rule estimates a model's media tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MediaRule {
    /// Anthropic's vision rule (also used for the other providers, which publish none).
    #[default]
    Anthropic,
    /// Amazon Nova's image-to-token table.
    Nova,
}

/// Anthropic: an image is scaled down to a long edge of at most 1,568 px and about 1,600 tokens,
/// then costs `width × height / 750` tokens.
const CLAUDE_MAX_EDGE: u64 = 1568;
const CLAUDE_PIXELS_PER_TOKEN: u64 = 750;
const CLAUDE_MAX_IMAGE_TOKENS: u64 = 1600;

/// AWS's Nova image table: (pixels, approximate tokens) for 900×450, 900×900, 1400×900,
/// 1800×900 and 1300×1300.
const NOVA_TABLE: [(u64, u64); 5] = [
    (405_000, 800),
    (810_000, 1_300),
    (1_260_000, 1_800),
    (1_620_000, 2_400),
    (1_690_000, 2_600),
];
/// Nova scales an image up until a side reaches about 900 px.
const NOVA_MIN_EDGE: u64 = 900;

/// Anthropic's lower estimate of a PDF page (text plus the page image).
const PDF_PAGE_TOKENS: u64 = 1_500;
/// Other binary documents (doc, docx, xls, xlsx): a rough bytes-per-token ratio.
const DOCUMENT_BYTES_PER_TOKEN: u64 = 4;

impl MediaRule {
    pub fn for_model(base_id: &str) -> MediaRule {
        if base_id.starts_with("amazon.nova") {
            MediaRule::Nova
        } else {
            MediaRule::Anthropic
        }
    }

    /// The estimated input tokens of `media`.
    pub fn tokens(self, media: &Media) -> u64 {
        match *media {
            Media::Image { size } => match (self, size) {
                (MediaRule::Anthropic, Some((w, h))) => claude_image(w, h),
                (MediaRule::Anthropic, None) => CLAUDE_MAX_IMAGE_TOKENS,
                (MediaRule::Nova, Some((w, h))) => nova_image(w, h),
                (MediaRule::Nova, None) => NOVA_TABLE[NOVA_TABLE.len() - 1].1,
            },
            Media::Document {
                pages: Some(p),
                bytes: _,
            } => p.max(1) * PDF_PAGE_TOKENS,
            Media::Document { pages: None, bytes } => bytes.div_ceil(DOCUMENT_BYTES_PER_TOKEN),
        }
    }
}

fn claude_image(w: u64, h: u64) -> u64 {
    let (mut w, mut h) = (w.max(1) as f64, h.max(1) as f64);
    let long = w.max(h);
    if long > CLAUDE_MAX_EDGE as f64 {
        let s = CLAUDE_MAX_EDGE as f64 / long;
        (w, h) = (w * s, h * s);
    }
    let tokens = ((w * h) / CLAUDE_PIXELS_PER_TOKEN as f64).ceil() as u64;
    tokens.clamp(1, CLAUDE_MAX_IMAGE_TOKENS)
}

fn nova_image(w: u64, h: u64) -> u64 {
    let (w, h) = (w.max(1) as f64, h.max(1) as f64);
    let long = w.max(h);
    let s = (NOVA_MIN_EDGE as f64 / long).max(1.0);
    let area = (w * s * h * s) as u64;
    // Piecewise linear through the table, flat beyond its ends.
    let (first, last) = (NOVA_TABLE[0], NOVA_TABLE[NOVA_TABLE.len() - 1]);
    if area <= first.0 {
        return (first.1 * area).div_ceil(first.0).max(1);
    }
    if area >= last.0 {
        return last.1;
    }
    for pair in NOVA_TABLE.windows(2) {
        let ((a0, t0), (a1, t1)) = (pair[0], pair[1]);
        if area <= a1 {
            return t0 + ((t1 - t0) * (area - a0)).div_ceil(a1 - a0);
        }
    }
    last.1
}

/// Decodes a base64 payload as Bedrock's JSON bodies carry blobs; `None` when it is not base64.
pub fn decode(b64: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// An image from its bytes (`None`: not in the body).
pub fn image(bytes: Option<&[u8]>) -> Media {
    Media::Image {
        size: bytes
            .and_then(|b| imagesize::blob_size(b).ok())
            .map(|s| (s.width as u64, s.height as u64)),
    }
}

/// A document the body only points at (an S3 location) or whose bytes do not decode: priced as
/// one PDF page, the least a document costs.
pub fn unmeasured_document() -> Media {
    Media::Document {
        pages: Some(1),
        bytes: 0,
    }
}

/// A document's text when its format is a text one (its tokens are then counted exactly), else
/// the document as media.
pub fn document(format: &str, bytes: &[u8]) -> Result<String, Media> {
    match format.to_ascii_lowercase().as_str() {
        "txt" | "md" | "csv" | "html" | "text/plain" | "text/markdown" | "text/csv"
        | "text/html" => Ok(String::from_utf8_lossy(bytes).into_owned()),
        "pdf" | "application/pdf" => Err(Media::Document {
            pages: pdf_pages(bytes),
            bytes: bytes.len() as u64,
        }),
        _ => Err(Media::Document {
            pages: None,
            bytes: bytes.len() as u64,
        }),
    }
}

/// A PDF's page count from its page objects (`/Type /Page`, not `/Pages`); `None` when it shows
/// none (compressed object streams hide them).
fn pdf_pages(bytes: &[u8]) -> Option<u64> {
    let needle = b"/Type";
    let mut n = 0u64;
    let mut i = 0;
    while let Some(at) = find(&bytes[i..], needle) {
        let mut j = i + at + needle.len();
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if bytes[j..].starts_with(b"/Page") && !bytes[j + 5..].starts_with(b"s") {
            n += 1;
        }
        i = j;
    }
    (n > 0).then_some(n)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claude_images_follow_anthropics_formula_and_limits() {
        // Anthropic's own examples: 200×200 ≈ 54 tokens, 1000×1000 ≈ 1334, 1092×1092 ≈ 1590.
        assert_eq!(claude_image(200, 200), 54);
        assert_eq!(claude_image(1000, 1000), 1334);
        assert_eq!(claude_image(1092, 1092), 1590);
        // Scaled to a 1,568 px long edge, and never above about 1,600 tokens.
        assert_eq!(claude_image(4000, 3000), 1600);
        assert_eq!(claude_image(3136, 200), 210);
    }

    #[test]
    fn nova_images_follow_aws_table() {
        assert_eq!(nova_image(900, 450), 800);
        assert_eq!(
            nova_image(800, 400),
            800,
            "AWS's example: scaled up to 900×450"
        );
        assert_eq!(nova_image(900, 900), 1300);
        assert_eq!(nova_image(1400, 900), 1800);
        assert_eq!(nova_image(1300, 1300), 2600);
        assert_eq!(nova_image(8000, 8000), 2600);
        let between = nova_image(1000, 900);
        assert!(1300 < between && between < 1800, "{between}");
    }

    #[test]
    fn image_sizes_are_read_from_the_header() {
        // A 3×2 PNG: signature, IHDR with width 3 and height 2.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0]);
        assert_eq!(image(Some(&png)), Media::Image { size: Some((3, 2)) });
        assert_eq!(image(Some(b"not an image")), Media::Image { size: None });
        assert_eq!(MediaRule::Anthropic.tokens(&image(None)), 1600);
    }

    #[test]
    fn documents_text_formats_are_text_and_pdfs_count_pages() {
        assert_eq!(
            document("md", b"# Returns\nWithin 30 days."),
            Ok("# Returns\nWithin 30 days.".into())
        );
        let pdf = b"%PDF-1.4\n1 0 obj << /Type /Pages /Count 2 >>\n2 0 obj << /Type /Page >>\n3 0 obj <</Type/Page>>\ntrailer";
        let m = document("pdf", pdf).unwrap_err();
        assert_eq!(
            m,
            Media::Document {
                pages: Some(2),
                bytes: pdf.len() as u64
            }
        );
        assert_eq!(MediaRule::Anthropic.tokens(&m), 3000);
        let docx = document("docx", &[0u8; 1001]).unwrap_err();
        assert_eq!(MediaRule::Nova.tokens(&docx), 251);
    }

    #[test]
    fn a_pdf_ending_in_a_type_key_does_not_panic() {
        assert_eq!(pdf_pages(b"/Type"), None);
        assert_eq!(pdf_pages(b"/Type /Page"), Some(1));
    }
}
