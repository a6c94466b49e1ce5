using Frugal.Numerics.Ops;
using System.Numerics.Tensors;
using System.Security.Cryptography;

namespace Frugal.Inference.Sampling;

/// <summary>
/// Picks the next token from a row of logits with llama.cpp's default chain:
/// logit bias -> penalties -> top-k -> top-p -> min-p -> temperature -> dist (temperature 0 = greedy after penalties).
/// All scratch is sized to the vocabulary once, so sampling a token allocates nothing.
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly SamplerRandom _random;
    private readonly int _vocab;
    private readonly int _window;      // how many recent tokens the penalties see
    private readonly float[] _work;    // [vocab] logits by token id, after penalties
    private readonly int[] _counts;    // [vocab] penalty scratch, kept all zero between calls
    private readonly int[] _ids;       // [vocab] candidate token ids
    private readonly float[] _values;  // [vocab] candidate logits, parallel to _ids
    private readonly float[] _scratch; // [vocab] sort keys / probabilities
    private readonly int[] _history;   // [2 * window] recent tokens; the last _historyCount are valid
    private int _historyCount;
    private readonly (int Token, float Bias)[] _bias; // options.LogitBias, checked against the vocabulary
    private int[] _banned = [];        // token ids never sampled (llama.cpp's --ignore-eos: end-of-generation ids)

    /// <param name="options">the chain's settings.</param>
    /// <param name="vocabSize">length of every logits row.</param>
    /// <param name="contextLength">window of the penalties when <see cref="SamplingOptions.PenaltyLastN"/> is -1.</param>
    public Sampler(SamplingOptions options, int vocabSize, int contextLength = 4096)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (vocabSize <= 0) throw new ArgumentException($"vocabulary size must be positive, got {vocabSize}", nameof(vocabSize));
        if (contextLength <= 0) throw new ArgumentException($"context length must be positive, got {contextLength}", nameof(contextLength));
        _options = options;
        _vocab = vocabSize;
        foreach (int t in options.LogitBias.Keys)
            if ((uint)t >= (uint)vocabSize)
                throw new ArgumentException($"LogitBias names token {t}, outside the vocabulary [0, {vocabSize})", nameof(options));
        _bias = [.. options.LogitBias.Select(p => (p.Key, p.Value))];
        ulong seed = options.Seed ?? BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        _random = new SamplerRandom(seed);
        _window = !options.PenaltiesEnabled ? 0 : options.PenaltyLastN == -1 ? contextLength : options.PenaltyLastN;
        _work = new float[vocabSize];
        _counts = new int[_window > 0 ? vocabSize : 0];
        _ids = new int[vocabSize];
        _values = new float[vocabSize];
        _scratch = new float[vocabSize];
        _history = new int[2 * _window];
    }

    public SamplingOptions Options => _options;

    /// <summary>The tokens the penalties currently look at, oldest first.</summary>
    public ReadOnlySpan<int> RecentTokens => _history.AsSpan(_historyCount - Math.Min(_historyCount, _window), Math.Min(_historyCount, _window));

    /// <summary>Records a token of the sequence (prompt or generated) for the penalties.</summary>
    public void Accept(int token)
    {
        if (_window == 0) return;
        if (_historyCount == _history.Length)
        {
            // Keep the last window tokens at the front: amortized O(1) and no ring to unwrap for the penalties.
            Array.Copy(_history, _historyCount - _window, _history, 0, _window);
            _historyCount = _window;
        }
        _history[_historyCount++] = token;
    }

    /// <summary>
    /// Never samples these ids: their logits count as -infinity before the chain (llama.cpp's <c>--ignore-eos</c> biases
    /// the end-of-generation tokens the same way).
    /// </summary>
    public void Ban(IEnumerable<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        _banned = [.. _banned, .. tokens.Where(t => (uint)t < (uint)_vocab)];
    }

    /// <summary>Forgets the recorded tokens (a new sequence starts).</summary>
    public void Reset() => _historyCount = 0;

    /// <summary>Samples a token id from <paramref name="logits"/> ([vocab]); it does not <see cref="Accept"/> it.</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        if (_options.Temperature <= 0)
        {
            ApplyPenalties(logits);
            return TensorPrimitives.IndexOfMax(_work);
        }
        return Draw(Filter(logits));
    }

    /// <summary>
    /// The distribution <see cref="Sample"/> draws from, as a dense [vocab] row of probabilities (zero outside the
    /// chain's candidates): one-hot at the greedy pick for temperature 0. Speculative decoding compares it with the
    /// draft's distribution (Leviathan et al. 2023; Chen et al. 2023). It consumes no random numbers.
    /// </summary>
    public void Distribution(ReadOnlySpan<float> logits, Span<float> probs)
    {
        if (probs.Length != _vocab)
            throw new ArgumentException($"expected a [{_vocab}] row of probabilities, got {probs.Length}", nameof(probs));
        probs.Clear();
        if (_options.Temperature <= 0)
        {
            ApplyPenalties(logits);
            probs[TensorPrimitives.IndexOfMax(_work)] = 1;
            return;
        }
        int n = Filter(logits);
        var p = _scratch.AsSpan(0, n);
        Softmax.Apply(_values.AsSpan(0, n), p);
        for (int i = 0; i < n; i++) probs[_ids[i]] = p[i];
    }

    /// <summary>Draws a token id from a row of probabilities (any non-negative weights; they need not sum to 1) with this sampler's generator.</summary>
    public int SampleFrom(ReadOnlySpan<float> probs)
    {
        double total = 0;
        foreach (float w in probs) total += w;
        if (!(total > 0)) throw new ArgumentException("the weights sum to zero: nothing to draw", nameof(probs));
        double u = _random.NextDouble() * total, sum = 0;
        int last = 0;
        for (int i = 0; i < probs.Length; i++)
        {
            if (probs[i] <= 0) continue;
            sum += probs[i];
            last = i;
            if (u < sum) return i;
        }
        return last;
    }

    /// <summary>A uniform draw in [0, 1) from this sampler's generator (speculative decoding's accept test).</summary>
    public double NextUniform() => _random.NextDouble();

    /// <summary>
    /// Runs the chain up to and including temperature (not the final draw) and returns how many candidates remain;
    /// they are <see cref="CandidateIds"/> and <see cref="CandidateLogits"/>[0 .. count). For temperature 0 it stops
    /// after the penalties with every token a candidate, as llama.cpp's chain would before its greedy pick.
    /// </summary>
    internal int Filter(ReadOnlySpan<float> logits)
    {
        ApplyPenalties(logits);
        if (_options.Temperature <= 0)
            return AllCandidates();

        int n;
        bool sorted;
        if (_options.TopK > 0 && _options.TopK < _vocab)
        {
            n = SelectTopK(_options.TopK);
            sorted = true;
        }
        else
        {
            n = AllCandidates();
            sorted = false;
        }

        if (_options.TopP < 1)
        {
            if (!sorted) SortDescending(n);
            sorted = true;
            n = TopP(n, _options.TopP);
        }
        if (_options.MinP > 0)
            n = MinP(n, _options.MinP, sorted);

        var values = _values.AsSpan(0, n);
        TensorPrimitives.Divide(values, _options.Temperature, values);
        return n;
    }

    internal ReadOnlySpan<int> CandidateIds => _ids;

    internal ReadOnlySpan<float> CandidateLogits => _values;

    private void ApplyPenalties(ReadOnlySpan<float> logits)
    {
        if (logits.Length != _vocab)
            throw new ArgumentException($"expected {_vocab} logits, got {logits.Length}", nameof(logits));
        var work = _work.AsSpan();
        logits.CopyTo(work);
        foreach (var (t, bias) in _bias) work[t] += bias;
        foreach (int t in _banned) work[t] = float.NegativeInfinity;
        if (_window > 0)
            RepetitionPenalties.Apply(work, RecentTokens, _counts, _options.RepeatPenalty, _options.FrequencyPenalty, _options.PresencePenalty);
    }

    private int AllCandidates()
    {
        for (int i = 0; i < _vocab; i++) _ids[i] = i;
        _work.AsSpan().CopyTo(_values);
        return _vocab;
    }

    /// <summary>Puts the k largest logits in _ids/_values[0..k), sorted descending (a size-k min-heap, O(V log k)).</summary>
    private int SelectTopK(int k)
    {
        var ids = _ids.AsSpan(0, k);
        var values = _values.AsSpan(0, k);
        for (int i = 0; i < k; i++) { ids[i] = i; values[i] = _work[i]; }
        for (int i = k / 2 - 1; i >= 0; i--) SiftDown(ids, values, i);
        for (int t = k; t < _vocab; t++)
        {
            float v = _work[t];
            if (v <= values[0]) continue;
            ids[0] = t;
            values[0] = v;
            SiftDown(ids, values, 0);
        }
        SortDescending(k);
        return k;
    }

    private static void SiftDown(Span<int> ids, Span<float> values, int i)
    {
        int n = values.Length;
        while (true)
        {
            int smallest = i, l = 2 * i + 1, r = l + 1;
            if (l < n && values[l] < values[smallest]) smallest = l;
            if (r < n && values[r] < values[smallest]) smallest = r;
            if (smallest == i) return;
            (values[i], values[smallest]) = (values[smallest], values[i]);
            (ids[i], ids[smallest]) = (ids[smallest], ids[i]);
            i = smallest;
        }
    }

    private void SortDescending(int n)
    {
        var keys = _scratch.AsSpan(0, n);
        TensorPrimitives.Negate(_values.AsSpan(0, n), keys);
        keys.Sort(_ids.AsSpan(0, n));
        TensorPrimitives.Negate(keys, _values.AsSpan(0, n));
    }

    /// <summary>Keeps the shortest sorted prefix whose probability mass reaches p (at least one token).</summary>
    private int TopP(int n, float p)
    {
        var probs = _scratch.AsSpan(0, n);
        Softmax.Apply(_values.AsSpan(0, n), probs);
        float sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += probs[i];
            if (sum >= p) return i + 1;
        }
        return n;
    }

    /// <summary>Keeps tokens with probability >= p * max probability, i.e. logit >= max logit + ln p.</summary>
    private int MinP(int n, float p, bool sorted)
    {
        var values = _values.AsSpan(0, n);
        float max = sorted ? values[0] : TensorPrimitives.Max(values);
        float threshold = max + MathF.Log(p);
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            if (values[i] < threshold) continue;
            _values[kept] = values[i];
            _ids[kept] = _ids[i];
            kept++;
        }
        return kept;
    }

    private int Draw(int n)
    {
        var probs = _scratch.AsSpan(0, n);
        Softmax.Apply(_values.AsSpan(0, n), probs);
        double u = _random.NextDouble();
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += probs[i];
            if (u < sum) return _ids[i];
        }
        return _ids[n - 1]; // rounding left the sum just under u
    }
}
