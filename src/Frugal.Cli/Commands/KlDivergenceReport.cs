using System.Globalization;
using System.Text.Json;
using Frugal.Evaluation;

namespace Frugal.Cli.Commands;

/// <summary>
/// How <c>frugal perplexity --kl-divergence</c> prints its figures: a line per window and then the "Perplexity
/// statistics", "KL divergence statistics" and "Token probability statistics" blocks of llama.cpp's perplexity tool,
/// or one JSON object. Shares (same top, Δp) are in percent in both, as llama.cpp prints them.
/// </summary>
internal static class KlDivergenceReport
{
    private static readonly (string Label, string Key, double Fraction)[] Percentiles =
    [
        ("99.9%  ", "kld_p999", 0.999), ("99.0%  ", "kld_p99", 0.99), ("95.0%  ", "kld_p95", 0.95), ("90.0%  ", "kld_p90", 0.90),
        ("Median ", "kld_median", 0.5), ("10.0%  ", "kld_p10", 0.10), (" 5.0%  ", "kld_p5", 0.05), (" 1.0%  ", "kld_p1", 0.01),
    ];

    public static void WriteChunkHeader(TextWriter output) =>
        output.WriteLine("chunk             PPL          ln(PPL(Q)/PPL(base))         KL Divergence             Δp RMS           Same top p");

    public static void WriteChunk(TextWriter output, int chunk, KlDivergenceStatistics running)
    {
        Estimate ppl = running.Perplexity, ratio = running.LogPerplexityRatio, kld = running.Kld;
        Estimate dp = running.DeltaPRms, top = running.SameTop;
        output.WriteLine(Invariant($"{chunk,4}    {ppl.Value,9:F4} ± {ppl.Error,9:F4}    {ratio.Value,10:F5} ± {ratio.Error,10:F5}    ") +
                         Invariant($"{kld.Value,10:F5} ± {kld.Error,10:F5}    {100 * dp.Value,6:F3} ± {100 * dp.Error,6:F3} %    ") +
                         Invariant($"{100 * top.Value,7:F3} ± {100 * top.Error,6:F3} %"));
    }

    public static void WriteSummary(TextWriter output, KlDivergenceResult r)
    {
        output.WriteLine();
        output.WriteLine("====== Perplexity statistics ======");
        output.WriteLine(Invariant($"Mean PPL(Q)                   : {r.Perplexity.Value,10:F6} ± {r.Perplexity.Error,10:F6}"));
        output.WriteLine(Invariant($"Mean PPL(base)                : {r.BasePerplexity.Value,10:F6} ± {r.BasePerplexity.Error,10:F6}"));
        output.WriteLine(Invariant($"Cor(ln(PPL(Q)), ln(PPL(base))): {100 * r.LogPerplexityCorrelation,6:F2}%"));
        output.WriteLine(Invariant($"Mean ln(PPL(Q)/PPL(base))     : {r.LogPerplexityRatio.Value,10:F6} ± {r.LogPerplexityRatio.Error,10:F6}"));
        output.WriteLine(Invariant($"Mean PPL(Q)/PPL(base)         : {r.PerplexityRatio.Value,10:F6} ± {r.PerplexityRatio.Error,10:F6}"));
        output.WriteLine(Invariant($"Mean PPL(Q)-PPL(base)         : {r.PerplexityDifference.Value,10:F6} ± {r.PerplexityDifference.Error,10:F6}"));
        output.WriteLine();
        output.WriteLine("====== KL divergence statistics ======");
        output.WriteLine(Invariant($"Mean    KLD: {r.Kld.Value,10:F6} ± {r.Kld.Error,10:F6}"));
        output.WriteLine(Invariant($"Maximum KLD: {r.KldMaximum,10:F6}"));
        foreach (var (label, _, fraction) in Percentiles)
            output.WriteLine(Invariant($"{label} KLD: {r.KldPercentile(fraction),10:F6}"));
        output.WriteLine(Invariant($"Minimum KLD: {r.KldMinimum,10:F6}"));
        output.WriteLine();
        output.WriteLine("====== Token probability statistics ======");
        output.WriteLine(Invariant($"RMS Δp    : {100 * r.DeltaPRms.Value,6:F3} ± {100 * r.DeltaPRms.Error,5:F3} %"));
        output.WriteLine(Invariant($"Same top p: {100 * r.SameTop.Value,6:F3} ± {100 * r.SameTop.Error,5:F3} %"));
    }

    public static void WriteJson(TextWriter output, KlDivergenceResult r) => JsonText.WriteLine(output, j =>
    {
        Number(j, "ppl", r.Perplexity.Value);
        Number(j, "ppl_error", r.Perplexity.Error);
        Number(j, "ppl_base", r.BasePerplexity.Value);
        Number(j, "ppl_base_error", r.BasePerplexity.Error);
        Number(j, "ppl_ratio", r.PerplexityRatio.Value);
        Number(j, "ppl_ratio_error", r.PerplexityRatio.Error);
        Number(j, "ln_ppl_ratio", r.LogPerplexityRatio.Value);
        Number(j, "ln_ppl_ratio_error", r.LogPerplexityRatio.Error);
        Number(j, "ln_ppl_correlation", r.LogPerplexityCorrelation);
        Number(j, "kld_mean", r.Kld.Value);
        Number(j, "kld_error", r.Kld.Error);
        Number(j, "kld_max", r.KldMaximum);
        foreach (var (_, key, fraction) in Percentiles) Number(j, key, r.KldPercentile(fraction));
        Number(j, "kld_min", r.KldMinimum);
        Number(j, "same_top_p", 100 * r.SameTop.Value);
        Number(j, "same_top_error", 100 * r.SameTop.Error);
        Number(j, "dp_rms", 100 * r.DeltaPRms.Value);
        Number(j, "dp_rms_error", 100 * r.DeltaPRms.Error);
        j.WriteNumber("tokens", r.Tokens);
        j.WriteNumber("chunks", r.Chunks);
        j.WriteNumber("ctx", r.ContextLength);
        j.WriteNumber("scored_tokens", r.ScoredTokens);
    });

    /// <summary>JSON has no NaN or infinity (a model that gives a token probability 0 where the base does not has an infinite KLD): null stands for them.</summary>
    private static void Number(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value)) json.WriteNumber(name, value);
        else json.WriteNull(name);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
