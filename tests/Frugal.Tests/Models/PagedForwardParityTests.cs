using Frugal.Models;
using Frugal.Models.Synthetic;
using Frugal.Numerics;
using Frugal.Tests.Oracle;
using LLama.Native;
using Xunit.Abstractions;

namespace Frugal.Tests.Models;

/// <summary>
/// The serving path — <see cref="IBatchedLanguageModel.ForwardBatch"/> over a <see cref="PagedKvStore"/>, as the engine
/// runs it — against llama.cpp with its default F16 K/V cache, on tiny synthetic F16 files. ForwardBatch returns only
/// the last row of each sequence, so logits at every position come from sequences whose chunks end at different
/// positions (the long version of this check: bench/Frugal.Bench serving-parity).
/// </summary>
public class PagedForwardParityTests(ITestOutputHelper output)
{
    private const double MinCosine = 0.9999;

    /// <summary>As <see cref="LlamaCppParityTests"/> for F16 weights: llama.cpp rounds activations to F16 before F16 matmuls.</summary>
    private const float ArgMaxMargin = 0.025f;

    public static TheoryData<SyntheticFamily> Families()
    {
        var data = new TheoryData<SyntheticFamily>();
        foreach (var family in Enum.GetValues<SyntheticFamily>().Where(f => f != SyntheticFamily.Olmoe)) data.Add(family);
        return data;
    }

    /// <summary>
    /// Five sequences with different prompts share one step at a time; sequence j ends its chunks at the positions
    /// p with p % 5 == j (chunks of up to 5 tokens over blocks of 16, the smallest block the attention tile allows, so some chunks straddle blocks), so between them they
    /// return every position 0..95. A sixth sequence steps in chunks of 7 and asks for logits only at every other
    /// chunk, so rows without logits sit between rows with them. Block ids are shuffled over one shared store and the
    /// order of the sequences in the batch turns at every step.
    /// </summary>
    [Theory]
    [MemberData(nameof(Families))]
    public void Staggered_sequences_over_shuffled_blocks_match_llama_cpp_at_every_position(SyntheticFamily family)
    {
        const int lanes = 5, length = 96, blockSize = 16, fillerChunk = 7;
        var spec = SyntheticModelSpec.Tiny(family, GgmlType.F16);
        string path = SyntheticFixtures.PathOf(spec);
        int vocab = spec.VocabSize, sequences = lanes + 1;
        var prompts = Enumerable.Range(0, sequences).Select(j => LlamaCppParityTests.Prompt(vocab, seed: 40 + j, length)).ToArray();
        var expected = ReferenceLogits(path, prompts);

        using var model = (IBatchedLanguageModel)ModelLoader.Load(path);
        int perSequence = (length + blockSize - 1) / blockSize;
        var store = model.CreatePagedStore(sequences * perSequence + 9, blockSize);
        var tables = ShuffledTables(store.Blocks, sequences, perSequence, seed: 3);

        var actual = prompts.Select(_ => new float[length * vocab]).ToArray();
        var covered = prompts.Select(_ => new bool[length]).ToArray();
        var next = new int[sequences];
        int fillerChunks = 0;
        for (int step = 0; next.Any(n => n < length); step++)
        {
            var batch = new List<BatchSequence>();
            var rows = new List<(int Sequence, int Position)>();
            for (int i = 0; i < sequences; i++)
            {
                int j = (i + step) % sequences;
                if (next[j] >= length) continue;
                int end = j < lanes ? NextPositionOfResidue(next[j], j, lanes) : next[j] + fillerChunk - 1;
                end = Math.Min(end, length - 1);
                bool want = j < lanes || fillerChunks++ % 2 == 1 || end == length - 1;
                batch.Add(new BatchSequence(prompts[j].AsMemory(next[j], end - next[j] + 1), next[j], tables[j], want));
                if (want) rows.Add((j, end));
                next[j] = end + 1;
            }
            var logits = new float[rows.Count * vocab];
            model.ForwardBatch(batch, store, logits);
            for (int r = 0; r < rows.Count; r++)
            {
                var (j, p) = rows[r];
                logits.AsSpan(r * vocab, vocab).CopyTo(actual[j].AsSpan(p * vocab, vocab));
                covered[j][p] = true;
            }
        }

        for (int p = 0; p < length; p++)
            Assert.True(Enumerable.Range(0, lanes).Any(j => covered[j][p]), $"no sequence returned position {p}");
        Assert.Contains(false, covered[lanes]); // the sixth sequence really skipped rows
        double worst = 1;
        for (int j = 0; j < sequences; j++)
            worst = Math.Min(worst, AssertRowsClose(expected[j], actual[j], covered[j], vocab, $"sequence {j}"));
        output.WriteLine($"{spec.Name}: worst cosine {worst:F8} over {covered.Sum(c => c.Count(x => x))} rows");
    }

