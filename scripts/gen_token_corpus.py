#!/usr/bin/env python3
"""Generate tests/fixtures/tokens/corpus.jsonl: the token-count test corpus.

Deterministic (fixed seed). Each line is {"name", "text"} or, for large
inputs, {"name", "gen": {"repeat": s, "times": n}} meaning text = s * n.
Counts for every entry are produced by scripts/tiktoken_reference.py.

Usage: python3 scripts/gen_token_corpus.py [OUT]
"""
import base64
import json
import random
import sys
import unicodedata

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/tokens/corpus.jsonl"
SEED = 20260101

entries = []


def add(name, text):
    entries.append({"name": name, "text": text})


def gen(name, repeat, times):
    entries.append({"name": name, "gen": {"repeat": repeat, "times": times}})


# --- basics -----------------------------------------------------------------
add("empty", "")
add("single_space", " ")
add("single_newline", "\n")
add("single_letter", "a")
add("hello_world", "hello world")
add("english_prose",
    "It was the best of times, it was the worst of times, it was the age of wisdom, "
    "it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity.")
add("english_paragraphs",
    "The quick brown fox jumps over the lazy dog.\n\nPack my box with five dozen liquor jugs! "
    "How vexingly quick daft zebras jump; the five boxing wizards jump quickly.\n"
    "Sphinx of black quartz, judge my vow. (Really?) \"Yes,\" she said - twice.")
add("english_mixed_case", "ThE QuIcK bRoWn FOX JUMPS over THE lazy DOG. CamelCaseIdentifierNamesAreCommon")
add("hyphens_and_dashes", "state-of-the-art — well–known ‐ non‑breaking ‒ figure ― bar - minus −5")
add("quotes_variants", "“Smart quotes” ‘single’ «guillemets» „low“ 「かぎ」 『二重』 \"straight\" 'plain'")

add("special_tokens_as_text", "<|endoftext|> <|fim_prefix|>x<|fim_middle|>y<|fim_suffix|> <|endofprompt|> "
    "<|im_start|>user\nhi<|im_end|> <|start|>assistant<|channel|>final<|message|>ok<|return|> <|constrain|> <|call|>")
add("special_tokens_glued", "<|endoftext|><|endoftext|>text<|endoftext|>")

# --- CJK ----------------------------------------------------------------------
add("japanese_prose", "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。")
add("japanese_mixed", "ONE PIECE の最新刊（第110巻）は ¥528 です。送料無料！北海道への配送は２〜３日かかります。")
add("japanese_katakana_halfwidth", "ｶﾀｶﾅﾊﾝｶｸ ｱｲｳｴｵ ﾃｽﾄ ｰ ｯ ﾞﾟ")
add("japanese_fullwidth_ascii", "ＡＢＣ　ａｂｃ　１２３！？＃＄％")
add("chinese_simplified", "我们都是追梦人。今天天气很好，我们去公园散步吧！这本漫画非常受欢迎。")
add("chinese_traditional", "學而時習之，不亦說乎？有朋自遠方來，不亦樂乎？人不知而不慍，不亦君子乎？")
add("korean", "안녕하세요. 저는 만화를 좋아합니다. 원피스 최신권은 언제 나오나요? 감사합니다!")
add("korean_jamo_decomposed", unicodedata.normalize("NFD", "한국어 자모 분해"))
add("cjk_punctuation", "、。〈〉《》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟・ー")
add("cjk_ext_b", "𠀋𡈽𡌛𡑮𡢽𠮟𡚴𡸴𣇄𣗄𣜿𣝣𣳾𤟱𥒎𥔎𥝱𥧄𥶡𦫿𦹀𧃴𧚄𨉷𨏍𪆐𠂉")

# --- other scripts ------------------------------------------------------------
add("russian", "Съешь же ещё этих мягких французских булок, да выпей чаю.")
add("greek", "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Τάχιστη αλώπηξ βαφής ψημένη γη.")
add("hebrew", "דג סקרן שט בים מאוכזב ולפתע מצא חברה")
add("thai", "เป็นมนุษย์สุดประเสริฐเลิศคุณค่า กว่าบรรดาฝูงสัตว์เดรัจฉาน")
add("georgian_armenian", "ქართული ენა Հայերեն լեզու")

