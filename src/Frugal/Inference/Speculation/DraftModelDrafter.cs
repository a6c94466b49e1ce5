using Frugal.Inference.Sampling;
using Frugal.Models;

namespace Frugal.Inference.Speculation;

/// <summary>
/// One sequence's draft model and its own KV cache, kept in step with the main model: before each draft the cache
/// is cut back to the longest prefix it shares with the sequence's tokens (rejected drafts go) and the rest is fed,
/// so it holds exactly the accepted tokens. After a long pause (its controller stopped drafting) it does not feed
/// every token it missed: more than <see cref="CatchUpLimit"/> of them and it starts again from the last
/// <see cref="CatchUpLimit"/> tokens, so a probe costs a bounded prefill of the small model instead of one that grows
/// with the text written meanwhile (8% of the main model's decode time on the bench's stories). A draft only
/// proposes; the main model verifies, so a shorter draft context costs acceptance, never exactness. The draft is sampled from the draft model's distribution after the
/// request's sampler transforms (temperature, top-k/top-p/min-p, logit bias; not the repetition penalties, whose
/// history would need rolling back); for greedy requests it is the draft model's argmax.
/// </summary>
public sealed class DraftModelDrafter
{
    private readonly ILanguageModel _model;
    private readonly KvCache _cache;
    private readonly Sampler _sampler;
    private readonly bool _greedy;
    private readonly List<int> _fed = [];   // the tokens in the cache: history[_start..]
    private int _start;
    public const int CatchUpLimit = 32;
    private readonly float[] _logits;   // [vocab] logits after the last fed token

    public DraftModelDrafter(ILanguageModel model, SamplingOptions sampling, int capacity)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        ArgumentNullException.ThrowIfNull(sampling);
        _cache = model.CreateCache(Math.Min(capacity, model.Config.ContextLength));
        _greedy = sampling.Temperature <= 0;
        // Its own generator, seeded from the request's seed so a seeded run repeats itself.
        _sampler = new Sampler(sampling with { RepeatPenalty = 1, PresencePenalty = 0, FrequencyPenalty = 0, Seed = sampling.Seed is { } s ? s ^ 0x9E3779B97F4A7C15UL : null },
            model.Config.VocabSize);
        _logits = new float[model.Config.VocabSize];
    }

    /// <summary>
    /// Drafts up to <paramref name="drafts"/>.Length tokens after <paramref name="history"/> and returns how many; with
    /// sampling, row i of <paramref name="q"/> ([count, vocab]) receives the distribution draft i was drawn from.
    /// </summary>
    public int Draft(ReadOnlySpan<int> history, Span<int> drafts, Span<float> q)
    {
        int k = Math.Min(drafts.Length, _cache.Capacity - history.Length + 1);
        if (k <= 0 || history.IsEmpty) return 0;
        if (_start >= history.Length) { _start = 0; _fed.Clear(); }
        var tail = history[_start..];
        int common = 0;
        while (common < _fed.Count && common < tail.Length && _fed[common] == tail[common]) common++;
        if (common == tail.Length) common--; // the last token is fed again: its logits are the next draft's
        if (_fed.Count > 0 && tail.Length - common > CatchUpLimit)
        {
            // Missed too much while not drafting: restart from the last CatchUpLimit tokens.
            _start = history.Length - CatchUpLimit;
            tail = history[_start..];
            common = 0;
        }
        _cache.Truncate(common);
        _fed.RemoveRange(common, _fed.Count - common);
        _model.Forward(tail[common..], _cache, _logits);
        for (int i = common; i < tail.Length; i++) _fed.Add(tail[i]);

        int vocab = _logits.Length;
        Span<int> one = stackalloc int[1];
        for (int i = 0; i < k; i++)
        {
            int token;
            if (_greedy) token = _sampler.Sample(_logits);
            else
            {
                var row = q.Slice(i * vocab, vocab);
                _sampler.Distribution(_logits, row);
                token = _sampler.SampleFrom(row);
            }
            drafts[i] = token;
            if (i == k - 1) break;
            one[0] = token;
            _model.Forward(one, _cache, _logits);
            _fed.Add(token);
        }
        return k;
    }
}
