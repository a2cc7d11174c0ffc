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
# RUNNER_TOOL_CACHE, RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT, and for the default BASE_URL
# GITHUB_ACTION_PATH and GITHUB_SERVER_URL (or the action's COSTGATE_ACTION_REPO and
# COSTGATE_SERVER).
set -euo pipefail

die() {
    echo "::error title=costgate setup::$*" >&2
    exit 1
}

# The action's own repository, for the default download URL: `github.action_repository` when
# GitHub sets it (COSTGATE_ACTION_REPO; not guaranteed inside composite actions, see
# actions/runner#2525), else where the runner checked the action out
# (GITHUB_ACTION_PATH = .../_actions/OWNER/REPO/REF/...).
action_repo() {
    if [ -n "${COSTGATE_ACTION_REPO:-}" ]; then
        echo "$COSTGATE_ACTION_REPO"
        return
    fi
    case "${GITHUB_ACTION_PATH:-}" in
    */_actions/*/*/*)
        local rest="${GITHUB_ACTION_PATH##*/_actions/}"
        local owner="${rest%%/*}"
        rest="${rest#*/}"
        echo "$owner/${rest%%/*}"
        ;;
    esac
}

version="${1:-}"
base="${2:-}"
[ -n "$version" ] || die "no version: set the \`version\` input (1.2.3 or latest)"
if [ -z "$base" ] && [ -n "$(action_repo)" ]; then
    base="${COSTGATE_SERVER:-${GITHUB_SERVER_URL:-https://github.com}}/$(action_repo)/releases"
fi
[ -n "$base" ] || die "no download URL: set the \`download-url\` input (https://github.com/OWNER/costgate/releases)"
case "$(action_repo)" in
*[!A-Za-z0-9._/-]*) die "the action's repository \`$(action_repo)\` is not an OWNER/REPO name" ;;
esac
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
want="$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' "$work/SHA256SUMS")"
[ -n "$want" ] || die "$url/SHA256SUMS has no line for $asset"

# An exact version already in the tool cache is used only if it is still what the release says:
# on a self-hosted runner the cache outlives the job, and an earlier job (a PR's harness) could
# have replaced the binary. The verified archive is kept beside it; both are checked every time.
cached="$cache_root/$version/$arch"
if [ "$version" != latest ] && [ -f "$cached.complete" ] && [ -f "$cached.tar.gz" ]; then
    mkdir -p "$work/cached"
    if [ "$(sha256 "$cached.tar.gz")" = "$want" ] &&
        tar -xzf "$cached.tar.gz" -C "$work/cached" 2>/dev/null &&
        cmp -s "$work/cached/costgate" "$cached/costgate"; then
        publish "$cached" "$version"
        exit 0
    fi
    echo "::warning title=costgate setup::the cached costgate $version does not match the release's SHA256SUMS; downloading it again" >&2
fi

fetch "$asset"
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
rm -rf "$dest" "$dest.complete" "$dest.tar.gz"
mkdir -p "$dest"
mv "$work/x/costgate" "$dest/costgate"
cp "$work/$asset" "$dest.tar.gz"
touch "$dest.complete"
publish "$dest" "$real"
