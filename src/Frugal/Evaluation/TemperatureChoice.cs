using System.Globalization;

namespace Frugal.Evaluation;

/// <summary>
/// One sampling temperature tried on the development split: of <see cref="Items"/> items, how many greedy decoding
/// answers right and how many majority vote over the first 1, 8 and 16 samples at this temperature answers right.
/// </summary>
public sealed record TemperatureTrial(float Temperature, int Items, int Greedy, int Vote1, int Vote8, int Vote16)
{
    /// <summary>What voting adds over greedy at this temperature, in items (negative: voting loses).</summary>
    public int Vote16Gain => Vote16 - Greedy;
}

/// <summary>
/// Chooses the sampling temperature for repeated sampling from development-split trials only (never held-out ones):
/// the most items right by vote@8 (the budget the goals compare against); ties go to the larger vote@16 - greedy
/// gain (voting that keeps paying with more samples), then to the lower temperature (closer to greedy).
/// </summary>
public static class TemperatureChoice
{
    public static (TemperatureTrial Chosen, string Reason) Pick(IReadOnlyList<TemperatureTrial> trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        if (trials.Count == 0) throw new ArgumentException("no temperatures were tried", nameof(trials));
        if (trials.Select(t => t.Items).Distinct().Count() != 1)
            throw new ArgumentException("every temperature must be tried on the same development items", nameof(trials));
        var ordered = trials.OrderByDescending(t => t.Vote8).ThenByDescending(t => t.Vote16Gain).ThenBy(t => t.Temperature).ToList();
        var chosen = ordered[0];
        string T(float x) => x.ToString(CultureInfo.InvariantCulture);
        string reason = ordered.Count == 1 ? $"the only temperature tried"
            : ordered[1].Vote8 < chosen.Vote8 ? $"best development vote@8 ({chosen.Vote8}/{chosen.Items}; next best {ordered[1].Vote8} at temperature {T(ordered[1].Temperature)})"
            : ordered[1].Vote16Gain < chosen.Vote16Gain ? $"vote@8 tied at {chosen.Vote8}/{chosen.Items} with temperature {T(ordered[1].Temperature)}; larger vote@16 - greedy gain ({chosen.Vote16Gain:+#;-#;0} against {ordered[1].Vote16Gain:+#;-#;0})"
            : $"vote@8 and vote@16 - greedy tied at {chosen.Vote8}/{chosen.Items} and {chosen.Vote16Gain:+#;-#;0} with temperature {T(ordered[1].Temperature)}; the lower temperature";
        return (chosen, reason);
    }
}
