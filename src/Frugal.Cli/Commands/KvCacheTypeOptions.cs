using System.CommandLine;
using Frugal.Models;
using Frugal.Numerics.Attention;

namespace Frugal.Cli.Commands;

/// <summary>
/// llama.cpp's <c>-ctk/--cache-type-k</c> and <c>-ctv/--cache-type-v</c>: the element types the K and the V cache are
/// stored in (f16 by default; f32, q8_0, q4_0), and <c>--kv-rotate</c>, which stores keys Walsh-Hadamard rotated
/// (<see cref="KvCacheTypes.RotateKeys"/>). One set per command: <see cref="AddTo"/>, then <see cref="Parse"/>.
/// </summary>
internal sealed class KvCacheTypeOptions
{
    private static readonly string Names = string.Join(", ", KvElementTypes.Names);

    public Option<string> Keys { get; } = new("--cache-type-k", "-ctk")
    {
        Description = $"KV cache type of the keys: {Names}",
        DefaultValueFactory = _ => "f16",
    };

    public Option<string> Values { get; } = new("--cache-type-v", "-ctv")
    {
        Description = $"KV cache type of the values: {Names}",
        DefaultValueFactory = _ => "f16",
    };

    public Option<bool> RotateKeys { get; } = new("--kv-rotate")
    {
        Description = "Store keys rotated by a Walsh-Hadamard transform (queries rotated to match) so outlier channels quantize better; needs a power-of-two head size",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Keys);
        command.Options.Add(Values);
        command.Options.Add(RotateKeys);
    }

    /// <summary>The requested types; a name that is none of f16, f32, q8_0, q4_0 is a <see cref="CliError"/> naming the option.</summary>
    public KvCacheTypes Parse(ParseResult parse) =>
        new(Type(Keys, parse.GetValue(Keys)), Type(Values, parse.GetValue(Values)), parse.GetValue(RotateKeys));

    /// <summary>
    /// Refuses types the model's head size cannot hold (q8_0 and q4_0 store blocks of 32 elements per head; rotation
    /// needs a power of two), naming the option, before any cache is made.
    /// </summary>
    public static void CheckFits(KvCacheTypes types, ModelConfig config)
    {
        Check("--cache-type-k", types.Keys, config.HeadDim);
        Check("--cache-type-v", types.Values, config.HeadDim);
        if (types.RotateKeys && !WalshHadamard.Fits(config.HeadDim))
            throw new CliError($"--kv-rotate: rotating keys (Walsh-Hadamard) needs a power-of-two head size; this model's head size is {config.HeadDim}.");
    }

    private static void Check(string option, KvElementType type, int headDim)
    {
        try
        {
            KvElementTypes.CheckHeadDim(type, headDim);
        }
        catch (NotSupportedException e)
        {
            throw new CliError($"{option}: {e.Message}");
        }
    }

    private static KvElementType Type(Option option, string? name)
    {
        try
        {
            return KvElementTypes.Parse(name ?? "f16");
        }
        catch (ArgumentException e)
        {
            string message = e.ParamName is { } p ? e.Message.Replace($" (Parameter '{p}')", "", StringComparison.Ordinal) : e.Message;
            throw new CliError($"{option.Name}: {message}");
        }
    }
}
