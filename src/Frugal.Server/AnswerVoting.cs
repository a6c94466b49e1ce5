using System.Text.RegularExpressions;
using Frugal.Inference.Engine;
using Frugal.Inference.Voting;
using Frugal.Server.Protocol;

namespace Frugal.Server;

/// <summary>
/// The vote extension: a request's <c>vote</c> field asks the server to read an answer from each of its n choices and
/// vote (majority, ties to the best mean log-probability; or best-of-n by mean log-probability), adding a <c>vote</c>
/// object to the response beside the choices. The n choices share the prompt's KV (one sample group).
/// </summary>
internal sealed class AnswerVoting
{
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);
    private readonly Regex? _pattern;
    private readonly bool _bestLogprob;

    private AnswerVoting(Regex? pattern, bool bestLogprob)
    {
        _pattern = pattern;
        _bestLogprob = bestLogprob;
    }

    /// <summary>The request's vote, or null when it asks none; a 400 naming <c>vote</c> for what cannot be honoured.</summary>
    public static AnswerVoting? From(SamplingFields body, int prompts)
    {
        if (body.Vote is not { } vote) return null;
        if (body.Stream == true) throw ApiError.BadRequest("vote needs every choice before it can count them; it cannot be combined with stream", "vote");
        if (prompts != 1) throw ApiError.BadRequest($"vote counts the choices of one prompt; this request has {prompts}", "vote");
        bool best = vote.Method switch
        {
            null or "majority" => false,
            "best_logprob" => true,
            var m => throw ApiError.BadRequest($"vote.method must be majority or best_logprob, got '{m}'", "vote"),
        };
        Regex? pattern = null;
        if (vote.Pattern is { } p)
        {
            if (p.Length > 1000) throw ApiError.BadRequest($"vote.pattern holds at most 1000 characters, got {p.Length}", "vote");
            try
            {
                pattern = new Regex(p, RegexOptions.CultureInvariant, MatchTimeout);
            }
            catch (ArgumentException e)
            {
                throw ApiError.BadRequest($"vote.pattern is not a valid regular expression: {e.Message}", "vote");
            }
        }
        return new AnswerVoting(pattern, best);
    }

    /// <summary>A choice's answer: the pattern's first match (group 1 if it has one), or the whole text trimmed; null when nothing matches.</summary>
    public string? Extract(string text)
    {
        if (_pattern is null) return text.Trim();
        try
        {
            var m = _pattern.Match(text);
            if (!m.Success) return null;
            return m.Groups.Count > 1 && m.Groups[1].Success ? m.Groups[1].Value : m.Value;
        }
        catch (RegexMatchTimeoutException)
        {
            return null; // a pathological pattern on this text: the choice abstains
        }
    }

    public VoteSummary Summarize(IReadOnlyList<EngineCompletion> choices)
    {
        var samples = choices.Select(c => new SampleAnswer(Extract(c.Text), c.Finished.CompletionTokens,
            c.Tokens.Count == 0 ? 0 : c.Tokens.Average(t => (double)(t.Logprob?.Logprob ?? 0)))).ToList();
        var tally = AnswerVote.Majority(samples);
        string? answer = _bestLogprob ? AnswerVote.BestOfN(samples) : tally.Answer;
        int index = samples.FindIndex(s => s.Answer is not null && s.Answer == answer);
        return new VoteSummary(answer, _bestLogprob ? "best_logprob" : "majority", tally.Counts.Select(c => new VoteCount(c.Answer, c.Count)).ToList(),
            tally.Abstained, index < 0 ? null : index);
    }
}