    /// <summary>
    /// Two sequences each take a first chunk (40 and 23 tokens: past two blocks of 16) and then decode one token per
    /// step side by side, each at its own depth, through non-contiguous block tables; every row after the first
    /// chunk's last is compared.
    /// </summary>
    [Theory]
    [MemberData(nameof(Families))]
    public void One_token_steps_after_a_first_chunk_match_llama_cpp_past_two_blocks(SyntheticFamily family)
    {
        const int length = 96, blockSize = 16;
        int[] firstChunk = [40, 23];
        var spec = SyntheticModelSpec.Tiny(family, GgmlType.F16);
        string path = SyntheticFixtures.PathOf(spec);
        int vocab = spec.VocabSize;
        var prompts = new[] { LlamaCppParityTests.Prompt(vocab, seed: 60, length), LlamaCppParityTests.Prompt(vocab, seed: 61, length) };
        var expected = ReferenceLogits(path, prompts);

        using var model = (IBatchedLanguageModel)ModelLoader.Load(path);
        var store = model.CreatePagedStore(13, blockSize);
        IReadOnlyList<int>[] tables = [[11, 2, 7, 0, 9, 4], [5, 12, 1, 8, 3, 10]];
        var actual = prompts.Select(_ => new float[length * vocab]).ToArray();
        var covered = prompts.Select(_ => new bool[length]).ToArray();
        var next = new int[2];
        while (next.Any(n => n < length))
        {
            var batch = new List<BatchSequence>();
            var rows = new List<(int Sequence, int Position)>();
            for (int j = 0; j < 2; j++)
            {
                if (next[j] >= length) continue;
                int count = next[j] == 0 ? firstChunk[j] : 1;
                batch.Add(new BatchSequence(prompts[j].AsMemory(next[j], count), next[j], tables[j], WantLogits: true));
                next[j] += count;
                rows.Add((j, next[j] - 1));
            }
            var logits = new float[rows.Count * vocab];
            model.ForwardBatch(batch, store, logits);
            for (int r = 0; r < rows.Count; r++)
            {
                var (j, p) = rows[r];
                logits.AsSpan(r * vocab, vocab).CopyTo(actual[j].AsSpan(p * vocab, vocab));
                covered[j][p] = true;
            }
        }

        double worst = Math.Min(AssertRowsClose(expected[0], actual[0], covered[0], vocab, "sequence 0"),
                                AssertRowsClose(expected[1], actual[1], covered[1], vocab, "sequence 1"));
        output.WriteLine($"{spec.Name}: worst cosine {worst:F8}");
    }

    /// <summary>llama.cpp's logits at every position of each prompt, each evaluated alone from position 0, F16 K/V.</summary>
    private static float[][] ReferenceLogits(string path, int[][] prompts)
    {
        using var oracle = LlamaCppModel.Load(path, contextSize: 128, kvType: GGMLType.GGML_TYPE_F16);
        return prompts.Select(p => oracle.Logits(p)).ToArray();
    }

    /// <summary>The smallest position at or after <paramref name="from"/> with position % <paramref name="lanes"/> == <paramref name="residue"/>.</summary>
    private static int NextPositionOfResidue(int from, int residue, int lanes) => from + ((residue - from % lanes) % lanes + lanes) % lanes;

    /// <summary>Every block id of the store shuffled, dealt out <paramref name="perSequence"/> to each sequence.</summary>
    private static IReadOnlyList<int>[] ShuffledTables(int blocks, int sequences, int perSequence, int seed)
    {
        var ids = Enumerable.Range(0, blocks).ToArray();
        new Random(seed).Shuffle(ids);
        return Enumerable.Range(0, sequences).Select(j => (IReadOnlyList<int>)ids.AsSpan(j * perSequence, perSequence).ToArray()).ToArray();
    }

    /// <summary>
    /// Cosine at least <see cref="MinCosine"/> and the same argmax (where llama.cpp's top-2 margin exceeds
    /// <see cref="ArgMaxMargin"/>) at every covered position; returns the worst cosine.
    /// </summary>
    private static double AssertRowsClose(float[] expected, float[] actual, bool[] covered, int vocab, string what)
    {
        double worst = 1;
        for (int p = 0; p < covered.Length; p++)
        {
            if (!covered[p]) continue;
            var e = expected.AsSpan(p * vocab, vocab);
            var a = actual.AsSpan(p * vocab, vocab);
            double cos = LogitComparison.Cosine(e, a);
            worst = Math.Min(worst, cos);
            Assert.True(cos >= MinCosine, $"{what}, position {p}: cosine {cos:F7} < {MinCosine} (max |diff| {LogitComparison.MaxAbsDiff(e, a):G4})");
            if (LogitComparison.TopTwoMargin(e) > ArgMaxMargin)
                Assert.True(LogitComparison.ArgMax(e) == LogitComparison.ArgMax(a),
                    $"{what}, position {p}: argmax {LogitComparison.ArgMax(a)} differs from llama.cpp's {LogitComparison.ArgMax(e)}");
        }
        return worst;
    }
}
