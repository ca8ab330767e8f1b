#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs Erlang/Elixir if missing, checks formatting
# and lints, regenerates the golden ETF vectors with the installed OTP, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace --all-targets
