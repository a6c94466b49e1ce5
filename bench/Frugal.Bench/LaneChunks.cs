using Frugal.Models;

namespace Frugal.Bench;

/// <summary>
/// Logits at every position of one sequence through <see cref="IBatchedLanguageModel.ForwardBatch"/> with
/// <see cref="BatchSequence.AllLogits"/>: K lanes hold the same tokens in K block tables drawn, shuffled, from one
/// paged store, and every step batches all lanes, each with the same chunk of at most 512 / K positions (their order
/// in the batch turns every step), so each position comes back K times, once per lane, as a prefill chunk of the
/// serving path computes it. Chunks never cross the prompt's end: the prompt [0, prompt) is evaluated first, then the
/// continuation reads it from the cache. Cost: K times the sequence's tokens, in steps of up to 512 tokens.
/// </summary>
internal static class LaneChunks
{
    public const int BlockSize = 16;

    /// <summary>Tokens of one step, all lanes together (llama.cpp's default n_ubatch).</summary>
    public const int StepTokens = 512;

    public sealed record RunInfo(int Steps, long Tokens, TimeSpan PromptTime, TimeSpan ContinuationTime);

    /// <param name="row">called with (position, logits row) for every position and lane, in no particular order.</param>
    public static RunInfo Run(IBatchedLanguageModel model, int[] tokens, int prompt, int lanes, int seed, Action<int, ReadOnlySpan<float>> row)
    {
        if (lanes < 1 || lanes > StepTokens) throw new ArgumentOutOfRangeException(nameof(lanes), lanes, $"lanes must be in [1, {StepTokens}]");
        int length = tokens.Length, vocab = model.Config.VocabSize, chunk = StepTokens / lanes;
        int perLane = (length + BlockSize - 1) / BlockSize;
        int blocks = lanes * perLane + lanes; // a spare block per lane, so the tables do not tile the store exactly
        var store = model.CreatePagedStore(blocks, BlockSize);
        var ids = Enumerable.Range(0, blocks).ToArray();
        new Random(seed).Shuffle(ids);
        var tables = Enumerable.Range(0, lanes).Select(j => (IReadOnlyList<int>)ids.AsSpan(j * perLane, perLane).ToArray()).ToArray();

        var logits = new float[(long)lanes * chunk * vocab]; // [lanes, chunk, vocab]
        var batch = new List<BatchSequence>(lanes);
        int steps = 0, next = 0;
        long processed = 0;
        var times = new TimeSpan[2];
        foreach (var (phase, limit) in new[] { (0, prompt), (1, length) })
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (next < limit)
            {
                int count = Math.Min(chunk, limit - next);
                batch.Clear();
                for (int i = 0; i < lanes; i++)
                    batch.Add(new BatchSequence(tokens.AsMemory(next, count), next, tables[(i + steps) % lanes], WantLogits: true, AllLogits: true));
                model.ForwardBatch(batch, store, logits);
                for (int r = 0; r < lanes * count; r++)
                    row(next + r % count, logits.AsSpan(r * vocab, vocab));
                processed += (long)lanes * count;
                next += count;
                steps++;
            }
            times[phase] = clock.Elapsed;
        }
        return new RunInfo(steps, processed, times[0], times[1]);
    }
}
