using System.Numerics.Tensors;

namespace Frugal.Evaluation;

/// <summary>A value with its standard error (the "±" llama.cpp prints).</summary>
public readonly record struct Estimate(double Value, double Error);

/// <summary>
/// The running sums of a KL-divergence measurement, one scored position at a time, and the figures llama.cpp's
/// perplexity tool (tools/perplexity/perplexity.cpp, kl_divergence) derives from them: PPL of the current model (Q)
/// and of the base, their ratio with an uncertainty that accounts for their correlation, KL(base || Q), the share of
/// positions whose most likely token is the same, and the RMS of Δp = p_Q(target) - p_base(target).
/// </summary>
public sealed class KlDivergenceStatistics
{
    private readonly float[] _logProbs, _scratch;   // [vocab] the current model's log-probabilities, [vocab] work space
    private readonly List<double> _kld = [];         // [scored positions] KL divergence of each
    private RunningMean _nll, _nllBase, _divergence, _deltaPSquared;
    private double _nllTimesNllBase;
    private int _sameTop;

    public KlDivergenceStatistics(int vocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        _logProbs = new float[vocabSize];
        _scratch = new float[vocabSize];
    }

    /// <summary>Scored positions added.</summary>
    public int Count => _nll.Count;

    /// <summary>Adds one scored position.</summary>
    /// <param name="baseLogProbs">[vocab] the base's log-probabilities at this position.</param>
    /// <param name="logits">[vocab] the current model's logits at this position.</param>
    /// <param name="target">the text's next token.</param>
    public void Add(ReadOnlySpan<float> baseLogProbs, ReadOnlySpan<float> logits, int target)
    {
        if (baseLogProbs.Length != _logProbs.Length || logits.Length != _logProbs.Length)
            throw new ArgumentException($"rows of {_logProbs.Length} expected, got base {baseLogProbs.Length} and logits {logits.Length}");
        if ((uint)target >= (uint)logits.Length)
            throw new ArgumentOutOfRangeException(nameof(target), target, $"the target must be in [0, {logits.Length})");
        // The NLL as WindowedPerplexity computes it (in double from the logits), so PPL(Q) here is the plain run's figure.
        double nll = LogProbabilities.Compute(logits, _logProbs, _scratch) - logits[target];
        double nllBase = -baseLogProbs[target];
        _nll.Add(nll);
        _nllBase.Add(nllBase);
        _nllTimesNllBase += nll * nllBase;

        double kld = KlDivergence.Between(baseLogProbs, _logProbs, _scratch);
        _divergence.Add(kld);
        _kld.Add(kld);
        if (TensorPrimitives.IndexOfMax(baseLogProbs) == TensorPrimitives.IndexOfMax(_logProbs)) _sameTop++;
        double deltaP = Math.Exp(-nll) - Math.Exp(-nllBase);
        _deltaPSquared.Add(deltaP * deltaP);
    }

    /// <summary>PPL(Q): the current model's perplexity.</summary>
    public Estimate Perplexity => Exp(_nll);

    /// <summary>PPL(base): the base's perplexity, from its stored log-probabilities.</summary>
    public Estimate BasePerplexity => Exp(_nllBase);

    /// <summary>Cov(ln PPL(Q), ln PPL(base)): the covariance of the two mean NLLs.</summary>
    private double LogCovariance => Count > 1
        ? (_nllTimesNllBase / Count - _nll.Mean * _nllBase.Mean) / (Count - 1)
        : 0;

    /// <summary>Cor(ln PPL(Q), ln PPL(base)); 0 when either has no spread.</summary>
    public double LogPerplexityCorrelation =>
        _nll.StandardError * _nllBase.StandardError is var d and > 0 ? LogCovariance / d : 0;

    /// <summary>ln(PPL(Q) / PPL(base)), with the error of a difference of correlated means.</summary>
    public Estimate LogPerplexityRatio => new(_nll.Mean - _nllBase.Mean, Math.Sqrt(Math.Max(0,
        _nll.StandardError * _nll.StandardError + _nllBase.StandardError * _nllBase.StandardError - 2 * LogCovariance)));

    /// <summary>PPL(Q) / PPL(base).</summary>
    public Estimate PerplexityRatio
    {
        get
        {
            var log = LogPerplexityRatio;
            double ratio = Math.Exp(log.Value);
            return new(ratio, ratio * log.Error);
        }
    }

    /// <summary>PPL(Q) - PPL(base).</summary>
    public Estimate PerplexityDifference
    {
        get
        {
            Estimate q = Perplexity, b = BasePerplexity;
            double covariance = q.Value * b.Value * LogCovariance;
            return new(q.Value - b.Value, Math.Sqrt(Math.Max(0, q.Error * q.Error + b.Error * b.Error - 2 * covariance)));
        }
    }

    /// <summary>Mean KL(base || Q) over the scored positions, in nats.</summary>
    public Estimate Kld => new(_divergence.Mean, _divergence.StandardError);

    /// <summary>Share of positions (0..1) where the most likely token of Q is that of the base (ties: the lowest id).</summary>
    public Estimate SameTop
    {
        get
        {
            double p = Count == 0 ? 0 : (double)_sameTop / Count;
            return new(p, Count > 1 ? Math.Sqrt(p * (1 - p) / (Count - 1)) : 0);
        }
    }

    /// <summary>RMS of Δp = p_Q(target) - p_base(target), 0..1; its error from that of the mean square (d sqrt(x) = dx / 2 sqrt(x)).</summary>
    public Estimate DeltaPRms
    {
        get
        {
            double rms = Math.Sqrt(_deltaPSquared.Mean);
            return new(rms, rms > 0 ? 0.5 / rms * _deltaPSquared.StandardError : 0);
        }
    }

    /// <summary>The KL divergence of every position added so far, sorted ascending.</summary>
    public double[] SortedKld()
    {
        var sorted = _kld.ToArray();
        Array.Sort(sorted);
        return sorted;
    }

    private static Estimate Exp(RunningMean nll)
    {
        double value = Math.Exp(nll.Mean);
        return new(value, value * nll.StandardError);
    }
}
