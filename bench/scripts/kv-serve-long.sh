#!/usr/bin/env bash
# Issue 12's serving check: N concurrent sequences of ~PROMPT tokens each against `frugal serve` with a KV type, every
# request must come back 200 with its tokens. Prints the pool's bytes (the serve "ready" line), each request's status,
# prompt and completion tokens, the wall time, and the engine's KV counters from /metrics.
# Usage: bench/scripts/kv-serve-long.sh MODEL [TYPE=kivi2] [N=32] [PROMPT=1950] [GEN=32]
set -euo pipefail
model=$1; type=${2:-kivi2}; n=${3:-32}; prompt=${4:-1950}; gen=${5:-32}
root=$(cd "$(dirname "$0")/../.." && pwd)
cli="$root/src/Frugal.Cli/bin/Release/net10.0/Frugal.Cli"
[ -x "$cli" ] || dotnet build -c Release "$root/src/Frugal.Cli" >/dev/null
work=$(mktemp -d); trap 'kill $server 2>/dev/null || true' EXIT
port=$((20000 + RANDOM % 20000))
ctx=$(( (prompt * 108 / 100 + gen + 63) / 64 * 64 ))   # room for the prompts' spread in tokens
DOTNET_gcServer=0 "$cli" serve "$model" --port $port --parallel "$n" --ctx "$ctx" -ctk "$type" -ctv "$type" --queue $((n * 2)) 2>"$work/serve.log" &
server=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.5; done
grep -E "ready|KV" "$work/serve.log" | head -3
# Distinct prompts of about $prompt tokens: numbered lines of words, cut by the server's own count below.
words="the a river stone light garden quiet morning letter window bread market cold song"
sample=$(for _ in $(seq 20); do echo -n "$words "; done)
per=$("$cli" tokenize "$model" "$sample" --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)['ids']) / (20 * 14))")
python3 - "$work" "$n" "$prompt" "$gen" "$per" "$words" <<'PY'
import json, random, sys
work, n, tokens, gen, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
words = sys.argv[6].split()
for i in range(1, n + 1):
    rng = random.Random(i)   # distinct prompts: no prefix is shared between requests
    text = " ".join(rng.choice(words) for _ in range(int(tokens / per * 0.95)))
    body = {"model": "m", "prompt": text, "max_tokens": gen, "temperature": 0, "ignore_eos": True}
    json.dump(body, open(f"{work}/p{i}.json", "w"))
PY
start=$(date +%s.%N)
for i in $(seq "$n"); do
  curl -s -o "$work/r$i.json" -w "%{http_code} %{time_total}\n" -H 'Content-Type: application/json' \
    --data @"$work/p$i.json" "http://127.0.0.1:$port/v1/completions" > "$work/s$i.txt" &
done
wait $(jobs -p | grep -v "^$server$") 2>/dev/null || true
end=$(date +%s.%N)
ok=0
for i in $(seq "$n"); do
  read -r code secs < "$work/s$i.txt"
  usage=$(python3 -c "import json,sys; u=json.load(open('$work/r$i.json')).get('usage',{}); print(u.get('prompt_tokens'), u.get('completion_tokens'))" 2>/dev/null || echo "? ?")
  echo "request $i: HTTP $code in ${secs}s, prompt/completion tokens $usage"
  [ "$code" = 200 ] && ok=$((ok + 1))
done
echo "$ok of $n answered 200; wall $(python3 -c "print(round($end - $start, 1))") s"
curl -s "http://127.0.0.1:$port/metrics" | grep -E "^frugal_kv|^frugal_requests|^frugal_http" || true
[ "$ok" = "$n" ]
