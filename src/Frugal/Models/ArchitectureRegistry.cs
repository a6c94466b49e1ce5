using Frugal.Gguf;
using Frugal.Models.Residency;

namespace Frugal.Models;

/// <summary>The architectures this engine builds, keyed by general.architecture, with aliases onto shared code.</summary>
public static class ArchitectureRegistry
{
    private static readonly Dictionary<string, Func<GgufFile, string, ModelLoadOptions, ILanguageModel>> Loaders = new(StringComparer.Ordinal)
    {
        ["llama"] = Llama.Load,
        ["qwen2"] = Qwen2.Load,
        ["qwen3"] = Qwen3.Load,
        ["gemma2"] = Gemma2.Load,
        ["gemma3"] = Gemma3.Load,
        ["phi3"] = Phi3.Load,
        ["smollm3"] = SmolLM3.Load,
        ["qwen3moe"] = Qwen3Moe.Load,
        ["olmoe"] = Olmoe.Load,
    };

    /// <summary>Names some converters write for files that are llama in every tensor and key but the prefix.</summary>
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["mistral"] = "llama",
    };

    /// <summary>Every general.architecture value <see cref="ModelLoader"/> accepts, aliases included.</summary>
    public static IReadOnlyCollection<string> Supported { get; } = Loaders.Keys.Concat(Aliases.Keys).Order().ToArray();

    public static bool IsSupported(string architecture) => Loaders.ContainsKey(Resolve(architecture));

    internal static ILanguageModel Load(GgufFile file, ModelLoadOptions options)
    {
        string arch = file.Find("general.architecture")?.AsString()
            ?? throw new ModelFormatException(file.Path, "general.architecture", "metadata key is missing");
        if (!Loaders.TryGetValue(Resolve(arch), out var load))
            throw new NotSupportedException($"architecture '{arch}' is not supported (supported: {string.Join(", ", Supported)})");
        // Metadata keys keep the file's own prefix ("mistral.block_count" for an aliased file).
        return load(file, arch, options);
    }

    /// <summary>
    /// The hyper-parameters a load would use, read from the metadata alone (no tensor data is touched): what
    /// <c>frugal plan</c> sizes memory and work from. Unsupported architectures are refused as <see cref="Load"/> does.
    /// </summary>
    internal static ModelConfig ReadConfig(GgufFile file)
    {
        string arch = file.Find("general.architecture")?.AsString()
            ?? throw new ModelFormatException(file.Path, "general.architecture", "metadata key is missing");
        if (!Loaders.ContainsKey(Resolve(arch)))
            throw new NotSupportedException($"architecture '{arch}' is not supported (supported: {string.Join(", ", Supported)})");
        return HyperParameters.Read(file, arch, Numerics.Ops.RopeStyle.Normal); // the RoPE style changes no size
    }

    internal static ILanguageModel Build(GgufFile file, string arch, TransformerParts parts, ModelLoadOptions options)
    {
        var config = HyperParameters.Read(file, arch, parts.Rope);
        if (parts.Configure is not null) config = parts.Configure(file, arch, config);
        if (config.ExpertCount > 0 && options.MemoryBudget is not null)
            throw new NotSupportedException($"{arch}: a memory budget (--mem-budget) cannot stream mixture-of-experts weights yet; load without a budget");
        WeightResidency residency;
        try
        {
            residency = WeightResidency.Plan(file, options.MemoryBudget, options.ReadAhead);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(e.Message, nameof(ModelLoadOptions.MemoryBudget), e);
        }
        if (residency.IsStreaming && (file.Path is null || !File.Exists(file.Path)))
            throw new ArgumentException("weights can only be streamed from a model file opened from a path", nameof(ModelLoadOptions.MemoryBudget));
        var weights = TransformerWeights.Load(new ModelTensors(file), config, parts, options.ContextLength);
        weights.PrepareKernelLayouts(file, residency);
        var stream = residency.IsStreaming ? new WeightStream(file, weights, residency) : null;
        return new DecoderTransformer(config, weights, parts, stream: stream) { Residency = residency };
    }

    private static string Resolve(string architecture) => Aliases.GetValueOrDefault(architecture, architecture);
}
