using Frugal.Inference.KvPaging;
using Frugal.Inference.Scheduling;

namespace Frugal.Tests.Scheduling;

/// <summary>
/// Stands in for the model: "K/V" of a position is the token id written into its block slot, so every step checks
/// that each chunk reads back exactly its own earlier tokens through its block table (prefix hits, copies and
/// recomputation included) and never writes into a block someone else also holds. The next token is a fixed
/// function of the whole history, so the right output of each request is known without any scheduler.
/// </summary>
internal sealed class FakeEngine(Scheduler scheduler, bool stops = true)
{
    private readonly int[] _slots = Enumerable.Repeat(-1, scheduler.Kv.Pool.TotalBlocks * scheduler.Kv.BlockSize).ToArray();

    public long TokensComputed { get; private set; }

    public int Compactions { get; private set; }

    public static int NextToken(IReadOnlyList<int> history)
    {
        ulong h = 1469598103934665603UL;
        foreach (int t in history) h = (h ^ (uint)t) * 1099511628211UL;
        return (int)(h % 5000);
    }

    public static bool IsStop(int token) => token % 61 == 0;

    /// <summary>What a request must produce, computed without any batching.</summary>
    public static List<int> ExpectedOutput(IReadOnlyList<int> prompt, int maxNewTokens, bool stops = true)
    {
        var history = prompt.ToList();
        var output = new List<int>();
        while (output.Count < maxNewTokens)
        {
            int t = NextToken(history);
            output.Add(t);
            history.Add(t);
            if (stops && IsStop(t)) break;
        }
        return output;
    }

    public IReadOnlyList<SampledToken> Run(StepPlan plan)
    {
        var kv = scheduler.Kv;
        int bs = kv.BlockSize;
        foreach (var c in plan.Compactions)
        {
            foreach (var copy in c.Copies)
                Array.Copy(_slots, copy.Source * bs, _slots, copy.Destination * bs, bs);
            for (int i = 0; i < c.KeptSlots.Length; i++)
            {
                int from = c.KeptSlots[i], block = c.BlockTable[i / bs];
                if (from == i) continue;
                if (kv.Pool.RefCount(block) != 1)
                    throw new InvalidOperationException($"sequence {c.SequenceId} compacts slot {from} into block {block} shared by {kv.Pool.RefCount(block)}");
                _slots[block * bs + i % bs] = _slots[c.BlockTable[from / bs] * bs + from % bs];
            }
            Compactions++;
        }
        foreach (var copy in plan.BlockCopies)
            Array.Copy(_slots, copy.Source * bs, _slots, copy.Destination * bs, bs);
        var sampled = new List<SampledToken>();
        foreach (var chunk in plan.Chunks)
        {
            var seq = scheduler.Find(chunk.SequenceId) ?? throw new InvalidOperationException($"planned sequence {chunk.SequenceId} is not live");
            var table = kv.BlockTable(chunk.SequenceId);
            int Slot(int p) => table[p / bs] * bs + p % bs;
            for (int p = 0; p < chunk.Start; p++)
                if (_slots[Slot(p)] != seq.Tokens[p])
                    throw new InvalidOperationException($"sequence {seq.Id} position {p} reads token {_slots[Slot(p)]} but is {seq.Tokens[p]}");
            for (int p = chunk.Start; p < chunk.Start + chunk.Count; p++)
            {
                int block = table[p / bs];
                if (kv.Pool.RefCount(block) != 1)
                    throw new InvalidOperationException($"sequence {seq.Id} writes position {p} into block {block} shared by {kv.Pool.RefCount(block)}");
                _slots[Slot(p)] = seq.Tokens[p];
            }
            TokensComputed += chunk.Count;
            if (chunk.SamplesNext)
            {
                int t = NextToken(seq.Tokens);
                sampled.Add(new SampledToken(seq.Id, t, stops && IsStop(t)));
            }
        }
        return sampled;
    }
}