# --- emoji --------------------------------------------------------------------
add("emoji_simple", "😀😃😄😁😆😅🤣😂🙂🙃😉😊😇")
add("emoji_zwj_family", "👨‍👩‍👧‍👦 👩‍👩‍👦 👨‍👨‍👧‍👧")
add("emoji_zwj_professions", "👩‍💻 🧑‍🚀 👨‍🍳 🏳️‍🌈 🏴‍☠️ 🧑🏽‍🤝‍🧑🏻 ❤️‍🔥")
add("emoji_skin_tones", "👍🏻👍🏼👍🏽👍🏾👍🏿 👋🏽 🙏🏿")
add("emoji_flags", "🇯🇵🇺🇸🇬🇧🇫🇷🇩🇪🇰🇷🇨🇳 🏴󠁧󠁢󠁳󠁣󠁴󠁿 🏴󠁧󠁢󠁷󠁬󠁳󠁿")
add("emoji_keycaps_variation", "1️⃣2️⃣#️⃣*️⃣ ☺︎ ☺️ ♥︎ ♥️")
add("emoji_in_text", "Loved it 😍!! Can't wait for vol. 12 🔥🔥 — ship it 🚚💨 to 北海道 🗾")

# --- combining marks / normalisation -------------------------------------------
add("combining_acute", "e\u0301 cafe\u0301 re\u0301sume\u0301")
add("vietnamese", "Tiếng Việt có dấu: Trăm năm trong cõi người ta, chữ tài chữ mệnh khéo là ghét nhau.")
add("vietnamese_nfd", unicodedata.normalize("NFD", "Tiếng Việt có dấu: Trăm năm trong cõi người ta"))
add("devanagari", "हिन्दी एक भारतीय भाषा है। क्षत्रिय ज्ञान श्री")
add("arabic_harakat", "بِسْمِ ٱللَّٰهِ ٱلرَّحْمَٰنِ ٱلرَّحِيمِ ٱلْحَمْدُ لِلَّهِ رَبِّ ٱلْعَالَمِينَ")
add("arabic_plain", "مرحبا بالعالم، كيف حالك اليوم؟ ١٢٣٤٥٦٧٨٩٠")
add("zalgo", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dA\u036b\u0357\u0334\u0362\u0335\u031c\u0330\u0354L\u0368\u0367\u0369\u0358\u0320G\u0311\u0357\u030e\u0305\u035b\u0341\u0334\u033b\u0348\u034d\u0354\u0339O\u0342\u030c\u030c\u0358\u0328\u0335\u0339\u033b\u031d\u0333!\u033f\u030b\u0365\u0365\u0302\u0363\u0310\u0301\u0301\u035e\u035c\u0356\u032c\u0330\u0319\u0317")
add("combining_stack", "a" + "\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309" * 20)
for word in ["café", "Ångström", "naïve façade", "Pokémon", "ポケモン", "ガンダム", "한글", "Việt Nam"]:
    nfc = unicodedata.normalize("NFC", word)
    nfd = unicodedata.normalize("NFD", word)
    key = "".join(c for c in unicodedata.normalize("NFKD", word) if c.isascii() and c.isalnum()) or "x%04x" % ord(word[0])
    add("nfc_" + key, nfc)
    add("nfd_" + key, nfd)
add("nfkc_ligatures", "ﬁﬂﬃ ① ㍿ ㌔ ™ ½ ℃ Ⅻ")

# --- code -------------------------------------------------------------------
add("python_code", '''def fib(n: int) -> int:
\t"""Return the n-th Fibonacci number."""
\tif n < 2:
\t\treturn n
\ta, b = 0, 1
\tfor _ in range(n - 1):
\t\ta, b = b, a + b
\treturn b


class Cart:
    def __init__(self):
        self.items: dict[str, int] = {}

    def add(self, sku, qty=1):
        self.items[sku] = self.items.get(sku, 0) + qty  # noqa: E501
''')
add("rust_code", '''use std::collections::HashMap;

/// Price a case.
pub fn price(input: u64, output: u64, p: &Price) -> f64 {
    (input as f64 * p.input_per_mtok + output as f64 * p.output_per_mtok) / 1e6
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
\tlet mut m: HashMap<&str, Vec<u8>> = HashMap::new();
\tm.entry("k").or_default().push(0xFF);
\tprintln!("{:?} {}", m, r#"raw "string""#);
\tOk(())
}
''')
add("js_code", '''const fetchVolumes = async (series) => {
  const res = await fetch(`/api/series/${encodeURIComponent(series)}/volumes?limit=50`);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return (await res.json()).map(({ title, volume, priceYen }) => ({ title, volume, price: priceYen ?? 0 }));
};
// TODO: retry with backoff
export default fetchVolumes;
''')
add("deep_indentation", "\n".join(" " * (4 * i) + "if x%d:" % i for i in range(30)) + "\n" + " " * 120 + "pass\n")
add("tab_indentation", "\n".join("\t" * i + "{" for i in range(25)) + "\n" + "\n".join("\t" * i + "}" for i in reversed(range(25))))
add("json_doc", json.dumps({
    "id": "GD-001", "intent": "recommendation", "query": "ワンピースみたいな冒険マンガを教えて",
    "history": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello! How can I help?"}],
    "context": {"docs": [{"title": "ONE PIECE", "volume": 110, "price": 528}]}, "tier": None, "weight": 1.5,
    "nested": {"a": [1, 2, 3, {"b": [True, False, None]}]}}, indent=2, ensure_ascii=False))
add("json_compact_escaped", json.dumps({"q": "caf\u00e9 \"quoted\" \\ back", "n": [1e-9, -0.0, 12345678901234567890]}))
add("yaml_doc", "version: 1\ngolden: golden/\nthresholds:\n  fail_query_regression_pct: 25\n  pass_band_pct: 10\napprovers:\n  users: [alice, bob]\n")
add("html", '<div class="card"><a href="/p/123?ref=home&amp;x=1">Spy&nbsp;x&nbsp;Family</a><br/><img src="a.png" alt=""></div>')
add("sql", "SELECT id, title, price_yen FROM volumes WHERE series_id = $1 AND price_yen <= 600 ORDER BY volume DESC LIMIT 10;")
add("regex_like", r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$ \d+\s*\p{L}+ [^\r\n]")

# --- base64 / hex / urls ----------------------------------------------------
rng_b = random.Random(SEED + 1)
add("base64_1k", base64.b64encode(bytes(rng_b.getrandbits(8) for _ in range(768))).decode())
add("base64_4k_wrapped", "\n".join(
    (lambda s: [s[i:i + 76] for i in range(0, len(s), 76)])(base64.b64encode(bytes(rng_b.getrandbits(8) for _ in range(3072))).decode())))
add("base64url_2k", base64.urlsafe_b64encode(bytes(rng_b.getrandbits(8) for _ in range(1536))).decode().rstrip("="))
add("hex_blob", bytes(rng_b.getrandbits(8) for _ in range(512)).hex())
add("uuid_list", " ".join("%08x-%04x-%04x-%04x-%012x" % (rng_b.getrandbits(32), rng_b.getrandbits(16), rng_b.getrandbits(16), rng_b.getrandbits(16), rng_b.getrandbits(48)) for _ in range(10)))
add("urls", "https://example.com/path/to/page?query=1&b=two#frag http://user:pw@localhost:8080/ "
    "https://ja.wikipedia.org/wiki/%E3%83%AF%E3%83%B3%E3%83%94%E3%83%BC%E3%82%B9 "
    "ftp://files.example.org/pub/x.tar.gz mailto:support@manga.example.jp s3://bucket/key/with spaces")
add("url_long_query", "https://shop.example.jp/search?" + "&".join("f%d=%s" % (i, "v" * (i % 7 + 1)) for i in range(60)))
add("email_and_paths", "Contact sup.port+tag@example.co.jp or see C:\\Users\\me\\Documents\\file.txt and /usr/local/bin/costgate")

# --- numbers ----------------------------------------------------------------
add("numbers_short", "0 1 12 123 1234 12345 123456 1234567 -1 +2 3.14 1e10 1,000,000 ¥528 $0.000001")
add("number_many_digits", "31415926535897932384626433832795028841971693993751058209749445923078164062862089986280348253421170679")
add("number_40_digits_spaced", " ".join(str(10 ** k) for k in range(40)))
add("numbers_fullwidth_and_other", "１２３４５ ٠١٢٣٤٥٦٧٨٩ ०१२३४५६७८९ ⅠⅡⅢⅣ ①②③ ²³¹ ½¼")
add("decimal_dates_times", "2026-12-01T09:30:00.123456+09:00 12/31/1999 23:59:59 v1.2.3-rc.4+build.567")
add("phone_numbers", "+81-3-1234-5678 (03)1234-5678 0120-123-456 +1 (555) 010-9999")

# --- whitespace ---------------------------------------------------------------
add("ws_spaces_mixed", "a  b   c    d     e")
add("ws_tabs", "a\tb\t\tc\t\t\td")
add("ws_crlf", "line1\r\nline2\r\n\r\nline4\r\n")
add("ws_cr_only", "a\rb\r\rc")
add("ws_nbsp", "100\u00a0km\u00a0\u00a0h \u00a0 x")
add("ws_ideographic", "日本\u3000語\u3000\u3000テスト\u3000")
add("ws_trailing_spaces", "trailing spaces   \nmore   \n   ")
add("ws_blank_lines_indented", "  \n  \n")
add("ws_mixed_kinds", " \t\n\r\n\u00a0\u3000\u2003\u2009\u200a\u2028\u2029\u0085\u000b\u000c end")
add("ws_only_mixed", " \t \n \t\t\n\n   \r\n \u00a0 ")
add("ws_leading", "      leading spaces then text")
add("ws_newlines_then_spaces", "a\n\n\n    b\n\n\n\n\n\n\n\n        c")
add("ws_zero_width", "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom\u2060wj")
add("ws_space_before_punct", "hello , world ! ? . ; : ... ( x ) [ y ]")

# --- contractions / apostrophes ---------------------------------------------
add("contractions_lower", "I'll we're you've he'd she's it's they'll can't won't isn't don't")
add("contractions_upper", "I'LL WE'RE YOU'VE HE'D SHE'S IT'S DON'T WON'T CAN'T")
add("contractions_mixed_case", "I'Ll We'Re yOu'vE He'D ShE'S dOn'T")
add("possessives", "the cat's toy, the cats' toys, James's book, 's 't 're 've 'm 'll 'd")
add("apostrophe_variants", "I’ll don’t it‘s we`re they´re you′re o'clock rock'n'roll ’90s '90s")
add("apostrophe_edge", "'''' '' ' 's's's 'S'T'M x'y 'hello' \"'quoted'\"")

# --- control characters --------------------------------------------------------
add("control_chars", "a\x00b\x01c\x07d\x08e\x1bf\x7fg\x1fh")
add("control_c1", "x\u0080y\u0085z\u009fw")
add("ansi_escape", "\x1b[31mred\x1b[0m \x1b[1;32mbold green\x1b[0m")
add("private_use_and_specials", "\ue000\uf8ff\U000f0000 \ufffd\ufffc \ufffe\uffff")
add("bidi_controls", "abc\u202edcba\u202c \u2066x\u2069 \u200e\u200f")
add("max_codepoint", "\U0010ffff\U0010fffd\U000e0001")

# --- long runs (gen) -----------------------------------------------------------
for label, ch in [("a", "a"), ("space", " "), ("newline", "\n"), ("digit1", "1"), ("hiragana_a", "あ"),
                  ("emoji_grin", "😀"), ("ab", "ab"), ("tab", "\t"), ("crlf", "\r\n"), ("nbsp", "\u00a0"),
                  ("ideographic_space", "\u3000"), ("dot", "."), ("exclaim", "!"), ("apostrophe_s", "'s"),
                  ("kanji", "漢"), ("e_acute_nfd", "e\u0301"), ("zwj_family", "👨‍👩‍👧‍👦"), ("space_a", " a"),
                  ("newline_space", "\n "), ("A_upper", "A")]:
    for n in (1000, 100000):
        gen("run_%s_%d" % (label, n), ch, n)
gen("run_a_1000000", "a", 1000000)
# Python tiktoken 0.14 panics (fancy-regex StackOverflow in the whitespace
# lookahead) on 1,000,000 spaces with o200k_base/o200k_harmony, so this run is
# capped at 300,000.
gen("run_space_300000", " ", 300000)
gen("run_digits_0123456789_50000", "0123456789", 50000)
gen("mb_no_ws_multichar", "xY7_é漢😀", 1000000 // len("xY7_é漢😀".encode()))
gen("mb_no_ws_letters_accents", "abcdéfghï", 1000000 // len("abcdéfghï".encode()))
gen("mb_no_ws_japanese", "漫画のワンピース", 1000000 // len("漫画のワンピース".encode()))
gen("mb_no_ws_base64ish", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0MTIzNDU2Nzg5K/==", 20000)
gen("sentence_repeated", "The quick brown fox jumps over the lazy dog. ", 20000)
gen("japanese_sentence_repeated", "ワンピースの最新刊はいつ発売されますか？", 20000)
gen("json_line_repeated", '{"id":"GD-001","intent":"chit_chat","query":"hi"}\n', 10000)

# --- seeded random strings -------------------------------------------------------
rng = random.Random(SEED)
POOLS = {
    "ascii_lower": "abcdefghijklmnopqrstuvwxyz",
    "ascii_upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "digits": "0123456789",
    "punct": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "ws": " \t\n\r\u00a0\u3000",
    "space": "  ",
    "latin1": "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßÀÉÎÕÜ",
    "combining": "\u0300\u0301\u0302\u0303\u0308\u0327\u0331",
    "hiragana": "".join(chr(c) for c in range(0x3041, 0x3097)),
    "katakana": "".join(chr(c) for c in range(0x30a1, 0x30fb)) + "ー",
    "kanji": "漫画巻新刊発売送料無料北海道返品破損注文配送呪術廻戦鬼滅刃進撃巨人葬送",
    "hangul": "가나다라마바사아자차카타파하한글만화책",
    "cyrillic": "абвгдежзийклмнопрстуфхцчшщъыьэюя",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي\u064e\u0650\u0651",
    "devanagari": "कखगघङचछजझञटठडढणतथदधनपफबभमयरलवशषसह\u093e\u093f\u0940\u094d",
    "emoji": "😀😂🥲🔥💯👍🏽🇯🇵👨‍👩‍👧❤️✨🎉",
    "cjk_punct": "、。「」『』！？・〜",
    "apostrophe": "'’`",
}
WORDS = ["the", "manga", "volume", "I'll", "don't", "it's", "ONE", "PIECE", "呪術廻戦", "フリーレン", "¥528",
         "shipping", "Hokkaido", "返品", "can't", "'s", "'S", "http://x.y/z", "1234567", "3.14", "😀", "\r\n",
         "    ", "\t\t", "\n\n", "e\u0301", "ｶﾀｶﾅ", "SPY×FAMILY", "Vol.12", "x" * 40]


def random_string(rng):
    length = rng.choice([0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377]) + rng.randrange(0, 24)
    length = min(length, 400)
    style = rng.random()
    out = []
    if style < 0.3:
        # word-ish: words and separators
        while sum(len(w) for w in out) < length:
            out.append(rng.choice(WORDS))
            out.append(rng.choice([" ", " ", " ", "", ", ", ". ", "\n", "  ", "\t", "。", "、"]))
        s = "".join(out)[:length]
    else:
        pools = rng.sample(sorted(POOLS), rng.randint(1, 5))
        s = "".join(rng.choice(POOLS[rng.choice(pools)]) for _ in range(length))
    return s


for i in range(300):
    add("random_%03d" % i, random_string(rng))

names = [e["name"] for e in entries]
assert len(names) == len(set(names)), "duplicate names"
with open(OUT, "w", encoding="utf-8", newline="\n") as f:
    for e in entries:
        f.write(json.dumps(e, ensure_ascii=False) + "\n")
print("wrote %d entries to %s" % (len(entries), OUT), file=sys.stderr)
