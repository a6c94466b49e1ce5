// Drives a Frugal server with the npm openai client: a tool round trip (a required call, then the tool's result sent
// back for an answer), non-streamed and streamed. Usage: node tool-round-trip.mjs BASE_URL SCHEMA_JSON
// Prints one JSON object with what the client received, for the test to check.
import OpenAI from "openai";

const [baseURL, schemaText] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "unused" });
const tools = [{ type: "function", function: { name: "get_weather", description: "Weather in a city", parameters: JSON.parse(schemaText) } }];
const question = [{ role: "user", content: "Weather in Oslo?" }];

async function followUp(calls) {
  const messages = [...question, { role: "assistant", content: null, tool_calls: calls },
    ...calls.map(call => ({ role: "tool", tool_call_id: call.id, content: "{\"temp\": 21}" }))];
  const answer = await client.chat.completions.create({ model: "m", messages, tools, tool_choice: "none", max_tokens: 4, temperature: 0 });
  return { finish: answer.choices[0].finish_reason, content: answer.choices[0].message.content, prompt_tokens: answer.usage.prompt_tokens };
}

const whole = await client.chat.completions.create({ model: "m", messages: question, tools, tool_choice: "required", max_tokens: 300, seed: 11 });
const plainCalls = whole.choices[0].message.tool_calls ?? [];
const result = { plain: { finish: whole.choices[0].finish_reason, calls: plainCalls, follow_up: await followUp(plainCalls) } };

const stream = await client.chat.completions.create({ model: "m", messages: question, tools, tool_choice: "required", max_tokens: 300, seed: 11, stream: true });
const calls = [];
let finish = null;
for await (const chunk of stream) {
  const choice = chunk.choices[0];
  if (!choice) continue;
  for (const d of choice.delta.tool_calls ?? []) {
    calls[d.index] ??= { id: "", type: "function", function: { name: "", arguments: "" } };
    if (d.id) calls[d.index].id = d.id;
    if (d.function?.name) calls[d.index].function.name += d.function.name;
    if (d.function?.arguments) calls[d.index].function.arguments += d.function.arguments;
  }
  if (choice.finish_reason) finish = choice.finish_reason;
}
result.streamed = { finish, calls, follow_up: await followUp(calls) };
console.log(JSON.stringify(result));
