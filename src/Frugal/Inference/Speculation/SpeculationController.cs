namespace Frugal.Inference.Speculation;

/// <summary>
/// Picks one sequence's draft length from its recent acceptance rate. With a per-token acceptance rate a, k drafted
/// tokens yield 1 + a + ... + a^k tokens per step (Leviathan et al. 2023) for a step that costs 1 + c·k decode steps
/// (c: the cost of one drafted token, drafting and verifying, relative to a decode step); the length that maximizes
/// their ratio is used, and none when no length beats plain decoding. While off, a one-token probe every
/// <see cref="ProbeEvery"/> steps lets a sequence whose text turned predictable start again; with
/// <c>backOff</c> each probe that leaves drafting off doubles the wait for the next (up to
/// <see cref="MaxProbeEvery"/>), for a source whose probe is dear (the draft model first catches up on every token
/// since its last draft).
/// <para>
/// The linear cost is only the prior: once a step with k drafted tokens has been timed (<see cref="ObserveCost"/>),
/// its measured cost replaces 1 + c·k. Verify cost is not linear in k: a small model in cache is bound by the
/// arithmetic and its matmul kernel serves rows in tiles of 4, so 4 rows cost well under twice 2 rows, and 5 rows
/// clearly more than 4 (bench/speculative.md).
/// </para>
/// </summary>
public sealed class SpeculationController(int maxDraft, double costPerToken, bool backOff = false)
{
    public const int ProbeEvery = 16;
    public const int MaxProbeEvery = 256;
    private const double Smoothing = 0.15; // weight of each new trial in the moving average

    private double _rate = 0.6;  // estimated chance that a drafted token is accepted (an optimistic start)
    private int _idle;
    private int _probeEvery = ProbeEvery;
    private readonly RecentMedian[] _measured = new RecentMedian[maxDraft + 1];   // [k] step cost with k drafted tokens / plain step

    public double AcceptanceRate => _rate;

    /// <summary>Tokens to draft this step (0: decode plainly).</summary>
    public int NextLength()
    {
        int best = 0;
        double bestGain = 1.0;
        double yield = 1, power = 1;
        for (int k = 1; k <= maxDraft; k++)
        {
            power *= _rate;
            yield += power;
            double cost = _measured[k].IsEmpty ? 1 + costPerToken * k : _measured[k].Value;
            double gain = yield / cost;
            if (gain > bestGain * 1.02) { bestGain = gain; best = k; }
        }
        if (best > 0) { _idle = 0; _probeEvery = ProbeEvery; return best; }
        if (++_idle < _probeEvery) return 0;
        _idle = 0;
        if (backOff) _probeEvery = Math.Min(2 * _probeEvery, MaxProbeEvery);
        return 1;
    }

    /// <summary>
    /// Records the measured cost of a step with <paramref name="drafted"/> tokens drafted (drafting and verifying),
    /// relative to a plain step; each length is priced by the median of its recent steps, so one step stretched by a
    /// busy machine does not price a good length out for the rest of the generation (it is only re-timed when chosen).
    /// </summary>
    public void ObserveCost(int drafted, double relative)
    {
        if ((uint)drafted >= (uint)_measured.Length || drafted == 0 || !(relative > 0) || double.IsInfinity(relative)) return;
        _measured[drafted].Add(relative);
    }

    /// <summary>Records a verified draft: <paramref name="accepted"/> of <paramref name="drafted"/> tokens accepted.</summary>
    public void Record(int drafted, int accepted)
    {
        for (int i = 0; i < accepted; i++) _rate += Smoothing * (1 - _rate);
        if (accepted < drafted) _rate += Smoothing * (0 - _rate);
    }
}
