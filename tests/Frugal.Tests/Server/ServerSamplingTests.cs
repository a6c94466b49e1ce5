using System.Text.Json;
using Frugal.Inference.Engine;
using Frugal.Inference.Sampling;

namespace Frugal.Tests.Server;

/// <summary>
/// The sampling fields (top_k, min_p, repeat_penalty, logit_bias, seed) and /v1/completions' token-array prompts and
/// echo, over raw HTTP, checked against the engine run in-process with the same settings.
/// </summary>
public class ServerSamplingTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private const string Prompt = "Once upon a time";
    private readonly ServerHarness _h = shared.Harness;

    private InferenceEngine Engine => _h.Server.State.Model!.Engine;

    private int[] PromptTokens => _h.Server.State.Model!.Tokenizer.Encode(Prompt);

    private async Task<EngineCompletion> InProcess(SamplingOptions sampling, int maxTokens, int topLogprobs = 0) =>
        await Engine.Submit(new EngineRequest
        {
            PromptTokens = PromptTokens, MaxTokens = maxTokens, Sampling = sampling, Logprobs = topLogprobs > 0, TopLogprobs = topLogprobs, IgnoreEos = true,
        }).CompleteAsync();

    /// <summary>POST /v1/completions with <paramref name="fields"/> added to the prompt; the whole body on success.</summary>
    private async Task<JsonElement> Complete(string fields, string prompt = $"\"{Prompt}\"")
    {
        var (status, body) = await _h.PostAsync("v1/completions", $$"""{"prompt":{{prompt}},"ignore_eos":true,{{fields}}}""");
        Assert.True(status == 200, body.ToString());
        return body;
    }

    private async Task<string> Text(string fields, string prompt = $"\"{Prompt}\"") =>
        (await Complete(fields, prompt)).GetProperty("choices")[0].GetProperty("text").GetString()!;

    [Fact]
    public async Task Logit_bias_minus_100_on_the_greedy_token_gives_the_second_choice()
    {
        var plain = await InProcess(SamplingOptions.Greedy, 1, topLogprobs: 2);
        int first = plain.Tokens[0].TokenId, second = plain.Tokens[0].TopLogprobs![1].TokenId;
        Assert.Equal(first, plain.Tokens[0].TopLogprobs![0].TokenId);
        var biased = await InProcess(SamplingOptions.Greedy with { LogitBias = new Dictionary<int, float> { [first] = -100 } }, 1);
        Assert.Equal(second, biased.Tokens[0].TokenId);

        Assert.Equal(plain.Text, await Text("\"temperature\":0,\"max_tokens\":1"));
        Assert.Equal(biased.Text, await Text($$"""
            "temperature":0,"max_tokens":1,"logit_bias":{"{{first}}":-100}
            """));
        Assert.NotEqual(plain.Text, biased.Text);
    }

    [Fact]
    public async Task Logit_bias_plus_100_forces_a_token_at_every_step()
    {
        var plain = await InProcess(SamplingOptions.Greedy, 1, topLogprobs: 20);
        int forced = plain.Tokens[0].TopLogprobs![^1].TokenId; // the 20th most likely: never picked without the bias
        var sampling = new SamplingOptions { Temperature = 1, Seed = 3, LogitBias = new Dictionary<int, float> { [forced] = 100 } };
        var biased = await InProcess(sampling, 3);
        Assert.Equal([forced, forced, forced], biased.Tokens.Select(t => t.TokenId));
        Assert.Equal(biased.Text, await Text($$"""
            "temperature":1,"seed":3,"max_tokens":3,"logit_bias":{"{{forced}}":100}
            """));
    }

    [Fact]
    public async Task Top_k_1_and_min_p_1_equal_greedy_at_a_high_temperature()
    {
        string greedy = await Text("\"temperature\":0,\"max_tokens\":8");
        Assert.Equal(greedy, await Text("\"temperature\":2,\"top_k\":1,\"seed\":11,\"max_tokens\":8"));
        Assert.Equal(greedy, await Text("\"temperature\":2,\"top_k\":0,\"min_p\":1,\"seed\":11,\"max_tokens\":8"));
        // The same temperature without them does not follow the greedy path (fixed seed: this is a fixed fact).
        Assert.NotEqual(greedy, await Text("\"temperature\":2,\"top_k\":0,\"min_p\":0,\"seed\":11,\"max_tokens\":8"));
    }

    [Fact]
    public async Task The_same_seed_repeats_the_output_and_another_seed_changes_it()
    {
        const string fields = "\"temperature\":1.5,\"top_k\":0,\"min_p\":0,\"max_tokens\":16";
        string a = await Text(fields + ",\"seed\":1234"), b = await Text(fields + ",\"seed\":1234"), c = await Text(fields + ",\"seed\":4321");
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        var sampled = await InProcess(new SamplingOptions { Temperature = 1.5f, TopK = 0, MinP = 0, TopP = 1, Seed = 1234 }, 16);
        Assert.Equal(sampled.Text, a);
    }

    [Fact]
    public async Task Repeat_penalty_and_its_vllm_alias_keep_repeats_out_of_a_greedy_run()
    {
        var penalized = await InProcess(SamplingOptions.Greedy with { RepeatPenalty = 100, PenaltyLastN = -1 }, 12);
        var ids = penalized.Tokens.Select(t => t.TokenId).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Empty(ids.Intersect(PromptTokens));
        var plain = await InProcess(SamplingOptions.Greedy, 12);
        Assert.NotEqual(plain.Text, penalized.Text);

        Assert.Equal(penalized.Text, await Text("\"temperature\":0,\"max_tokens\":12,\"repeat_penalty\":100,\"repeat_last_n\":-1"));
        Assert.Equal(penalized.Text, await Text("\"temperature\":0,\"max_tokens\":12,\"repetition_penalty\":100,\"repeat_last_n\":-1"));
    }

    [Fact]
    public async Task Token_array_prompts_equal_their_text_and_each_inner_array_is_a_choice()
    {
        int[] ids = PromptTokens;
        string text = await Text("\"temperature\":0,\"max_tokens\":4");
        Assert.Equal(text, await Text("\"temperature\":0,\"max_tokens\":4", $"[{string.Join(',', ids)}]"));

        int[] other = [.. ids[..^1]];
        string otherText = (await InProcessFrom(other)).Text;
        var body = await Complete("\"temperature\":0,\"max_tokens\":4", $"[[{string.Join(',', ids)}],[{string.Join(',', other)}]]");
        var choices = body.GetProperty("choices");
        Assert.Equal(2, choices.GetArrayLength());
        Assert.Equal([0, 1], choices.EnumerateArray().Select(c => c.GetProperty("index").GetInt32()));
        Assert.Equal(text, choices[0].GetProperty("text").GetString());
        Assert.Equal(otherText, choices[1].GetProperty("text").GetString());
        Assert.Equal(ids.Length + other.Length, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        var strings = await Complete("\"temperature\":0,\"max_tokens\":4,\"n\":2", $"[\"{Prompt}\",\"{Prompt}\"]");
        Assert.Equal(4, strings.GetProperty("choices").GetArrayLength());
        Assert.All(strings.GetProperty("choices").EnumerateArray(), c => Assert.Equal(text, c.GetProperty("text").GetString()));
    }

    private async Task<EngineCompletion> InProcessFrom(int[] prompt) =>
        await Engine.Submit(new EngineRequest { PromptTokens = prompt, MaxTokens = 4, Sampling = SamplingOptions.Greedy, IgnoreEos = true }).CompleteAsync();

    [Fact]
    public async Task Echo_prepends_the_prompt_text_streamed_or_not()
    {
        string text = await Text("\"temperature\":0,\"max_tokens\":4");
        Assert.Equal(Prompt + text, await Text("\"temperature\":0,\"max_tokens\":4,\"echo\":true"));
        string decoded = _h.Server.State.Model!.Tokenizer.Decode(PromptTokens);
        Assert.Equal(decoded + text, await Text("\"temperature\":0,\"max_tokens\":4,\"echo\":true", $"[{string.Join(',', PromptTokens)}]"));

        using var response = await _h.Http.PostAsync("v1/completions",
            ServerHarness.Json($$"""{"prompt":"{{Prompt}}","ignore_eos":true,"temperature":0,"max_tokens":4,"echo":true,"stream":true}"""));
        var chunks = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e["data: ".Length..]).Where(d => d != "[DONE]").Select(d => JsonDocument.Parse(d).RootElement).ToList();
        Assert.Equal(Prompt, chunks[0].GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(Prompt + text, string.Concat(chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray()).Select(c => c.GetProperty("text").GetString())));
    }

    [Theory]
    [InlineData("\"top_k\":-1", "top_k")]
    [InlineData("\"min_p\":1.5", "min_p")]
    [InlineData("\"repeat_penalty\":0", "repeat_penalty")]
    [InlineData("\"repetition_penalty\":-2", "repetition_penalty")]
    [InlineData("\"repeat_last_n\":-2", "repeat_last_n")]
    [InlineData("\"logit_bias\":{\"abc\":1}", "logit_bias")]
    [InlineData("\"logit_bias\":{\"-1\":1}", "logit_bias")]
    [InlineData("\"logit_bias\":{\"99999999\":1}", "logit_bias")]
    [InlineData("\"logit_bias\":{\"5\":101}", "logit_bias")]
    [InlineData("\"echo\":true,\"logprobs\":1", "echo")]
    public async Task Out_of_range_sampling_fields_are_400_naming_the_field(string fields, string param)
    {
        var (status, body) = await _h.PostAsync("v1/completions", $$"""{"prompt":"hi","max_tokens":1,{{fields}}}""");
        Assert.Equal(400, status);
        Assert.Equal(param, body.GetProperty("error").GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[[]]")]
    [InlineData("[1,\"a\"]")]
    [InlineData("[1.5]")]
    [InlineData("[-1]")]
    [InlineData("[[1],[99999999]]")]
    [InlineData("{\"text\":\"a\"}")]
    public async Task A_malformed_or_out_of_vocabulary_prompt_is_400_naming_prompt(string prompt)
    {
        var (status, body) = await _h.PostAsync("v1/completions", $$"""{"prompt":{{prompt}},"max_tokens":1}""");
        Assert.Equal(400, status);
        Assert.Contains("prompt", body.GetProperty("error").GetProperty("message").GetString());
    }
}
