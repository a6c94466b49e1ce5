// llama-bench-like pp/tg at a depth, with node-llama-cpp's prebuilt llama.cpp (ggml CPU backend, every x86 variant).
// Usage: node bench.mjs MODEL.gguf [P=128] [N=64] [THREADS=2] [REPS=3] [DEPTH=0]
//                       [--type-k F16] [--type-v F16] [--flash-attn auto|on|off]
// Each round: a fresh sequence; DEPTH random tokens evaluated untimed in calls of at most 512 (llama-bench's
// n_ubatch); then, timed, P tokens in one batch (pp) and N single-token evaluations (tg). One untimed warm-up round,
// then the medians of REPS rounds, printed as one JSON line. All ids are drawn once, up front, from a fixed seed.
import {getLlama, LlamaLogLevel, GgmlType} from "node-llama-cpp";

const positional = [], options = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a.startsWith("--")) {
    if (i + 1 >= process.argv.length) fail(`${a} needs a value`);
    options[a.slice(2)] = process.argv[++i];
  } else positional.push(a);
}
const [modelPath, pArg = "128", nArg = "64", tArg = "2", rArg = "3", dArg = "0"] = positional;
if (!modelPath) fail("usage: node bench.mjs MODEL.gguf [P] [N] [THREADS] [REPS] [DEPTH] [--type-k T] [--type-v T] [--flash-attn off|on|auto]");
const P = count("P", pArg, 1), N = count("N", nArg, 1), T = count("THREADS", tArg, 1), R = count("REPS", rArg, 1), D = count("DEPTH", dArg, 0);
for (const k of Object.keys(options))
  if (!["type-k", "type-v", "flash-attn"].includes(k)) fail(`unknown option --${k}`);
// node-llama-cpp silently falls back to F16 for a type name it does not know, so names are checked here.
const typeK = ggmlType("type-k"), typeV = ggmlType("type-v");
const flash = {off: false, on: true, auto: "auto"}[options["flash-attn"] ?? "auto"];
if (flash === undefined) fail(`--flash-attn: expected off, on or auto, got ${options["flash-attn"]}`);

// Debug logging while loading and making the context, to keep the lines that say which CPU variant loaded, what was
// repacked, and what flash attention "auto" and the KV types resolved to; warnings only once timing starts.
const setup = [], repacks = new Map();
const keep = /libggml-cpu|flash_attn|Flash Attention|K \(/;
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.debug, maxThreads: T,
  logger: (level, message) => {
    const repack = /^(\S+): .*repack.* of type (\S+)/.exec(message.trim()); // one line per tensor: counted, per kernel and type
    if (repack) repacks.set(`${repack[1]} ${repack[2]}`, (repacks.get(`${repack[1]} ${repack[2]}`) ?? 0) + 1);
    else if (keep.test(message) && setup.length < 20) setup.push(message.trim());
    if ([LlamaLogLevel.warn, LlamaLogLevel.error, LlamaLogLevel.fatal].includes(level)) console.error(message.trimEnd());
  }});
const t0 = performance.now();
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const loadS = (performance.now() - t0) / 1000;
const ctx = await model.createContext({
  contextSize: D + P + N + 16,
  batchSize: Math.max(P, Math.min(D, 512)), // the prompt is one batch (one graph); depth chunks of 512 fit too
  threads: T, sequences: 1, flashAttention: flash,
  ...(typeK !== undefined && {experimentalKvCacheKeyType: typeK}),
  ...(typeV !== undefined && {experimentalKvCacheValueType: typeV}),
});
llama.logLevel = LlamaLogLevel.warn;
const vocab = model.fileInfo?.metadata?.tokenizer?.ggml?.tokens?.length ?? 256;
let seed = 1; const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const ids = n => Array.from({length: n}, () => 1 + Math.floor(rnd() * Math.min(vocab - 2, 30000)));
const med = a => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const depthIds = ids(D), promptIds = ids(P), decodeIds = ids(N);
const pp = [], tg = [], depthS = [];
for (let r = 0; r < R + 1; r++) {
  const seq = ctx.getSequence();
  let s = performance.now();
  for (let at = 0; at < D; at += 512) await seq.evaluateWithoutGeneratingNewTokens(depthIds.slice(at, at + 512));
  const dS = (performance.now() - s) / 1000;
  if (seq.nextTokenIndex !== D) fail(`the sequence holds ${seq.nextTokenIndex} tokens after the depth, expected ${D}`);
  s = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(promptIds);
  const ppS = (performance.now() - s) / 1000;
  s = performance.now();
  for (let i = 0; i < N; i++) await seq.evaluateWithoutGeneratingNewTokens([decodeIds[i]]);
  const tgS = (performance.now() - s) / 1000;
  if (seq.nextTokenIndex !== D + P + N) fail(`the sequence holds ${seq.nextTokenIndex} tokens after the round, expected ${D + P + N}`);
  seq.dispose();
  if (r > 0) { pp.push(P / ppS); tg.push(N / tgS); depthS.push(dS); }
}
console.log(JSON.stringify({
  engine: "llama.cpp-nlc", p: P, n: N, threads: T, reps: R, depth: D,
  prefill_tok_s: med(pp), decode_tok_s: med(tg), load_s: loadS,
  flash_attention: ctx.flashAttention, type_k: GgmlType[ctx.kvCacheKeyType], type_v: GgmlType[ctx.kvCacheValueType],
  context_size: ctx.contextSize, pp, tg, depth_s: depthS, llama_log: [...new Set(setup)], repacked_tensors: Object.fromEntries(repacks),
}));
process.exit(0);

function count(name, text, min) {
  const v = Number(text);
  if (!Number.isInteger(v) || v < min) fail(`${name}: expected an integer of at least ${min}, got ${text}`);
  return v;
}

function ggmlType(option) {
  const name = options[option];
  if (name === undefined) return undefined;
  const key = name.toUpperCase();
  if (!Object.hasOwn(GgmlType, key) || typeof GgmlType[key] !== "number") fail(`--${option}: unknown ggml type ${name} (e.g. F16, Q8_0, Q4_0)`);
  return key;
}

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}
