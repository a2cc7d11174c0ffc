#!/usr/bin/env bash
# Installs a released costgate binary on a GitHub runner: picks the asset for the runner's OS and
# architecture, verifies its SHA-256 against the release's SHA256SUMS, keeps it in the tool cache
# ($RUNNER_TOOL_CACHE/costgate/<version>/<arch>) and puts it on PATH ($GITHUB_PATH).
#
#   install.sh VERSION BASE_URL
#
# VERSION is `1.2.3`, `v1.2.3` or `latest`; BASE_URL is a releases URL
# (`https://github.com/OWNER/costgate/releases`, a GitHub Enterprise Server one, or a mirror laid
# out the same way: BASE_URL/download/vX.Y.Z/<asset> and BASE_URL/latest/download/<asset>).
# Everything it reads from the environment is the runner's: RUNNER_OS, RUNNER_ARCH,
# RUNNER_TOOL_CACHE, RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT.
set -euo pipefail

die() {
    echo "::error title=costgate setup::$*" >&2
    exit 1
}

version="${1:-}"
base="${2:-}"
[ -n "$version" ] || die "no version: set the \`version\` input (1.2.3 or latest)"
[ -n "$base" ] || die "no download URL: set the \`download-url\` input (https://github.com/OWNER/costgate/releases)"
base="${base%/}"
case "$version" in
latest) ;;
v[0-9]*.[0-9]*.[0-9]* | [0-9]*.[0-9]*.[0-9]*) version="${version#v}" ;;
*) die "version \`$version\` is not X.Y.Z, vX.Y.Z or latest" ;;
esac
case "$version" in
*[!0-9A-Za-z.+-]*) die "version \`$version\` has characters a version cannot have" ;;
esac

case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
Linux/X64) target=x86_64-unknown-linux-musl ;;
Linux/ARM64) target=aarch64-unknown-linux-musl ;;
macOS/X64) target=x86_64-apple-darwin ;;
macOS/ARM64) target=aarch64-apple-darwin ;;
*) die "no costgate release for ${RUNNER_OS:-unknown OS} on ${RUNNER_ARCH:-unknown architecture}: releases cover Linux and macOS on X64 and ARM64; on others run the container action (render mode) or build with cargo" ;;
esac
asset="costgate-$target.tar.gz"
arch="$(echo "${RUNNER_ARCH}" | tr '[:upper:]' '[:lower:]')"
cache_root="${RUNNER_TOOL_CACHE:?RUNNER_TOOL_CACHE is not set: run this on a GitHub runner}/costgate"

sha256() {
    if command -v sha256sum >/dev/null; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

publish() {
    echo "$1" >>"${GITHUB_PATH:?GITHUB_PATH is not set}"
    if [ -n "${GITHUB_OUTPUT:-}" ]; then
        {
            echo "version=$2"
            echo "path=$1/costgate"
        } >>"$GITHUB_OUTPUT"
    fi
    echo "costgate $2 at $1/costgate"
}

# An exact version already in the tool cache (the `.complete` marker is written last): no download.
if [ "$version" != latest ] && [ -f "$cache_root/$version/$arch.complete" ] &&
    [ -x "$cache_root/$version/$arch/costgate" ]; then
    publish "$cache_root/$version/$arch" "$version"
    exit 0
fi

if [ "$version" = latest ]; then
    url="$base/latest/download"
else
    url="$base/download/v$version"
fi
work="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/costgate-setup.XXXXXX")"
trap 'rm -rf "$work"' EXIT

fetch() {
    curl --fail --silent --show-error --location --proto '=https,http' \
        --retry 3 --retry-delay 2 --connect-timeout 20 --max-time 300 \
        --output "$work/$1" "$url/$1" || die "cannot download $url/$1 (check \`version\` and \`download-url\`)"
}
fetch SHA256SUMS
fetch "$asset"

want="$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' "$work/SHA256SUMS")"
[ -n "$want" ] || die "$url/SHA256SUMS has no line for $asset"
got="$(sha256 "$work/$asset")"
[ "$want" = "$got" ] || die "checksum mismatch for $url/$asset: SHA256SUMS says $want, the download is $got; nothing was installed"

mkdir -p "$work/x"
tar -xzf "$work/$asset" -C "$work/x"
[ -f "$work/x/costgate" ] || die "$asset has no costgate binary at its top level"
chmod +x "$work/x/costgate"
# The binary names its own version: that is the cache key for `latest` too.
real="$("$work/x/costgate" --version | awk '{ print $2 }')"
[ -n "$real" ] || die "the downloaded costgate did not print its version"
if [ "$version" != latest ] && [ "$real" != "$version" ]; then
    die "$asset from $url is costgate $real, not $version"
fi

dest="$cache_root/$real/$arch"
rm -rf "$dest" "$dest.complete"
mkdir -p "$dest"
mv "$work/x/costgate" "$dest/costgate"
touch "$dest.complete"
publish "$dest" "$real"
