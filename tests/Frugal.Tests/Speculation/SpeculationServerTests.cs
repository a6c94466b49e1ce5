using System.Text.Json;
using Frugal.Inference.Speculation;
using Frugal.Tests.Server;

namespace Frugal.Tests.Speculation;

public class SpeculationServerTests
{
    [Fact]
    public async Task A_speculating_server_answers_as_a_plain_one_and_counts_drafts_in_metrics()
    {
        string prompt = JsonSerializer.Serialize(BuiltInPair.Prompts[6]);
        string request = $$"""{"prompt":{{prompt}},"max_tokens":24,"temperature":0}""";
        string Text(JsonElement body) => body.GetProperty("choices")[0].GetProperty("text").GetString()!;

        string plain;
        await using (var h = await ServerHarness.StartAsync(o => o with { ModelPath = BuiltInPair.MainPath }))
        {
            var (status, body) = await h.PostAsync("v1/completions", request);
            Assert.True(status == 200, body.ToString());
            plain = Text(body);
            Assert.Equal(0, await h.MetricAsync("frugal_spec_drafted_tokens_total"));
        }
        await using (var h = await ServerHarness.StartAsync(o => o with { ModelPath = BuiltInPair.MainPath, Speculation = SpeculationMode.Lookup, DraftMax = 4 }))
        {
            var (status, body) = await h.PostAsync("v1/completions", request);
            Assert.True(status == 200, body.ToString());
            Assert.Equal(plain, Text(body));
            double drafted = await h.MetricAsync("frugal_spec_drafted_tokens_total");
            Assert.True(drafted >= 1, $"{drafted} tokens drafted");
            Assert.InRange(await h.MetricAsync("frugal_spec_accepted_tokens_total"), 0, drafted);
        }
    }
}
