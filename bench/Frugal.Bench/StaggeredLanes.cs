using Frugal.Models;

namespace Frugal.Bench;

/// <summary>
/// Logits at every position of one sequence through <see cref="IBatchedLanguageModel.ForwardBatch"/>, which returns
/// only the last row of each sequence of a step. K lanes hold the same tokens in K block tables drawn, shuffled, from
/// one paged store; every step advances all lanes together, lane j ending its chunk at the next position p with
/// p % K == j, so each step returns K rows (K different positions) and the lanes between them return every position
/// once. Chunks never cross the prompt's end: the prompt [0, prompt) is evaluated first, then the continuation reads
/// it from the cache. Cost: K times the sequence's tokens, in steps of about K·K tokens.
/// </summary>
internal static class StaggeredLanes
{
    public const int BlockSize = 16;

    public sealed record RunInfo(int Steps, long Tokens, TimeSpan PromptTime, TimeSpan ContinuationTime);

    /// <param name="row">called with (position, logits row) for every position, in no particular order.</param>
    public static RunInfo Run(IBatchedLanguageModel model, int[] tokens, int prompt, int lanes, int seed, Action<int, ReadOnlySpan<float>> row)
    {
        int length = tokens.Length, vocab = model.Config.VocabSize;
        int perLane = (length + BlockSize - 1) / BlockSize;
        int blocks = lanes * perLane + lanes; // a spare block per lane, so the tables do not tile the store exactly
        var store = model.CreatePagedStore(blocks, BlockSize);
        var ids = Enumerable.Range(0, blocks).ToArray();
        new Random(seed).Shuffle(ids);
        var tables = Enumerable.Range(0, lanes).Select(j => (IReadOnlyList<int>)ids.AsSpan(j * perLane, perLane).ToArray()).ToArray();

        var logits = new float[lanes * vocab];          // [lanes, vocab]
        var ends = new int[lanes];
        var next = new int[lanes];
        var batch = new List<BatchSequence>(lanes);
        int steps = 0;
        long processed = 0;
        var times = new TimeSpan[2];
        foreach (var (phase, limit) in new[] { (0, prompt), (1, length) })
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (next.Any(n => n < limit))
            {
                batch.Clear();
                int rows = 0;
                for (int i = 0; i < lanes; i++)
                {
                    int j = (i + steps) % lanes; // the order of the lanes in the batch turns every step
                    if (next[j] >= limit) continue;
                    int end = Math.Min(limit - 1, next[j] + ((j - next[j] % lanes) % lanes + lanes) % lanes);
                    batch.Add(new BatchSequence(tokens.AsMemory(next[j], end - next[j] + 1), next[j], tables[j], WantLogits: true));
                    processed += end - next[j] + 1;
                    ends[rows++] = end;
                    next[j] = end + 1;
                }
                model.ForwardBatch(batch, store, logits);
                for (int r = 0; r < rows; r++)
                    row(ends[r], logits.AsSpan(r * vocab, vocab));
                steps++;
            }
            times[phase] = clock.Elapsed;
        }
        return new RunInfo(steps, processed, times[0], times[1]);
    }
}
