using System.Numerics.Tensors;
using Frugal.Evaluation;
using Frugal.Models;
using Frugal.Train.Distillation;
using Frugal.Train.Export;
using Frugal.Train.Model;

namespace Frugal.Tests.Training;

/// <summary>
/// Distillation rows: openings from the training side of the split, continued by the teacher, every target the
/// teacher's argmax (checked against a one-shot forward of the whole row on a fresh cache), EOS never a target where
/// banned, and the same rows for the same seed, half of them with EOS banned.
/// </summary>
public class TeacherRowsTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"frugal-teacher-{Environment.ProcessId}-{Guid.NewGuid():N}.gguf");
    private readonly Frugal.Train.Bpe.BpeTokenizer _tok = LlamaCppExportTests.SmallTokenizer();

    public TeacherRowsTests()
    {
        var weights = new Weights(new ParameterLayout(new ModelShape(Dim: 32, Layers: 2, Heads: 2, KvHeads: 1, FfnDim: 64, Vocab: _tok.VocabSize, Context: 64)));
        weights.Initialize(11);
        // Far from uniform logits, so the argmax moves from position to position (a random 0.02 init writes one token).
        var rng = new SplitMix64(12);
        for (int i = 0; i < weights.Values.Length; i++) weights.Values[i] += (float)(rng.NextGaussian() * 0.3);
        GgufExport.Write(weights, _tok, "teacher", _path);
    }

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void Openings_are_word_prefixes_of_training_side_stories()
    {
        var openings = TeacherRows.Openings(40, seed: 3);
        Assert.Equal(40, openings.Count);
        foreach (var (story, opening) in openings)
        {
            Assert.False(HeldOutSplit.IsHeldOut(story), story);
            Assert.StartsWith(opening, story, StringComparison.Ordinal);
            Assert.InRange(opening.Split(' ').Length, 4, 16);
        }
        Assert.True(openings.Select(o => o.Opening).Distinct().Count() > 30, "openings should vary");
    }

    [Fact]
    public void Targets_are_the_teachers_argmax_and_continuations_are_its_greedy_text()
    {
        using var teacher = ModelLoader.Load(_path);
        var builder = new TeacherRows(teacher, _tok, rowTokens: 48);
        var openings = TeacherRows.Openings(8, seed: 5);
        int vocab = _tok.VocabSize;
        var cache = teacher.CreateCache(48);
        var logits = new float[48 * vocab];
        int moves = 0;
        for (int i = 0; i < openings.Count; i++)
        {
            bool eosBanned = i % 2 == 0;
            var row = builder.Continue(openings[i].Opening, eosBanned);
            int promptLength = 1 + _tok.Encode(openings[i].Opening).Count;
            Assert.Equal([_tok.Bos, .. _tok.Encode(openings[i].Opening)], row.Tokens.Take(promptLength));
            Assert.Equal(_tok.Bos, row.Tokens[0]);
            Assert.Equal(row.Tokens.Length, row.Targets.Length);
            Assert.All(row.Weights, w => Assert.Equal(1f, w));
            Assert.InRange(row.Tokens.Length, 2, 48);
            cache.Truncate(0);
            teacher.Forward(row.Tokens, cache, logits.AsSpan(0, row.Tokens.Length * vocab), allLogits: true);
            for (int t = 0; t < row.Tokens.Length; t++)
            {
                var l = logits.AsSpan(t * vocab, vocab);
                if (eosBanned) l[_tok.Eos] = float.NegativeInfinity;
                Assert.Equal(TensorPrimitives.IndexOfMax(l), row.Targets[t]);
                if (t > 0 && row.Targets[t] != row.Targets[t - 1]) moves++;
            }
            // After the opening, the text is the teacher's own: each token is the previous position's target.
            for (int t = promptLength; t < row.Tokens.Length; t++) Assert.Equal(row.Targets[t - 1], row.Tokens[t]);
            // A row stops before its length only at the teacher's EOS.
            if (eosBanned) Assert.DoesNotContain(_tok.Eos, row.Targets);
            if (row.Tokens.Length < 48) Assert.Equal(_tok.Eos, row.Targets[^1]);
        }
        Assert.True(moves > 20, $"the argmax changed {moves} times: the random teacher should not write one token");
    }

    private static string Key(int[] tokens) => string.Join(',', tokens);

    [Fact]
    public void Same_seed_builds_the_same_rows()
    {
        using var teacher = ModelLoader.Load(_path);
        var a = new TeacherRows(teacher, _tok, rowTokens: 40).Build(5, seed: 9, banEosShare: 0.4);
        var b = new TeacherRows(teacher, _tok, rowTokens: 40).Build(5, seed: 9, banEosShare: 0.4);
        var c = new TeacherRows(teacher, _tok, rowTokens: 40).Build(5, seed: 10, banEosShare: 0.4);
        Assert.Equal(a.Select(r => r.Tokens), b.Select(r => r.Tokens));
        Assert.Equal(a.Select(r => r.Targets), b.Select(r => r.Targets));
        Assert.NotEqual(a.Select(r => r.Tokens), c.Select(r => r.Tokens));
        // Two of five rows ban EOS: exactly those are built as Continue(opening, banEos: true) builds them.
        var openings = TeacherRows.Openings(5, seed: 9);
        var direct = openings.Select((o, i) => new TeacherRows(teacher, _tok, rowTokens: 40).Continue(o.Opening, banEos: i < 2)).ToList();
        Assert.Equal(direct.Select(r => r.Tokens).OrderBy(Key), a.Select(r => r.Tokens).OrderBy(Key));
    }
}
