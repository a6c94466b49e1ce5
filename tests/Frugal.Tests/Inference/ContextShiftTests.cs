using Frugal.Gguf;
using Frugal.Inference.Generation;
using Frugal.Inference.Retention;
using Frugal.Inference.Sampling;
using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Tests.Models;
using Frugal.Tokenization;

namespace Frugal.Tests.Inference;

/// <summary>
/// <c>run --context-shift --ignore-eos</c> on a one-layer synthetic llama (context 512; one layer keeps the test fast
/// in a Debug build): a generation six times the context
/// completes, and at every shift the kept tokens are exactly llama.cpp's (the first n_keep + BOS, then the second half
/// of the rest), the cache holds them at positions 0..m-1 and fills up to the context again before the next shift.
/// </summary>
public class ContextShiftTests
{
    [Fact]
    public void A_3000_token_generation_in_a_512_token_context_completes_with_context_shift()
    {
        const int context = 512, keep = 8, count = 3000;
        string path = SyntheticFixtures.PathOf(SyntheticModelSpec.Tiny(SyntheticFamily.Llama3, seed: 90) with { BlockCount = 1 });
        using var file = GgufFile.Open(path);
        using var model = ModelLoader.Load(path);
        var tokenizer = Tokenizer.FromGguf(file);
        var cache = new List<int>();     // the tokens the cache should hold, slot by slot
        int? pending = null;             // the latest token, forwarded only when the next one is wanted
        var shifts = new List<KvCompactionEvent>();
        var options = new GenerationOptions
        {
            MaxTokens = count,
            ContextLength = context,
            IgnoreEos = true,
            Sampling = new SamplingOptions { Temperature = 0.8f, Seed = 5 },
            KvRetention = new KvRetentionOptions { ContextShift = true, Keep = keep },
            KvCompacted = e =>
            {
                // llama.cpp: n_keep + BOS stay, half of the rest after them goes, the others move down.
                Assert.Equal(context, e.HeldBefore);
                Assert.Equal(cache.Count, e.HeldBefore);
                int kept = keep + 1, discard = (context - kept) / 2;
                Assert.Equal([.. Enumerable.Range(0, kept), .. Enumerable.Range(kept + discard, context - kept - discard)], e.KeptSlots);
                Assert.Equal([.. cache.Take(kept), .. cache.Skip(kept + discard)], e.KeptTokens);
                cache = [.. e.KeptTokens];
                shifts.Add(e);
            },
        };
        var generator = new TextGenerator(model, tokenizer);
        var prompt = generator.Tokenize("once upon a time", options);
        Assert.Equal(tokenizer.BosId, prompt[0]);
        cache.AddRange(prompt);
        var result = generator.Generate(prompt, options, piece =>
        {
            if (piece.TokenId < 0) return;
            if (pending is int p) cache.Add(p);
            pending = piece.TokenId;
        });

        Assert.Equal(StopReason.MaxTokens, result.StopReason);
        Assert.Equal(count, result.Tokens.Count);
        // Each shift frees (512 - 9) / 2 = 251 positions; the prompt and all but the last token were forwarded.
        int forwarded = prompt.Length + count - 1;
        Assert.Equal((forwarded - context + 250) / 251, shifts.Count);
        Assert.Equal(shifts.Count, result.KvCompactions);
        int[] all = [.. prompt, .. result.Tokens.Take(count - 1)];
        Assert.Equal(all.Take(keep + 1), cache.Take(keep + 1));
        Assert.Equal(all.Skip(forwarded - (cache.Count - keep - 1)), cache.Skip(keep + 1));
    }
}
