#!/usr/bin/env bash
# Issue 13's check of --mem-budget: a model file about twice the budget, run under a cgroup v1 memory limit of
# budget + KV + OVERHEAD, must give the same tokens as the unbudgeted run; its peak RSS must stay within the same sum.
# Prints, each after dropping the page cache (so streamed bytes come from the disk):
#   1. the unbudgeted reference run (no cgroup): tokens, peak RSS
#   2. the budgeted run in the cgroup: tokens identical?, peak RSS, the cgroup's peak usage and failcnt, decode tok/s
#   3. the disk's rate for the streamed bytes, read as the stream reads them (Frugal.Bench disk-read, pread, in the cgroup)
#      and decode's fraction of it: decode tok/s x streamed bytes per token / disk rate
#   4. frugal bench -p PP under the budget in the cgroup: prefill tok/s, and streamed units per forward (one read of
#      each streamed layer serves the whole PP-token batch)
#   4b. the same bench without a budget or cgroup (prefill under the budget against it)
#   5. llama.cpp (node-llama-cpp, mmap, no budget) on the same file in the same cgroup: pp/tg, cgroup peak usage
# Needs root (cgroup and drop_caches). Usage:
#   bench/scripts/mem-budget.sh [MODEL=/tmp/frugal-bench/llama-3.2-1b-shape-q8_0.gguf] [BUDGET=640M] [N=16] [OVERHEAD=160M] [PP=512]
set -euo pipefail
model=${1:-/tmp/frugal-bench/llama-3.2-1b-shape-q8_0.gguf}; budget=${2:-640M}; n=${3:-16}; overhead=${4:-160M}; pp=${5:-512}
root=$(cd "$(dirname "$0")/../.." && pwd)
cli="$root/src/Frugal.Cli/bin/Release/net10.0/Frugal.Cli"
bench="$root/bench/Frugal.Bench/bin/Release/net10.0/Frugal.Bench.dll"
nlc=${NLC:-/tmp/nlc}
[ -x "$cli" ] || nice -n 19 dotnet build -c Release "$root/src/Frugal.Cli" >/dev/null
[ -f "$bench" ] || nice -n 19 dotnet build -c Release "$root/bench/Frugal.Bench" >/dev/null
work=$(mktemp -d /tmp/mem-budget-XXXX)
cg=/sys/fs/cgroup/memory/frugal-mem-budget-$$
trap 'rmdir "$cg" 2>/dev/null || true' EXIT

