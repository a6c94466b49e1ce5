using Frugal.Inference.KvPaging;

namespace Frugal.Tests.Scheduling;

/// <summary>
/// Random admissions with shared prefixes, appends, forks and frees straight on the block tables, with a fixed
/// seed. Token ids stand in for K/V: after every operation each live sequence must read its exact tokens back
/// through its block table (so prefix hits, copy-on-write and eviction never hand it foreign data), and the
/// reference counts must equal the table entries.
/// </summary>
public class KvBlockTablesSimulationTests
{
    [Fact]
    public void Random_forks_appends_and_frees_keep_every_sequence_reading_its_own_tokens()
    {
        const int blocks = 40, bs = 4;
        var rng = new Random(7);
        var pool = new KvBlockPool(blocks, bs);
        var kv = new KvBlockTables(pool);
        var slots = new int[blocks * bs];
        var tokens = new Dictionary<long, List<int>>();
        var prefixes = new[] { new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, new[] { 50, 51, 52, 53, 54, 55 } };
        long nextId = 0, forks = 0, copies = 0, hits = 0;

        void Write(long id, int from)
        {
            foreach (var c in kv.TakeCopies())
            {
                Array.Copy(slots, c.Source * bs, slots, c.Destination * bs, bs);
                copies++;
            }
            var table = kv.BlockTable(id);
            for (int p = from; p < tokens[id].Count; p++)
            {
                Assert.Equal(1, pool.RefCount(table[p / bs])); // never write into a shared block
                slots[table[p / bs] * bs + p % bs] = tokens[id][p];
            }
            kv.MarkComputed(id, tokens[id].ToArray(), tokens[id].Count);
        }

        for (int op = 0; op < 20_000; op++)
        {
            double r = rng.NextDouble();
            var live = tokens.Keys.ToList();
            if (r < 0.25 || live.Count == 0)
            {
                int[] prompt = [.. prefixes[rng.Next(2)], .. Enumerable.Range(0, rng.Next(1, 8)).Select(_ => rng.Next(100, 200))];
                var hit = kv.FindCachedPrefix(prompt);
                if (kv.TryAllocate(nextId, prompt.Length - hit.Tokens, hit, prompt.Length))
                {
                    if (hit.Tokens > 0) hits++;
                    tokens[nextId] = [.. prompt];
                    Write(nextId, hit.Tokens);
                    nextId++;
                }
            }
            else if (r < 0.65)
            {
                long id = live[rng.Next(live.Count)];
                int n = rng.Next(1, 4);
                if (kv.TryAllocate(id, n))
                {
                    int from = tokens[id].Count;
                    for (int k = 0; k < n; k++) tokens[id].Add(rng.Next(300, 400));
                    Write(id, from);
                }
            }
            else if (r < 0.75 && live.Count < 12)
            {
                long parent = live[rng.Next(live.Count)];
                kv.Fork(parent, nextId);
                tokens[nextId] = [.. tokens[parent]];
                nextId++;
                forks++;
            }
            else
            {
                long id = live[rng.Next(live.Count)];
                Assert.True(kv.Free(id));
                tokens.Remove(id);
            }

            pool.Validate();
            Assert.Equal(tokens.Keys.Sum(id => (long)kv.BlockTable(id).Count),
                Enumerable.Range(0, blocks).Sum(b => (long)pool.RefCount(b)));
            foreach (var (id, t) in tokens)
            {
                var table = kv.BlockTable(id);
                Assert.Equal(kv.BlocksFor(t.Count), table.Count);
                for (int p = 0; p < t.Count; p++)
                    Assert.Equal(t[p], slots[table[p / bs] * bs + p % bs]);
            }
        }

        foreach (long id in tokens.Keys.ToList()) kv.Free(id);
        Assert.Equal(0, pool.UsedBlocks);
        Assert.Equal(blocks, pool.FreeBlocks);
        Assert.True(forks > 100 && copies > 50 && hits > 100 && pool.Evictions > 50,
            $"forks {forks}, copies {copies}, hits {hits}, evictions {pool.Evictions}");
    }
}
