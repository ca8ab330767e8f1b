#!/usr/bin/env bash
# Installs what ferl's tests need on a fresh Debian machine: Erlang/OTP 25 and Elixir (the reference
# system every interop test runs against). Does nothing when they are already there.
set -euo pipefail
if command -v erl >/dev/null && command -v elixir >/dev/null && command -v epmd >/dev/null; then
  exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq erlang-base erlang-dev elixir erlang-crypto erlang-ssl \
  erlang-public-key erlang-asn1 erlang-syntax-tools erlang-tools >/dev/null
erl -noshell -eval 'io:format("installed Erlang/OTP ~s~n",[erlang:system_info(otp_release)]), halt().'
