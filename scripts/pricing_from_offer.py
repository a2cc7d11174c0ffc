#!/usr/bin/env python3
"""Regenerate costgate's built-in Bedrock price table from AWS Price List offer files.

Usage
-----
    # 1. Download the offer files (the only network step; this script never touches the network).
    #    Bedrock prices live in THREE offer files: first-party and open-weight models (Nova, Titan,
    #    Llama, Mistral, gpt-oss, Claude 3 and older) are in AmazonBedrock; current Claude rates
    #    (Sonnet 4 and 4.5, measured 2026-08-01 by the cendor maintainers) in AmazonBedrockService,
    #    same row grammar; the Claude models sold through AWS Marketplace in
    #    AmazonBedrockFoundationModels. Download all three, for one region:
    for offer in AmazonBedrock AmazonBedrockService AmazonBedrockFoundationModels; do
      curl -sSfo /tmp/$offer.json \\
        https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/$offer/current/us-east-1/index.json
    done
    #    (The all-regions files are .../current/index.json; the list of per-region files is
    #    .../current/region_index.json. No credentials are needed for any of them.)

    # 2. Generate the table and review the diff against the checked-in one.
    scripts/pricing_from_offer.py --region us-east-1 /tmp/AmazonBedrock.json \\
      /tmp/AmazonBedrockService.json /tmp/AmazonBedrockFoundationModels.json --out /tmp/generated.yaml

Every product the script cannot place is named on stderr (model name and SKU), never guessed:
products of a model that is not in MODEL_IDS, token rates with no slot in the output schema,
usagetype parts it does not recognise. Exit status: 0 on success, 1 when two products disagree
on the same price (a wrong price is worse than none), 2 on a usage or input error.

Output (YAML on stdout, or --out FILE): one entry per Bedrock model id, USD per million tokens,
in-region (no inference profile) standard-tier rates at the top, `profiles.global` for the
global cross-region profile, `tiers.batch|flex|priority` for in-region non-standard tiers,
`long_context` for the rates above a model's long-context threshold (nested inside a profile or
tier when the file has long-context rates for that profile or tier too). Every set has an input
and an output rate (costgate requires both; a set missing one is not emitted, with a warning);
cache rates a profile or tier leaves out are the entry's own in costgate. Numbers are converted with
decimal.Decimal and printed minimally (0.25, 4.125, 3.3). Models and keys are in a fixed order,
so the same input always gives byte-identical output.

What the offer files look like (and where that was confirmed)
--------------------------------------------------------------
File layout -- AWS Billing docs, "Reading the service price list file for AWS services"
(docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/reading-service-price-list-file-for-services.html):
    {"formatVersion", "disclaimer", "offerCode", "version", "publicationDate",
     "products": {SKU: {"sku", "productFamily", "attributes": {...}}},
     "terms": {"OnDemand": {SKU: {SKU.OFFERTERMCODE: {"offerTermCode", "sku", "effectiveDate",
               "termAttributes", "priceDimensions": {RATECODE: {"rateCode", "description", "unit",
               "beginRange", "endRange", "pricePerUnit": {"USD": "0.0000030000"}, "appliesTo"}}}}}}}
The real files spell the ranges beginRange/endRange (the doc template says startingRange); prices
are decimal strings. Only terms.OnDemand is read (Reserved terms are not per-token prices).

Product attributes relied on:
  regionCode ("us-east-1"), location ("US East (N. Virginia)") -- region filter; both appear on
      Bedrock products in awslabs/model-info-amazon-bedrock (pricing/fetcher.py filters GetProducts
      on regionCode) and in stdapi-ai/stdapi.ai tests/fixtures/pricing/bedrock_sample.json.
  usagetype -- the dimension (input/output/cache, tier, scope, context). Two grammars:
    * AmazonBedrock (and AmazonBedrockService): "<REGION>-<ModelSegment>-<suffix>", e.g.
      USE1-Claude3Haiku-input-tokens, USE1-NovaPro-input-tokens-batch, USE1-NovaPro-input-tokens-flex,
      USE1-NovaPro-cache-read-input-token-count, USE1-NovaPro-cache-write-input-token-count,
      USE1-gpt-oss-120b-input-tokens, USE1-Llama3-2-1B-output-tokens,
      ...-input-tokens-cross-region-global, ...-input-tokens-long-context-cross-region-global,
      ...-cache-read-input-token-count-long-context-cross-region-global,
      ...-input-tokens-cross-region-global-batch, ...-input-tokens-latency-optimized,
      ...-custom-model, and "-mantle-" rows for the bedrock-mantle endpoint
      (USE1-openai.gpt-oss-120b-mantle-input-tokens-standard). Sources: the suffix grammar in
      awslabs/model-info-amazon-bedrock src/model_info_amazon_bedrock/pricing/mapper.py
      (_INFERENCE_SUFFIX_RE) and classifier.py; test tables in grafana/cloudcost-exporter
      (pkg/aws/bedrock tests, parseBedrockModelID); Nova/gpt-oss rows in a Rust Bedrock pricing
      module found by code search (test "the_standard_on_demand_token_rates_are_read_per_model").
    * AmazonBedrockFoundationModels (Marketplace): "<REGION>-MP:<REGION>_<dimension>-Units". Two
      naming generations, both observed in real files by several independent projects:
      legacy CamelCase -- InputTokenCount, OutputTokenCount, CacheReadInputTokenCount,
      CacheWriteInputTokenCount, CacheWrite1hInputTokenCount, each optionally _Global, plus
      InputTokenCount_Batch, InputTokenCount_Global_Batch, InputTokenCount_LatencyOptimized,
      Reserved_1Month_InputTPM_Geo, ProvisionedThroughput_...; current snake_case --
      input_tokens_standard, input_tokens_global_standard, output_tokens_..., cache_read_tokens_...,
      cache_write_tokens_..., cache_write_tokens_1h_global_standard, cache_write_tokens_30m_...,
      input_tokens_long_ctx_global_standard. (Tests in several public repos quoting real
      us-east-1/us-west-2 files, e.g. a VS Code extension's pricing tests with publicationDate
      2026-09-25T09:39:35Z and 2026-09-30T00:19:12Z, grafana/cloudcost-exporter marketplace tests.)
      Without _Global/_global the rate is the in-region (geo) rate; it is 10% above the global one
      for current Claude models (e.g. Haiku 4.5: 1.1 vs 1.0 input, 0.11 vs 0.10 cache read).
  model -- AmazonBedrock's display name of the model ("Nova Pro", "Claude 3 Haiku", "gpt-oss-120b");
      aws/agent-toolkit-for-aws bedrock_pricing.py: "its 'model' attribute holds display names
      ("Claude 3 Haiku"), NOT model IDs". Rows of models added later may carry the Bedrock id
      itself ("minimax.minimax-m2"); a name that is a well-formed id (MODEL_ID_RE) is taken as is
      when MODEL_IDS has no entry for it, so such a model is never skipped for want of a mapping.
  servicename -- AmazonBedrockFoundationModels' model name, "Claude Sonnet 4.6 (Amazon Bedrock
      Edition)"; the " (Amazon Bedrock Edition)" suffix is stripped before the MODEL_IDS lookup
      (awslabs marketplace_mapper.normalize_servicename does the same). These products carry no
      `model`/`inferenceType` attributes.
  feature -- "On-demand Inference", "Batch Inference" (one source also saw "BatchInference"),
      "Model Customization"; products with another feature are ignored (stdapi tests; Rust module).
  service_tier -- "standard", "priority", "Flex" on newer AmazonBedrock rows (stdapi, Rust module);
      cross-checked against the usagetype tier.
  inferenceType -- "Input tokens", "Output tokens", "Prompt cache read input tokens", "Prompt cache
      write input tokens", "Input tokens flex", "Input Image Token Count", ... Not used for
      classification (usagetype is sufficient and present on both offers); kept in the fixture.
Units: AmazonBedrock token rows use unit "1K tokens" (x1000 to get per-million).
AmazonBedrockFoundationModels rows use "1M tokens" in some captures and the placeholder "Units"
with a description like "AWS Marketplace software usage|us-east-1|Million Input Tokens Regional" in
others (awslabs fetcher.py: "The API's unit field is often a useless 'Units' placeholder"); "Units"
is accepted only when the description says "Million" (see UNIT_SCALE / UNITS_DESCRIPTION_SCALE).

NOT confirmed (fix them in the tables below, which are the one place that encodes spellings):
  * the legacy Marketplace long-context spelling ("InputTokenCount_LongContext" is a guess; only the
    snake_case "_long_ctx_" and AmazonBedrock's "-long-context-"/"-long-ctx-" were seen);
  * "MillionBatchOutputTokens" (only "APN1-MP:APN1_MillionBatchInputTokens-Units" was seen);
  * the exact `model` attribute of Llama rows ("Llama 3.1 8B Instruct" is assumed; the usagetype
    segment "Llama3-1-8B" follows the observed "Llama3-2-1B");
  * whether "flex"/"priority" exist for Anthropic Marketplace rows (none were seen);
  * whether a Marketplace "Regional CRIS" rate can differ from the plain in-region one (treated as one).
Test fixture: tests/fixtures/pricing/offer-sample.json (AmazonBedrock) and
offer-sample-foundation-models.json (AmazonBedrockFoundationModels) are small hand-made files in
the real format (SKUs and prices illustrative; the long-context and provisioned-throughput
usagetypes in them use the unconfirmed spellings above). offer-sample.expected.yaml is the output of
    scripts/pricing_from_offer.py --region us-east-1 \
      tests/fixtures/pricing/offer-sample.json tests/fixtures/pricing/offer-sample-foundation-models.json

The script cannot know, and leaves to the hand-maintained table: lifecycle/EOL dates,
min_cache_tokens, the tokenizer (derived by rule: o200k_harmony for openai.gpt-oss-*, else
claude-approx), and long-context thresholds (LONG_CONTEXT_ABOVE below).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from decimal import Decimal, InvalidOperation

# ---------------------------------------------------------------------------------------------
# Mapping tables: the one place to fix a spelling.
# ---------------------------------------------------------------------------------------------

# Offer-file model name -> Bedrock model id. Keys are the `model` attribute (AmazonBedrock) or the
# `servicename` attribute minus " (Amazon Bedrock Edition)" (AmazonBedrockFoundationModels).
# A product whose name is not here is reported on stderr and skipped, never guessed.
# A Bedrock model id used as the `model` attribute: "<provider>.<name>", lowercase, no spaces.
MODEL_ID_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9][a-z0-9.:-]*$")

MODEL_IDS: dict[str, str] = {
    # Anthropic, AmazonBedrock offer (Claude 3 generation)
    "Claude 3 Haiku": "anthropic.claude-3-haiku-20240307-v1:0",
    "Claude 3 Sonnet": "anthropic.claude-3-sonnet-20240229-v1:0",
    "Claude 3 Opus": "anthropic.claude-3-opus-20240229-v1:0",
    # Anthropic, AmazonBedrockFoundationModels offer (servicename without the edition suffix)
    "Claude 3.5 Haiku": "anthropic.claude-3-5-haiku-20241022-v1:0",
    "Claude 3.5 Sonnet": "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "Claude 3.5 Sonnet v2": "anthropic.claude-3-5-sonnet-20241022-v2:0",  # name unconfirmed
    "Claude 3.7 Sonnet": "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "Claude Sonnet 4": "anthropic.claude-sonnet-4-20250514-v1:0",
    "Claude Sonnet 4.5": "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "Claude Haiku 4.5": "anthropic.claude-haiku-4-5-20251001-v1:0",
    "Claude Opus 4": "anthropic.claude-opus-4-20250514-v1:0",
    "Claude Opus 4.1": "anthropic.claude-opus-4-1-20250805-v1:0",
    "Claude Opus 4.5": "anthropic.claude-opus-4-5-20251101-v1:0",
    # Later Claude models: "Claude Sonnet 4.6 (Amazon Bedrock Edition)" was observed; the rest follow
    # its pattern (unconfirmed). A row that names the model by its Bedrock id needs no entry.
    "Claude Sonnet 4.6": "anthropic.claude-sonnet-4-6",
    "Claude Opus 4.6": "anthropic.claude-opus-4-6-v1",
    "Claude Opus 4.7": "anthropic.claude-opus-4-7",
    "Claude Opus 4.8": "anthropic.claude-opus-4-8",
    "Claude Sonnet 5": "anthropic.claude-sonnet-5",
    "Claude Opus 5": "anthropic.claude-opus-5",
    "Claude Fable 5": "anthropic.claude-fable-5",
    "Claude Sonnet 5.5": "anthropic.claude-sonnet-5-5",
    "Claude Opus 5.5": "anthropic.claude-opus-5-5",
    "Claude Haiku 5.5": "anthropic.claude-haiku-5-5",
    # Amazon ("Nova 2.0 Lite" / usagetype segment "Nova2.0Lite" as seen in stdapi-ai's fixtures)
    "Nova 2.0 Lite": "amazon.nova-2-lite-v1:0",
    "Nova Micro": "amazon.nova-micro-v1:0",
    "Nova Lite": "amazon.nova-lite-v1:0",
    "Nova Pro": "amazon.nova-pro-v1:0",
    "Nova Premier": "amazon.nova-premier-v1:0",
    # Meta (the `model` spelling of Llama rows is unconfirmed)
    "Llama 3 8B Instruct": "meta.llama3-8b-instruct-v1:0",
    "Llama 3 70B Instruct": "meta.llama3-70b-instruct-v1:0",
    "Llama 3.1 8B Instruct": "meta.llama3-1-8b-instruct-v1:0",
    "Llama 3.1 70B Instruct": "meta.llama3-1-70b-instruct-v1:0",
    "Llama 3.1 405B Instruct": "meta.llama3-1-405b-instruct-v1:0",
    "Llama 3.3 70B Instruct": "meta.llama3-3-70b-instruct-v1:0",
    # OpenAI open-weight
    "gpt-oss-20b": "openai.gpt-oss-20b-1:0",
    "gpt-oss-120b": "openai.gpt-oss-120b-1:0",
}

# Long-context threshold (input tokens above which the long-context rates apply). Not in the offer
# files; a model with long-context rates but no entry here gets no `long_context` (stderr says so).
LONG_CONTEXT_ABOVE: dict[str, int] = {
    "anthropic.claude-sonnet-4-20250514-v1:0": 200000,
    "anthropic.claude-sonnet-4-5-20250929-v1:0": 200000,
    "anthropic.claude-haiku-5-5": 100000,  # priced by prompt length (Anthropic)
}

# Region code -> `location` attribute, used only when a product has no regionCode.
REGION_LOCATIONS: dict[str, str] = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-2": "US West (Oregon)",
    "eu-central-1": "EU (Frankfurt)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-3": "EU (Paris)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
}

# Region code -> the geographic inference-profile prefix that a "cross-region-geo" rate belongs to.
GEO_PROFILE_PREFIX: dict[str, str] = {
    "us-east-1": "us", "us-east-2": "us", "us-west-1": "us", "us-west-2": "us",
    "eu-central-1": "eu", "eu-west-1": "eu", "eu-west-2": "eu", "eu-west-3": "eu", "eu-north-1": "eu",
    "ap-northeast-1": "apac", "ap-northeast-2": "apac", "ap-south-1": "apac",
    "ap-southeast-1": "apac", "ap-southeast-2": "apac",
}

# Price-dimension unit (lowercased) -> multiplier to USD per million tokens.
UNIT_SCALE: dict[str, Decimal] = {
    "1k tokens": Decimal(1000),
    "1m tokens": Decimal(1),
    "tokens": Decimal(1000000),
}
# For the "Units" placeholder: words in the description that fix the scale.
UNITS_DESCRIPTION_SCALE: tuple[tuple[str, Decimal], ...] = (("million", Decimal(1)),)

ACCEPTED_FEATURES = {"On-demand Inference", "Batch Inference", "BatchInference"}
ACCEPTED_OFFERS = {"AmazonBedrock", "AmazonBedrockService", "AmazonBedrockFoundationModels"}
MARKETPLACE_OFFER = "AmazonBedrockFoundationModels"
EDITION_SUFFIX = " (Amazon Bedrock Edition)"

# AmazonBedrock usagetype: the token kind, found as "-<kind>" followed by the end or "-<tail>".
# Order matters (longest first). Value: (field, cache-write TTL).
AB_KINDS: tuple[tuple[str, str], ...] = (
    ("cache-read-input-token-count", "cache_read"),
    ("cache-write-input-token-count", "cache_write"),
    ("cache-read-tokens", "cache_read"),          # bedrock-mantle spelling
    ("cache-write-tokens", "cache_write"),        # bedrock-mantle spelling (followed by -30m)
    ("input-tokens", "input"),
    ("output-tokens", "output"),
)
# Marketplace usagetype kinds (matched at the start of the dimension part, before "_" or the end).
FM_KINDS: tuple[tuple[str, str], ...] = (
    ("CacheWrite1hInputTokenCount", "cache_write_1h"),
    ("CacheWriteInputTokenCount", "cache_write"),
    ("CacheReadInputTokenCount", "cache_read"),
    ("InputTokenCount", "input"),
    ("OutputTokenCount", "output"),
    ("MillionBatchInputTokens", "input+batch"),
    ("MillionBatchOutputTokens", "output+batch"),  # unconfirmed spelling
    ("cache_write_tokens", "cache_write"),
    ("cache_read_tokens", "cache_read"),
    ("input_tokens", "input"),
    ("output_tokens", "output"),
)
# Usagetype tail parts (lowercased, AmazonBedrock parts joined by "-", Marketplace by "_"; the
# multi-word ones are matched before splitting) -> (axis, value). "ignore" marks rates costgate
# does not model (the product is skipped silently and counted).
TAIL_PARTS: dict[str, tuple[str, str]] = {
    "standard": ("tier", "standard"),
    "batch": ("tier", "batch"),
    "flex": ("tier", "flex"),
    "priority": ("tier", "priority"),
    "cross-region-global": ("scope", "global"),
    "cross-region-geo": ("scope", "geo"),
    "global": ("scope", "global"),
    "long-context": ("context", "long"),
    "long-ctx": ("context", "long"),
    "long_ctx": ("context", "long"),
    "longcontext": ("context", "long"),           # legacy Marketplace guess, unconfirmed
    "1h": ("ttl", "1h"),
    "30m": ("ttl", "30m"),
    "latency-optimized": ("ignore", "latency-optimized"),
    "latencyoptimized": ("ignore", "latency-optimized"),
    "custom-model": ("ignore", "custom-model"),
}
MULTI_WORD_PARTS = ("cross-region-global", "cross-region-geo", "long-context", "long-ctx",
                    "long_ctx", "latency-optimized", "custom-model")

# Output schema: fields in print order, and the kinds that may appear in each block.
FIELDS = ("input", "output", "cache_read", "cache_write", "cache_write_1h")
TIERS = ("batch", "flex", "priority")


class InputError(Exception):
    pass


def warn(msg: str) -> None:
    print(f"pricing_from_offer: {msg}", file=sys.stderr)


def fmt_decimal(d: Decimal) -> str:
    """Minimal plain decimal: 3.3, 4.125, 30, 0."""
    s = format(d.normalize(), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s or "0"


def classify_ab(usagetype: str):
    """AmazonBedrock usagetype -> (field, tail parts) or None when it is not a token rate."""
    rest = usagetype.split("-", 1)[1].lower() if "-" in usagetype else ""
    if "-mantle-" in rest:
        return ("ignore", "mantle")
    if "-reserved-" in rest or rest.startswith("reserved-"):
        return None  # reserved throughput (tokens per minute per month), not a per-token price
    for kind, field in AB_KINDS:
        m = re.search(r"-" + re.escape(kind) + r"(?=-|$)", rest)
        if m:
            tail = rest[m.end():].lstrip("-")
            parts = []
            for word in MULTI_WORD_PARTS:
                if word in tail:
                    parts.append(word)
                    tail = tail.replace(word, "")
            parts += [p for p in tail.split("-") if p]
            return (field, parts)
    return None


def classify_fm(usagetype: str):
    """Marketplace usagetype -> (field, tail parts) or None when it is not a token rate."""
    m = re.match(r"^[A-Z0-9]+-MP:[A-Z0-9]+_(.*?)(?:-Units)?$", usagetype)
    if not m:
        return None
    dim = m.group(1)
    for kind, field in FM_KINDS:
        if dim == kind or dim.startswith(kind + "_"):
            tail = dim[len(kind):].lstrip("_").lower()
            parts = []
            if "long_ctx" in tail:
                parts.append("long_ctx")
                tail = tail.replace("long_ctx", "")
            parts += [p for p in tail.split("_") if p]
            if field.endswith("+batch"):
                field = field.split("+")[0]
                parts.append("batch")
            return (field, parts)
    return None


def price_per_mtok(dim: dict, marketplace: bool):
    unit = (dim.get("unit") or "").strip()
    raw = (dim.get("pricePerUnit") or {}).get("USD")
    if raw is None:
        return None, "no USD price"
    try:
        usd = Decimal(raw)
    except InvalidOperation:
        return None, f"bad USD price {raw!r}"
    if not usd.is_finite() or usd < 0:
        return None, f"bad USD price {raw!r}"
    scale = UNIT_SCALE.get(unit.lower())
    if scale is None and marketplace and unit.lower() == "units":
        desc = (dim.get("description") or "").lower()
        for word, s in UNITS_DESCRIPTION_SCALE:
            if word in desc:
                scale = s
                break
    if scale is None:
        return None, f"unit {unit!r} is not a token unit"
    return usd * scale, None


def in_region(attrs: dict, region: str) -> bool:
    code = attrs.get("regionCode")
    if code:
        return code == region
    loc = attrs.get("location")
    return loc is not None and loc == REGION_LOCATIONS.get(region)


def load_offer(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            offer = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: {e}")
    for key in ("offerCode", "version", "publicationDate", "products", "terms"):
        if key not in offer:
            raise InputError(f"{path}: not an offer file (no {key!r})")
    if offer["offerCode"] not in ACCEPTED_OFFERS:
        raise InputError(f"{path}: offerCode {offer['offerCode']!r} is not a Bedrock offer")
    return offer


def collect(offers: list[dict], region: str):
    """-> (cells, sources, conflicts, counters). cells[model_id][(scope, tier, context, field)]."""
    cells: dict[str, dict[tuple, tuple[Decimal, str]]] = {}
    sources: dict[str, set[int]] = {}
    conflicts: list[str] = []
    count = {"other_region": 0, "ignored": 0, "not_token": 0}
    skipped_models: dict[str, list[str]] = {}
    for idx, offer in enumerate(offers):
        marketplace = offer["offerCode"] == MARKETPLACE_OFFER
        on_demand = (offer.get("terms") or {}).get("OnDemand") or {}
        for sku in sorted(offer["products"]):
            product = offer["products"][sku]
            attrs = product.get("attributes") or {}
            if not in_region(attrs, region):
                count["other_region"] += 1
                continue
            usagetype = attrs.get("usagetype") or ""
            feature = attrs.get("feature")
            if feature is not None and feature not in ACCEPTED_FEATURES:
                count["not_token"] += 1
                continue
            cls = classify_fm(usagetype) if marketplace else classify_ab(usagetype)
            if cls is None:
                count["not_token"] += 1
                continue
            if marketplace:
                name = attrs.get("servicename") or ""
                if name.endswith(EDITION_SUFFIX):
                    name = name[: -len(EDITION_SUFFIX)]
            else:
                name = attrs.get("model") or attrs.get("titanModel") or ""
            field, parts = cls
            if field == "ignore":
                count["ignored"] += 1
                continue
            model_id = MODEL_IDS.get(name)
            if model_id is None and MODEL_ID_RE.match(name):
                # Newer AmazonBedrock rows name the model by its Bedrock id ("minimax.minimax-m2").
                model_id = name
            if model_id is None:
                skipped_models.setdefault(name or "<no model name>", []).append(sku)
                continue
            axes = {"tier": set(), "scope": set(), "context": set(), "ttl": set(), "ignore": set()}
            unknown = []
            for p in parts:
                hit = TAIL_PARTS.get(p)
                if hit is None:
                    unknown.append(p)
                else:
                    axes[hit[0]].add(hit[1])
            if feature in ("Batch Inference", "BatchInference"):
                axes["tier"].add("batch")
            st = (attrs.get("service_tier") or "").lower()
            if st:
                axes["tier"].add(st)
            where = f"{name} SKU {sku} ({usagetype})"
            if unknown:
                warn(f"unclassified usagetype part(s) {unknown} in {where}; skipped")
                continue
            if axes["ignore"]:
                count["ignored"] += 1
                continue
            tiers = axes["tier"] - {"standard"} or {"standard"}
            if len(tiers) > 1 or len(axes["scope"]) > 1 or len(axes["ttl"]) > 1:
                warn(f"contradictory tier/scope signals in {where}; skipped")
                continue
            tier = tiers.pop()
            scope = axes["scope"].pop() if axes["scope"] else "regional"
            context = "long" if axes["context"] else "standard"
            ttl = axes["ttl"].pop() if axes["ttl"] else None
            if ttl == "1h" and field == "cache_write":
                field = "cache_write_1h"
            elif ttl is not None:
                warn(f"{ttl} cache-write rate has no slot in the schema: {where}; skipped")
                continue
            terms = on_demand.get(sku) or {}
            dims = [d for t in terms.values() for d in (t.get("priceDimensions") or {}).values()]
            if len(dims) != 1:
                warn(f"{len(dims)} OnDemand price dimensions for {where}; skipped")
                continue
            price, err = price_per_mtok(dims[0], marketplace)
            if err:
                warn(f"{err}: {where}; skipped")
                continue
            key = (scope, tier, context, field)
            prev = cells.setdefault(model_id, {}).get(key)
            if prev is not None and prev[0] != price:
                conflicts.append(f"{model_id} {key}: {fmt_decimal(prev[0])} ({prev[1]}) vs "
                                 f"{fmt_decimal(price)} ({where})")
                continue
            cells[model_id][key] = (price, where)
            sources.setdefault(model_id, set()).add(idx)
    for name in sorted(skipped_models):
        skus = skipped_models[name]
        warn(f"model {name!r} is not in MODEL_IDS; skipped {len(skus)} product(s): "
             + ", ".join(skus))
    return cells, sources, conflicts, count


def flow(block: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in block.items()) + "}"


def prices(cells: dict, scope: str, tier: str, context: str) -> dict[str, str]:
    out = {}
    for f in FIELDS:
        hit = cells.get((scope, tier, context, f))
        if hit is not None:
            out[f"{f}_per_mtok"] = fmt_decimal(hit[0])
    return out


def price_set(model_id: str, cells: dict, scope: str, tier: str, label: str, quiet=False):
    """One costgate price set (the entry's own, a profile's or a tier's) as
    (rates, long_context or None, cell keys used), or None when the file has no usable rates.
    costgate needs input and output in every set and in every long_context block."""
    rates = prices(cells, scope, tier, "standard")
    used = {k for k in cells if k[:3] == (scope, tier, "standard")}
    if not rates:
        return None
    if "input_per_mtok" not in rates or "output_per_mtok" not in rates:
        if not quiet:
            warn(f"{model_id}: {label} has no input and output rate pair; not emitted")
        return None
    long = prices(cells, scope, tier, "long")
    lc = None
    if long:
        above = LONG_CONTEXT_ABOVE.get(model_id)
        if above is None:
            warn(f"{model_id}: {label} has long-context rates but LONG_CONTEXT_ABOVE has no "
                 "threshold for the model; long_context not emitted")
        elif "input_per_mtok" not in long or "output_per_mtok" not in long:
            warn(f"{model_id}: {label} long-context rates lack an input and output pair; "
                 "long_context not emitted")
        else:
            lc = {"above_input_tokens": str(above), **long}
            used |= {k for k in cells if k[:3] == (scope, tier, "long")}
    return rates, lc, used


def render(offers: list[dict], cells, sources, region: str) -> str:
    def offer_label(o: dict) -> str:
        return f"{o['offerCode']} {o['version']}"

    header = ", ".join(f"{offer_label(o)} (publicationDate {o['publicationDate']})" for o in offers)
    lines = [f"# generated by scripts/pricing_from_offer.py from {header}, {region}; "
             "do not edit by hand",
             "models:"]
    for model_id in sorted(cells):
        c = cells[model_id]
        own = price_set(model_id, c, "regional", "standard", "the in-region standard tier", True)
        if own is None:
            warn(f"{model_id}: no in-region standard input and output rate; model not emitted")
            continue
        rates, lc, used = own
        lines.append(f'  "{model_id}":')
        lines += [f"    {k}: {v}" for k, v in rates.items()]
        if lc:
            lines.append(f"    long_context: {flow(lc)}")

        def block(rates: dict, lc) -> str:
            return flow({**rates, **({"long_context": flow(lc)} if lc else {})})

        profiles = {}
        scopes = [("global", "global")]
        if GEO_PROFILE_PREFIX.get(region):
            scopes.append(("geo", GEO_PROFILE_PREFIX[region]))
        elif any(k[0] == "geo" for k in c):
            warn(f"{model_id}: cross-region-geo rates but no GEO_PROFILE_PREFIX for {region}")
        for scope, prefix in scopes:
            got = price_set(model_id, c, scope, "standard", f"profile {prefix}")
            if got:
                profiles[prefix] = block(got[0], got[1])
                used |= got[2]
        if profiles:
            lines.append("    profiles:")
            lines += [f"      {p}: {profiles[p]}" for p in sorted(profiles)]
        tiers = {}
        for t in TIERS:
            got = price_set(model_id, c, "regional", t, f"tier {t}")
            if got:
                tiers[t] = block(got[0], got[1])
                used |= got[2]
        if tiers:
            lines.append("    tiers:")
            lines += [f"      {t}: {tiers[t]}" for t in TIERS if t in tiers]
        for key in sorted(set(c) - used):
            warn(f"{model_id}: {key[0]}/{key[1]}/{key[2]}-context {key[3]} rate not emitted "
                 f"(no slot, or its set is incomplete): {c[key][1]}")
        for key in sorted(used):
            if c[key][0] == 0:
                warn(f"{model_id}: the file prices {key[3]} ({key[0]}/{key[1]}/{key[2]}-context) "
                     f"at 0; emitted as 0, check it against the pricing page: {c[key][1]}")
        tokenizer = "o200k_harmony" if model_id.startswith("openai.gpt-oss-") else "claude-approx"
        used_offers = [offers[i] for i in sorted(sources[model_id])]
        src = " + ".join(offer_label(o) for o in used_offers)
        as_of = max(o["publicationDate"][:10] for o in used_offers)
        lines.append(f"    tokenizer: {tokenizer}")
        lines.append(f'    source: "AWS Price List offer file {src}, {region}"')
        lines.append(f'    as_of: "{as_of}"')
    if lines[-1] == "models:":
        lines[-1] = "models: {}"
    emitted = sum(1 for line in lines if line.startswith('  "'))
    return "\n".join(lines) + "\n", emitted


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Build costgate's Bedrock price table (YAML) from local AWS Price List "
                    "offer files (AmazonBedrock and/or AmazonBedrockFoundationModels).")
    ap.add_argument("offer", nargs="+", help="offer file (index.json) downloaded beforehand")
    ap.add_argument("--region", default="us-east-1",
                    help="keep products of this region (regionCode, else location); "
                         "default us-east-1")
    ap.add_argument("--out", help="write the YAML here instead of stdout")
    args = ap.parse_args(argv)
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", args.region):
        warn(f"--region {args.region!r} is not a region code")
        return 2
    try:
        offers = [load_offer(p) for p in args.offer]
    except InputError as e:
        warn(str(e))
        return 2
    cells, sources, conflicts, count = collect(offers, args.region)
    if conflicts:
        for c in conflicts:
            warn(f"conflicting prices: {c}")
        warn("no output written: fix MODEL_IDS or the usagetype tables")
        return 1
    text, emitted = render(offers, cells, sources, args.region)
    warn(f"{emitted} model(s) emitted; ignored {count['other_region']} product(s) of other regions, "
         f"{count['not_token']} non-token product(s), {count['ignored']} unmodelled variant(s) "
         "(mantle, latency-optimized, custom-model)")
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
