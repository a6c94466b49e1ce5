using Frugal.Numerics;

namespace Frugal.Gguf.Quantization;

/// <summary>
/// A target of <c>frugal quantize</c>, named and numbered as llama.cpp's <c>llama-quantize</c> names its file types
/// (<c>llama_ftype</c>): the default tensor type, and for the k-quant mixes the recipe in <see cref="TensorTypeRecipe"/>
/// that gives some tensors more bits.
/// </summary>
public sealed record QuantizationFileType(string Name, uint Id, GgmlType DefaultType, string Description)
{
    /// <summary>The file types Frugal can write: those whose tensor types it can all quantize to, without an importance matrix.</summary>
    public static IReadOnlyList<QuantizationFileType> All { get; } =
    [
        new("Q4_0", 2, GgmlType.Q4_0, "4.5 bits per weight, 32-element blocks with one scale"),
        new("Q4_1", 3, GgmlType.Q4_1, "5 bits per weight, 32-element blocks with a scale and a minimum"),
        new("Q5_0", 8, GgmlType.Q5_0, "5.5 bits per weight, 32-element blocks with one scale"),
        new("Q5_1", 9, GgmlType.Q5_1, "6 bits per weight, 32-element blocks with a scale and a minimum"),
        new("Q8_0", 7, GgmlType.Q8_0, "8.5 bits per weight, nearly lossless"),
        new("Q2_K", 10, GgmlType.Q2_K, "k-quant mix around Q2_K, with Q3_K/Q4_K for the sensitive tensors"),
        new("Q3_K_S", 11, GgmlType.Q3_K, "k-quant: Q3_K throughout"),
        new("Q3_K_M", 12, GgmlType.Q3_K, "k-quant mix: Q3_K, with Q4_K/Q5_K for attn_v, attn_output and ffn_down"),
        new("Q3_K_L", 13, GgmlType.Q3_K, "k-quant mix: Q3_K, with Q5_K for attn_v, attn_output and ffn_down"),
        new("Q4_K_S", 14, GgmlType.Q4_K, "k-quant mix: Q4_K, with Q5_K for the first attn_v and ffn_down layers"),
        new("Q4_K_M", 15, GgmlType.Q4_K, "k-quant mix: Q4_K, with Q6_K for half of attn_v and ffn_down (the usual choice)"),
        new("Q5_K_S", 16, GgmlType.Q5_K, "k-quant: Q5_K throughout"),
        new("Q5_K_M", 17, GgmlType.Q5_K, "k-quant mix: Q5_K, with Q6_K for half of attn_v and ffn_down"),
        new("Q6_K", 18, GgmlType.Q6_K, "k-quant: Q6_K throughout, 6.6 bits per weight"),
        new("F16", 1, GgmlType.F16, "16-bit floats"),
        new("BF16", 32, GgmlType.BF16, "bfloat16"),
        new("F32", 0, GgmlType.F32, "32-bit floats"),
    ];

    /// <summary>llama-quantize's short names for the medium k-quant mixes.</summary>
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Q3_K"] = "Q3_K_M",
        ["Q4_K"] = "Q4_K_M",
        ["Q5_K"] = "Q5_K_M",
    };

    /// <summary>The file type called <paramref name="name"/> (case-insensitive; Q3_K, Q4_K and Q5_K mean the _M mixes).</summary>
    /// <exception cref="ArgumentException">No such type; the message lists the valid names.</exception>
    public static QuantizationFileType Parse(string name)
    {
        string key = Aliases.GetValueOrDefault(name.Trim(), name.Trim());
        return All.FirstOrDefault(t => string.Equals(t.Name, key, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"unknown quantization type '{name}'; valid types: {string.Join(", ", ValidNames)}");
    }

    /// <summary>Every name <see cref="Parse"/> takes, aliases last.</summary>
    public static IEnumerable<string> ValidNames => All.Select(t => t.Name).Concat(Aliases.Keys);

    /// <summary>True for the 4-, 5- and 8-bit block types and k-quants: the tensor recipe applies; false for F16/BF16/F32.</summary>
    public bool IsQuantized => DefaultType is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16);

    public override string ToString() => Name;
}
