#!/usr/bin/env bash
# Load figures for the Gemini receiver, loopback only, bounded (3 runs of
# 20,000 deliveries per route): deliveries/s and p50/p99 latency for signed
# 512-byte deliveries over 64 connections (LOAD_CONNECTIONS=N to change),
# (a) verification only, (b) into the SQLite inbox and (c) into the
# PostgreSQL inbox at $DATABASE_URL (skipped without it; `bash
# scripts/postgres.sh` prints one), side by side in one run, with (b)/(a)
# per run, how long each inbox's worker took to catch up (the next route
# waits for it), plus this disk's fsync rate. Also (d), the floor under any
# durable store: a plain file with one fdatasync per batch, and (d)/(a).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p gemini-receiver --bench load "$@"
