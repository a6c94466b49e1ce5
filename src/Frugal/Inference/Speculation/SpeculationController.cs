namespace Frugal.Inference.Speculation;

/// <summary>
/// Picks one sequence's draft length from its recent acceptance rate. With a per-token acceptance rate a, k drafted
/// tokens yield 1 + a + ... + a^k tokens per step (Leviathan et al. 2023) for a step that costs 1 + c·k decode steps
/// (c: the cost of one drafted token, drafting and verifying, relative to a decode step); the length that maximizes
/// their ratio is used, and none when no length beats plain decoding. While off, a one-token probe every
/// <see cref="ProbeEvery"/> steps lets a sequence whose text turned predictable start again.
/// </summary>
public sealed class SpeculationController(int maxDraft, double costPerToken)
{
    public const int ProbeEvery = 16;
    private const double Smoothing = 0.15; // weight of each new trial in the moving average

    private double _rate = 0.6;  // estimated chance that a drafted token is accepted (an optimistic start)
    private int _idle;

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
            double gain = yield / (1 + costPerToken * k);
            if (gain > bestGain * 1.02) { bestGain = gain; best = k; }
        }
        if (best > 0) { _idle = 0; return best; }
        return ++_idle % ProbeEvery == 0 ? 1 : 0;
    }

    /// <summary>Records a verified draft: <paramref name="accepted"/> of <paramref name="drafted"/> tokens accepted.</summary>
    public void Record(int drafted, int accepted)
    {
        for (int i = 0; i < accepted; i++) _rate += Smoothing * (1 - _rate);
        if (accepted < drafted) _rate += Smoothing * (0 - _rate);
    }
}
