// llama.cpp's speculative decoding through node-llama-cpp v3 on the same files as `Frugal.Bench speculative`:
// greedy generation of N tokens, plain vs a token predictor (DraftSequenceTokenPredictor with the draft model, or
// InputLookupTokenPredictor: prompt lookup), interleaved round by round. Generated tokens / wall time of the evaluate
// loop (the short prompt's prefill included, the same in both).
// Usage: node speculative.mjs MAIN.gguf DRAFT.gguf WORKLOADS.json [N=64] [THREADS=1] [REPS=3]
// WORKLOADS.json: [{"name": "...", "predictor": "lookup"|"draft", "prompts": ["..."]}] (Frugal.Bench speculative --write-workloads FILE)
import {readFileSync} from "node:fs";
import {getLlama, LlamaLogLevel, DraftSequenceTokenPredictor, InputLookupTokenPredictor} from "node-llama-cpp";

const [mainPath, draftPath, workPath, nArg = "64", tArg = "1", rArg = "3"] = process.argv.slice(2);
if (!workPath) { console.error("usage: node speculative.mjs MAIN.gguf DRAFT.gguf WORKLOADS.json [N] [THREADS] [REPS]"); process.exit(2); }
const N = +nArg, T = +tArg, R = +rArg;
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.warn, maxThreads: T});
const main = await llama.loadModel({modelPath: mainPath, gpuLayers: 0});
const draft = await llama.loadModel({modelPath: draftPath, gpuLayers: 0});
const workloads = JSON.parse(readFileSync(workPath, "utf8"));

async function generate(prompt, kind) {
  const ctx = await main.createContext({contextSize: 512, threads: T, sequences: 1});
  let draftCtx = null, predictor;
  if (kind === "draft") {
    draftCtx = await draft.createContext({contextSize: 512, threads: T, sequences: 1});
    predictor = new DraftSequenceTokenPredictor(draftCtx.getSequence(), {maxTokens: 8});
  } else if (kind === "lookup") predictor = new InputLookupTokenPredictor({patternLength: {min: 2}, predictionLength: {max: 8}});
  const seq = ctx.getSequence(predictor ? {tokenPredictor: predictor} : {});
  const tokens = [main.tokens.bos, ...main.tokenize(prompt)];
  let n = 0;
  const t0 = performance.now();
  for await (const _ of seq.evaluate(tokens, {temperature: 0})) if (++n >= N) break;
  const s = (performance.now() - t0) / 1000;
  const stats = seq.tokenPredictions;
  await ctx.dispose();
  if (draftCtx) await draftCtx.dispose();
  return {n, s, stats};
}

for (const w of workloads) {
  let plainN = 0, plainS = 0, specN = 0, specS = 0, validated = 0, refuted = 0;
  await generate(w.prompts[0], null); await generate(w.prompts[0], w.predictor); // warm-up
  for (let r = 0; r < R; r++)
    for (const p of w.prompts) {
      const a = await generate(p, null), b = await generate(p, w.predictor);
      plainN += a.n; plainS += a.s; specN += b.n; specS += b.s;
      validated += b.stats?.validated ?? 0; refuted += b.stats?.refuted ?? 0;
    }
  const plain = plainN / plainS, spec = specN / specS;
  console.log(`| ${w.name} | llama.cpp ${w.predictor} | ${plain.toFixed(0)} | ${spec.toFixed(0)} | ${(spec / plain).toFixed(2)}x | ${validated}/${validated + refuted} |`);
}
