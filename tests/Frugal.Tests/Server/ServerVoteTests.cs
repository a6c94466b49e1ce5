using System.Text.Json;

namespace Frugal.Tests.Server;

/// <summary>n choices of one prompt share its KV blocks, and the vote extension counts their answers.</summary>
public class ServerVoteTests(SharedServer shared) : IClassFixture<SharedServer>
{
    private readonly ServerHarness _h = shared.Harness;

    [Fact]
    public async Task Completions_with_n_fork_the_prompt_and_vote_reports_the_majority_of_the_choices()
    {
        double forkedBefore = await _h.MetricAsync("frugal_forked_samples_total");
        var (status, body) = await _h.PostAsync("v1/completions", """
            {"prompt":"Once upon a time","n":4,"max_tokens":2,"temperature":1.5,"seed":5,"ignore_eos":true,"vote":{}}
            """);
        Assert.True(status == 200, body.ToString());
        // The server runs 4 sequences: the first computes the prompt, the other 3 fork it.
        Assert.Equal(3, await _h.MetricAsync("frugal_forked_samples_total") - forkedBefore);

        var texts = body.GetProperty("choices").EnumerateArray().Select(c => c.GetProperty("text").GetString()!.Trim()).ToList();
        var vote = body.GetProperty("vote");
        var counts = vote.GetProperty("counts").EnumerateArray().Select(c => (c.GetProperty("answer").GetString()!, c.GetProperty("count").GetInt32())).ToList();
        var expected = texts.GroupBy(t => t).Select(g => (g.Key, g.Count())).OrderByDescending(g => g.Item2).ToList();
        Assert.Equal(expected.Select(e => e.Item2), counts.Select(c => c.Item2));
        Assert.Equal(expected.ToHashSet(), counts.ToHashSet());
        string answer = vote.GetProperty("answer").GetString()!;
        Assert.Equal(counts[0].Item2, texts.Count(t => t == answer));
        Assert.Equal("majority", vote.GetProperty("method").GetString());
        Assert.Equal(answer, texts[vote.GetProperty("choice_index").GetInt32()]);
        Assert.Equal(0, vote.GetProperty("abstained").GetInt32());
    }

    [Fact]
    public async Task A_vote_pattern_reads_its_first_group_and_choices_without_a_match_abstain()
    {
        var (status, body) = await _h.PostAsync("v1/chat/completions", """
            {"messages":[{"role":"user","content":"hi"}],"n":3,"max_tokens":3,"temperature":1.2,"seed":8,"ignore_eos":true,
             "vote":{"pattern":"^(\\S)","method":"best_logprob"}}
            """);
        Assert.True(status == 200, body.ToString());
        var texts = body.GetProperty("choices").EnumerateArray().Select(c => c.GetProperty("message").GetProperty("content").GetString()!).ToList();
        var vote = body.GetProperty("vote");
        int abstained = texts.Count(t => t.Length == 0 || char.IsWhiteSpace(t[0]));
        Assert.Equal(abstained, vote.GetProperty("abstained").GetInt32());
        Assert.Equal("best_logprob", vote.GetProperty("method").GetString());
        if (abstained < texts.Count)
        {
            string answer = vote.GetProperty("answer").GetString()!;
            Assert.Equal(1, answer.Length);
            Assert.Contains(texts, t => t.StartsWith(answer, StringComparison.Ordinal));
        }
        else
            Assert.False(vote.TryGetProperty("answer", out _)); // every choice abstained: no answer (nulls are left out)
        Assert.False(body.GetProperty("choices")[0].TryGetProperty("logprobs", out var lp) && lp.ValueKind != JsonValueKind.Null,
            "the vote's own log-probabilities must not leak into choices that did not ask for them");
    }

    [Theory]
    [InlineData("\"stream\":true,\"vote\":{}", "stream")]
    [InlineData("\"vote\":{\"pattern\":\"(\"}", "regular expression")]
    [InlineData("\"vote\":{\"method\":\"loudest\"}", "majority or best_logprob")]
    public async Task A_vote_that_cannot_be_honoured_is_a_400_naming_vote(string fields, string message)
    {
        var (status, body) = await _h.PostAsync("v1/completions", $$"""{"prompt":"a","n":2,{{fields}}}""");
        Assert.Equal(400, status);
        Assert.Equal("vote", body.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains(message, body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_vote_over_several_prompts_is_refused()
    {
        var (status, body) = await _h.PostAsync("v1/completions", """{"prompt":["a","b"],"n":2,"vote":{}}""");
        Assert.Equal(400, status);
        Assert.Equal("vote", body.GetProperty("error").GetProperty("param").GetString());
    }
}
