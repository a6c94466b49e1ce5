using System.Numerics.Tensors;
using Frugal.Evaluation;
using Frugal.Models;
using Frugal.Train.Bpe;
using Frugal.Train.Training;

namespace Frugal.Train.Distillation;

/// <summary>
/// Training rows for distilling a draft model from a teacher (the main model): the opening words of a training-side
/// story, continued by the teacher greedily, with every target the teacher's own argmax at that position (the prompt
/// included). A draft trained on these predicts what the main model will write, which is all speculative decoding asks
/// of it; trained on the corpus it only predicts the corpus (44-48% agreement with main on the bench's stories).
/// Some rows ban EOS, as <c>--ignore-eos</c> generation does (the speculative bench generates 256 tokens that way, so most
/// of what main writes there comes after the story would have ended); the others stop at the teacher's EOS. The teacher
/// runs on the engine's forward pass (KV cache, F16 weights): the same logits the speculative verifier sees.
/// </summary>
public sealed class TeacherRows
{
    private readonly ILanguageModel _teacher;
    private readonly BpeTokenizer _tok;
    private readonly int _rowTokens;
    private readonly KvCache _cache;
    private readonly float[] _logits;   // [rowTokens, vocab]

    /// <param name="rowTokens">most input tokens a row holds (BOS + opening + continuation).</param>
    public TeacherRows(ILanguageModel teacher, BpeTokenizer tokenizer, int rowTokens)
    {
        if (teacher.Config.VocabSize != tokenizer.VocabSize)
            throw new ArgumentException($"teacher vocab {teacher.Config.VocabSize} differs from the tokenizer's {tokenizer.VocabSize}");
        if (rowTokens < 2 || rowTokens > teacher.Config.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(rowTokens), rowTokens, $"expected 2..{teacher.Config.ContextLength} (the teacher's context)");
        _teacher = teacher;
        _tok = tokenizer;
        _rowTokens = rowTokens;
        _cache = teacher.CreateCache(rowTokens);
        _logits = new float[rowTokens * tokenizer.VocabSize];
    }

    /// <summary>
    /// BOS + <paramref name="opening"/> continued greedily by the teacher up to the row length (or its EOS unless
    /// <paramref name="banEos"/>); targets are the teacher's argmax at every position (EOS excluded when banned), so
    /// the row's tokens after the opening are its own targets shifted by one.
    /// </summary>
    public TrainingRow Continue(string opening, bool banEos)
    {
        int vocab = _tok.VocabSize;
        var tokens = new List<int>(_rowTokens) { _tok.Bos };
        tokens.AddRange(_tok.Encode(opening));
        if (tokens.Count > _rowTokens) tokens.RemoveRange(_rowTokens, tokens.Count - _rowTokens);
        var targets = new List<int>(_rowTokens);
        _cache.Truncate(0);
        _teacher.Forward(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tokens), _cache, _logits.AsSpan(0, tokens.Count * vocab), allLogits: true);
        for (int t = 0; t < tokens.Count; t++) targets.Add(Argmax(_logits.AsSpan(t * vocab, vocab), banEos));
        Span<int> one = stackalloc int[1];
        while (tokens.Count < _rowTokens && targets[^1] != _tok.Eos)
        {
            one[0] = targets[^1];
            tokens.Add(one[0]);
            _teacher.Forward(one, _cache, _logits.AsSpan(0, vocab));
            targets.Add(Argmax(_logits.AsSpan(0, vocab), banEos));
        }
        var weights = new float[tokens.Count];
        Array.Fill(weights, 1f);
        return new TrainingRow([.. tokens], [.. targets], weights);
    }

    private int Argmax(Span<float> logits, bool banEos)
    {
        if (banEos) logits[_tok.Eos] = float.NegativeInfinity;
        return TensorPrimitives.IndexOfMax(logits);
    }

    /// <summary>
    /// <paramref name="count"/> rows from the training stream of <paramref name="seed"/>, one per opening of
    /// <see cref="Openings"/>; a <paramref name="banEosShare"/> of them (every row whose index falls there by a fixed
    /// rule) ban EOS. Interleaved by a fixed permutation, so any stretch of the list mixes both kinds.
    /// </summary>
    public IReadOnlyList<TrainingRow> Build(int count, ulong seed, double banEosShare)
    {
        var openings = Openings(count, seed);
        var rows = new TrainingRow[count];
        for (int i = 0; i < count; i++) rows[i] = Continue(openings[i].Opening, banEos: (i + 0.5) / count < banEosShare);
        var rng = new SplitMix64(SplitMix64.Derive(seed, "distill-order"));
        var order = Enumerable.Range(0, count).Select(i => (Key: rng.NextDouble(), Index: i)).OrderBy(p => p.Key).Select(p => p.Index);
        return [.. order.Select(i => rows[i])];
    }

    /// <summary>
    /// The first 4..16 words of training-side stories (the corpus generator never emits held-out ones), with the story
    /// each comes from.
    /// </summary>
    public static IReadOnlyList<(string Story, string Opening)> Openings(int count, ulong seed)
    {
        var corpus = new CorpusGenerator(SplitMix64.Derive(seed, "distill"));
        var rng = new SplitMix64(SplitMix64.Derive(seed, "distill-openings"));
        var openings = new (string, string)[count];
        for (int i = 0; i < count; i++)
        {
            string story = corpus.Next(DocumentKind.Story).Text;
            openings[i] = (story, string.Join(' ', story.Split(' ').Take(rng.Next(4, 17))));
        }
        return openings;
    }

    /// <summary>
    /// The config's teacher rows: <see cref="TrainConfig.DistillRows"/> of up to <see cref="TrainConfig.DistillRowTokens"/>
    /// tokens from the teacher file, the compute team at one thread (the engine's sums, and so the rows, do not depend
    /// on the machine's core count).
    /// </summary>
    public static IReadOnlyList<TrainingRow> Generate(TrainConfig config, BpeTokenizer tokenizer, Action<string>? log = null)
    {
        string teacher = config.Teacher ?? throw new ArgumentException("distillation needs a teacher model file (--teacher or \"teacher\" in the config)");
        if (config.DistillRows <= 0) throw new ArgumentException($"distill_rows is {config.DistillRows}: distillation needs at least one teacher row");
        Frugal.Numerics.Threading.ComputeTeam.ConfigureDefault(1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var model = ModelLoader.Load(teacher);
        var rows = new TeacherRows(model, tokenizer, config.DistillRowTokens).Build(config.DistillRows, config.Seed, config.DistillBanEos);
        log?.Invoke($"teacher {teacher}: {rows.Count} rows, {rows.Sum(r => r.Tokens.Length):N0} tokens in {clock.Elapsed.TotalSeconds:F1}s");
        return rows;
    }
}
