using LLama;
using LLama.Native;
using Frugal.Models.Synthetic;
using Frugal.Numerics;

namespace Frugal.Bench;

/// <summary>
/// The five benchmark files of issue 3: random-weight models of the real Llama-3.2-1B and Qwen2.5-0.5B shapes, written
/// as F16 by Frugal's synthetic writer and quantized by llama.cpp's own quantizer, so each file has the tensor type mix
/// a downloaded file of that quantization has (e.g. the tied embedding in Q6_K, Q4_K_M's Q6_K/Q5_0 layers).
/// </summary>
internal static class BenchFiles
{
    public const string DefaultDirectory = "/tmp/frugal-bench";

    private sealed record Family(string Stem, Func<SyntheticModelSpec> Spec, (string Suffix, LLamaFtype Type)[] Quants);

    private static readonly Family[] Families =
    [
        new("llama-3.2-1b-shape", () => SyntheticModelSpec.Llama32_1B(GgmlType.F16),
            [("q4_0", LLamaFtype.MOSTLY_Q4_0), ("q8_0", LLamaFtype.MOSTLY_Q8_0), ("q4_k_m", LLamaFtype.MOSTLY_Q4_K_M),
             ("iq4_xs", LLamaFtype.MOSTLY_IQ4_XS), ("iq4_nl", LLamaFtype.MOSTLY_IQ4_NL)]),
        new("qwen2.5-0.5b-shape", () => SyntheticModelSpec.Qwen25_05B(GgmlType.F16),
            [("q8_0", LLamaFtype.MOSTLY_Q8_0), ("q4_k_m", LLamaFtype.MOSTLY_Q4_K_M)]),
    ];

    /// <summary>
    /// Qwen3-30B-A3B's layer pattern scaled down to ~1.1 GB in Q4_0 (~2 GB in Q8_0): its 48 layers, 128 experts with 8
    /// used per token, the real vocabulary (151936, untied output), heads of 128 with queries twice the width and 8 query
    /// heads per KV head, and the same ratios of width to expert width (2048 : 768 there, 512 : 192 here). Written in its
    /// block type by Frugal's own writer and quantizer (bit-exact with ggml's for Q4_0 and Q8_0; an F16 intermediate
    /// would be ~4 GB in memory), with the router in F32 as converters write it.
    /// </summary>
    public static SyntheticModelSpec Qwen3MoeScaled(GgmlType type) => new()
    {
        Family = SyntheticFamily.Qwen3,
        EmbeddingLength = 512,
        BlockCount = 48,
        HeadCount = 8,
        HeadCountKv = 1,
        HeadDim = 128,
        FeedForwardLength = 1536, // Qwen3-30B-A3B's dense intermediate_size 6144, scaled as the width: written, unused
        VocabSize = 151936,
        ContextLength = 40960,
        RopeFreqBase = 1000000f,
        RmsNormEpsilon = 1e-6f,
        Experts = new SyntheticExperts(128, 8, 192),
        WeightType = type,
        Seed = 1234,
    };

    private static readonly (string Name, Func<SyntheticModelSpec> Spec)[] Direct =
    [
        ("qwen3-30b-a3b-scaled-q4_0", () => Qwen3MoeScaled(GgmlType.Q4_0)),
        ("qwen3-30b-a3b-scaled-q8_0", () => Qwen3MoeScaled(GgmlType.Q8_0)),
    ];

    /// <summary>
    /// Writes whichever of the five files (or of those named in <paramref name="only"/>, e.g.
    /// <c>qwen2.5-0.5b-shape-q8_0</c>) <paramref name="directory"/> lacks; returns their paths.
    /// </summary>
    public static IReadOnlyList<string> Make(string directory, bool keepF16, IReadOnlyCollection<string>? only = null)
    {
        bool Wanted(Family f, string suffix) => only is null || only.Contains($"{f.Stem}-{suffix}");
        Directory.CreateDirectory(directory);
        LlamaCppNative.EnsureLoaded();
        var made = new List<string>();
        foreach (var all in Families)
        {
            var family = all with { Quants = all.Quants.Where(q => Wanted(all, q.Suffix)).ToArray() };
            if (family.Quants.Length == 0)
                continue;
            string f16 = Path.Combine(directory, $"{family.Stem}-f16.gguf");
            var missing = family.Quants.Where(q => !File.Exists(Quantized(directory, family, q.Suffix))).ToArray();
            if (missing.Length > 0 && !File.Exists(f16))
            {
                Console.WriteLine($"writing {f16} (random weights, F16; the writer holds the whole file in memory)");
                string partial = f16 + ".partial";
                SyntheticModelWriter.Write(family.Spec(), partial);
                File.Move(partial, f16, overwrite: true);
            }
            foreach (var (suffix, type) in missing)
            {
                string path = Quantized(directory, family, suffix);
                Console.WriteLine($"quantizing to {path} ({type}, llama.cpp)");
                string partial = path + ".partial";
                if (!LLamaQuantizer.Quantize(f16, partial, type, nthread: Environment.ProcessorCount, allowRequantize: false, quantizeOutputTensor: true))
                    throw new InvalidOperationException($"llama.cpp could not quantize '{f16}' to {type}");
                File.Move(partial, path, overwrite: true);
            }
            if (!keepF16 && File.Exists(f16))
                File.Delete(f16);
            foreach (var (suffix, _) in family.Quants)
            {
                string path = Quantized(directory, family, suffix);
                Console.WriteLine($"{path}  {new FileInfo(path).Length / 1e6:F0} MB");
                made.Add(path);
            }
        }
        foreach (var (name, spec) in Direct.Where(d => only is null || only.Contains(d.Name)))
        {
            string path = Path.Combine(directory, name + ".gguf");
            if (!File.Exists(path))
            {
                Console.WriteLine($"writing {path} (random weights; the writer holds the whole file in memory)");
                SyntheticModelWriter.Write(spec(), path + ".partial");
                File.Move(path + ".partial", path, overwrite: true);
            }
            Console.WriteLine($"{path}  {new FileInfo(path).Length / 1e6:F0} MB");
            made.Add(path);
        }
        return made;
    }

    /// <summary>The five files' names without <c>.gguf</c>, as <c>make-files --only</c> takes them.</summary>
    public static IReadOnlyList<string> Names { get; } =
        Families.SelectMany(f => f.Quants.Select(q => $"{f.Stem}-{q.Suffix}")).Concat(Direct.Select(d => d.Name)).ToArray();

    /// <summary>
    /// Writes only the two F16 files (the serving-parity check compares F16 weights, where llama.cpp and Frugal differ
    /// by rounding alone); returns their paths.
    /// </summary>
    public static IReadOnlyList<string> MakeF16(string directory)
    {
        Directory.CreateDirectory(directory);
        var made = new List<string>();
        foreach (var family in Families)
        {
            string f16 = Path.Combine(directory, $"{family.Stem}-f16.gguf");
            if (!File.Exists(f16))
            {
                Console.WriteLine($"writing {f16} (random weights, F16; the writer holds the whole file in memory)");
                string partial = f16 + ".partial";
                SyntheticModelWriter.Write(family.Spec(), partial);
                File.Move(partial, f16, overwrite: true);
            }
            Console.WriteLine($"{f16}  {new FileInfo(f16).Length / 1e6:F0} MB");
            made.Add(f16);
        }
        return made;
    }

    private static string Quantized(string directory, Family family, string suffix) =>
        Path.Combine(directory, $"{family.Stem}-{suffix}.gguf");
}
