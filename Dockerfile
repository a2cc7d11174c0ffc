# costgate as a Docker container action. Multi-stage: a full Rust toolchain builds the binary (or, with
# `--target prebuilt`, a binary built elsewhere is used); the final
# image holds only the binary, git (costgate reads base and head commits from the checkout) and CA roots
# (HTTPS to the GitHub and JIRA APIs). Releases publish this image so that a PR never waits for a compile
# (see .github/workflows/release.yml and docs/action.md).

# The runtime's base. CI builds the image without a registry, from a Debian base made locally with
# debootstrap (scripts/container-test); releases use Docker Hub's.
ARG BASE_IMAGE=debian:bookworm-slim

# Any current stable toolchain builds it (Cargo.toml states the minimum, rust-version).
FROM rust:1-slim-bookworm AS build
WORKDIR /src
# Set before the first build: the profile is part of every crate's fingerprint.
ENV CARGO_PROFILE_RELEASE_STRIP=symbols
# Dependencies first, so that a source-only change reuses the cached dependency layer.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches \
 && echo 'fn main() {}' > src/main.rs \
 && echo '' > src/lib.rs \
 && for b in tokenize mock_load; do echo 'fn main() {}' > benches/$b.rs; done \
 && cargo build --release --locked --bin costgate \
 && rm -rf src benches
COPY src src
COPY templates templates
COPY benches benches
# Touch the sources so cargo rebuilds the crate itself over the placeholder.
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin costgate

# The runtime: the binary, git and CA roots, nothing else.
FROM ${BASE_IMAGE} AS runtime
# A base that already carries both (the locally made one) needs no package index, and no network.
RUN if command -v git >/dev/null && [ -s /etc/ssl/certs/ca-certificates.crt ]; then exit 0; fi \
 && apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# The runner mounts the workspace owned by another user; costgate adds it to git's safe.directory
# itself, and needs a writable HOME for that.
ENV HOME=/tmp
ENTRYPOINT ["costgate", "action"]

# `--target prebuilt`: the runtime around a binary built outside (the release pipeline's static
# binaries, CI's test build): `dist/<arch>/costgate` in the build context, arch as Docker names it
# (amd64, arm64). Nothing is compiled.
FROM runtime AS prebuilt
ARG TARGETARCH
COPY dist/${TARGETARCH}/costgate /usr/local/bin/costgate

# The default (last) stage: built from source, what `image: Dockerfile` in action.yml runs on main.
FROM runtime
COPY --from=build /src/target/release/costgate /usr/local/bin/costgate