bytes() { python3 -c "
import re, sys; m = re.fullmatch(r'([0-9.]+)([KMGT]?)(I?B)?', sys.argv[1].upper())
print(int(float(m[1]) * (1 << {'': 0, 'K': 10, 'M': 20, 'G': 30, 'T': 40}[m[2]])))" "$1"; }
budget_b=$(bytes "$budget"); overhead_b=$(bytes "$overhead")
prompt="Once upon a time there was a little robot who lived in a quiet garden"
# KV bytes (f16) for the larger of the two runs here (the bench: PP + 4 tokens), rounded up to blocks of 16.
kv_b=$("$cli" info "$model" --json | python3 -c "
import json,sys; i=json.load(sys.stdin); hd=i['embedding_length']//i['head_count']
tokens=-(-($pp+4)//16)*16; print(i['block_count']*2*i['head_count_kv']*hd*2*tokens)")
limit=$((budget_b + kv_b + overhead_b))
file_b=$(stat -c %s "$model")
echo "model $model: $((file_b / 1048576)) MiB; budget $((budget_b / 1048576)) MiB (file/budget = $(python3 -c "print(f'{$file_b/$budget_b:.2f}')"))"
echo "cgroup limit = budget + KV $((kv_b / 1048576)) MiB + overhead $((overhead_b / 1048576)) MiB = $((limit / 1048576)) MiB; load: $(uptime | sed 's/.*load/load/')"

mkdir -p "$cg"
echo "$limit" > "$cg/memory.limit_in_bytes"
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
reset_cg() { echo 0 > "$cg/memory.max_usage_in_bytes"; echo 0 > "$cg/memory.failcnt"; }
in_cg() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"; }
cg_line() { echo "cgroup: peak usage $(( $(cat "$cg/memory.max_usage_in_bytes") / 1048576 )) MiB (page cache included), failcnt $(cat "$cg/memory.failcnt"), oom_kill $(awk '$1 == "oom_kill" {print $2}' "$cg/memory.oom_control")"; }

echo; echo "== 1. unbudgeted reference (no cgroup)"
drop
nice -n 19 "$cli" run "$model" -p "$prompt" -n "$n" --temp 0 --ignore-eos --json > "$work/ref.json"
python3 -c "import json; r=json.load(open('$work/ref.json')); print('tokens', r['tokens']); print(f\"peak RSS {r['peak_rss_mb']:.0f} MB, decode {r['timings']['decode_tokens_per_second']:.2f} tok/s\")"

echo; echo "== 2. --mem-budget $budget in the cgroup"
drop; reset_cg
in_cg nice -n 19 "$cli" run "$model" -p "$prompt" -n "$n" --temp 0 --ignore-eos --json --mem-budget "$budget" > "$work/budget.json"
python3 - "$work" "$budget_b" "$kv_b" "$overhead_b" <<'PY'
import json, sys
work, budget, kv, overhead = sys.argv[1], *map(int, sys.argv[2:])
ref, b = json.load(open(f"{work}/ref.json")), json.load(open(f"{work}/budget.json"))
w = b["weights"]
print("tokens identical to the unbudgeted run:", ref["tokens"] == b["tokens"])
print(f"peak RSS {b['peak_rss_mb']:.0f} MB vs budget + KV + overhead {(budget + kv + overhead) / 1e6:.0f} MB: "
      f"{'within' if b['peak_rss_mb'] * 1e6 <= budget + kv + overhead else 'ABOVE'}; over the budget alone by {b['peak_rss_mb'] - budget / 1e6:.0f} MB")
print(f"resident {w['resident_bytes'] / 1e6:.0f} MB ({w['resident_layers']}/{w['layers']} layers) + {w['buffer_count']} x {w['buffer_bytes'] / 1e6:.1f} MB buffers; "
      f"streamed {w['streamed_bytes'] / 1e6:.0f} MB per token; units used {w['units_used']}, read {w['units_read']}; forward waited {w['wait_s']:.1f} s")
print(f"decode {b['timings']['decode_tokens_per_second']:.3f} tok/s, prefill {b['timings']['prefill_tokens_per_second']:.2f} tok/s")
PY
cg_line

echo; echo "== 3. disk rate for the streamed bytes (pread as the stream reads, in the cgroup, cache dropped)"
drop
in_cg nice -n 19 dotnet "$bench" disk-read "$model" "$budget" | tee "$work/disk.json"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
b, d = json.load(open(f"{work}/budget.json")), json.load(open(f"{work}/disk.json"))
disk_tok_s = d["mb_s"] * 1e6 / b["weights"]["streamed_bytes"]
print(f"the disk delivers a token's streamed bytes at {disk_tok_s:.3f} tok/s; decode reached {b['timings']['decode_tokens_per_second']:.3f} tok/s = "
      f"{100 * b['timings']['decode_tokens_per_second'] / disk_tok_s:.0f}% of it")
PY

echo; echo "== 4. frugal bench -p $pp -n 4 under the budget, in the cgroup"
drop; reset_cg
in_cg nice -n 19 "$cli" bench "$model" -p "$pp" -n 4 --reps 1 --no-membw --json --mem-budget "$budget" > "$work/bench.json"
python3 - "$work" "$pp" <<'PY'
import json, sys
work, pp = sys.argv[1], int(sys.argv[2])
b = json.load(open(f"{work}/bench.json")); w = b["weights"]
# bench: a warm-up round and one timed round, each one prefill forward + 3 decode forwards (the 4th token is sampled).
forwards = 2 * (1 + 4)
print(f"pp{pp} {b['prefill_tok_s']:.2f} tok/s, tg4 {b['decode_tok_s']:.3f} tok/s, peak RSS {b['peak_rss_mb']:.0f} MB")
print(f"streamed units used {w['units_used']} over {forwards} forwards = {w['units_used'] / forwards:.1f} per forward "
      f"({w['streamed_layers']} streamed layers): each streamed layer read once for all {pp} prompt tokens, "
      f"{w['streamed_bytes'] / pp / 1e6:.2f} MB read per prompt token")
PY
cg_line

echo; echo "== 4b. the same bench without a budget (no cgroup), for the prefill comparison"
drop
nice -n 19 "$cli" bench "$model" -p "$pp" -n 4 --reps 1 --no-membw --json > "$work/bench-full.json"
python3 - "$work" "$pp" <<'PY'
import json, sys
work, pp = sys.argv[1], int(sys.argv[2])
f, b = json.load(open(f"{work}/bench-full.json")), json.load(open(f"{work}/bench.json"))
print(f"pp{pp} {f['prefill_tok_s']:.2f} tok/s unbudgeted vs {b['prefill_tok_s']:.2f} under the budget ({100 * b['prefill_tok_s'] / f['prefill_tok_s']:.0f}%); "
      f"tg4 {f['decode_tok_s']:.2f} vs {b['decode_tok_s']:.3f}; peak RSS {f['peak_rss_mb']:.0f} MB vs {b['peak_rss_mb']:.0f} MB")
PY

echo; echo "== 5. llama.cpp (node-llama-cpp, mmap, no budget) on the same file in the same cgroup: pp64 tg8"
if [ -d "$nlc/node_modules" ]; then
  drop; reset_cg
  (cd "$nlc" && in_cg nice -n 19 /usr/bin/time -f "peak RSS %M KB, %e s wall, major faults %F" node bench.mjs "$model" 64 8 2 1 2>&1 | grep -v "^\s*$" | tail -3) || echo "node-llama-cpp failed (exit $?)"
  cg_line
else
  echo "skipped: no $nlc/node_modules (see bench/node-llama-cpp)"
fi
