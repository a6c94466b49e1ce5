using System.CommandLine;
using Frugal.Gguf;
using Frugal.Models;
using Frugal.Models.Residency;
using Frugal.Numerics;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>--mem-budget SIZE</c> and <c>--read-ahead N</c> (on run, chat, serve, bench, eval): at most SIZE of weights stay
/// resident, the rest are streamed from the file through N + 1 buffers as the forward reaches them
/// (<see cref="ModelLoadOptions"/>). One set per command: <see cref="AddTo"/>, then <see cref="Parse"/>.
/// </summary>
internal sealed class MemoryBudgetOptions
{
    public Option<string?> Budget { get; } = new("--mem-budget")
    {
        Description = "keep at most SIZE of weights resident (e.g. 4G, 512M; binary units); the other layers are read from the file as the forward reaches them. The KV cache is outside it",
    };

    public Option<int> ReadAhead { get; } = new("--read-ahead")
    {
        Description = "with --mem-budget: streamed layers read ahead of the one computing (each takes a buffer of the largest layer)",
        DefaultValueFactory = _ => 1,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Budget);
        command.Options.Add(ReadAhead);
    }

    /// <summary>The options asked for; a size that does not parse is a <see cref="CliError"/> naming the option.</summary>
    public ModelLoadOptions Parse(ParseResult parse)
    {
        int readAhead = parse.GetValue(ReadAhead);
        if (readAhead < 1) throw new CliError($"--read-ahead: expected at least 1 layer, got {readAhead}");
        if (parse.GetValue(Budget) is not { } text) return new ModelLoadOptions { ReadAhead = readAhead };
        long bytes = ByteSize.TryParse(text, out string? error) ?? throw new CliError($"--mem-budget: {error}");
        if (bytes <= 0) throw new CliError($"--mem-budget: expected a positive size, got '{text}'");
        return new ModelLoadOptions { MemoryBudget = bytes, ReadAhead = readAhead };
    }

    /// <summary>Refuses a budget the file's model cannot run in (reads only the header), before a server listens.</summary>
    public static void Check(GgufFile file, ModelLoadOptions options)
    {
        if (options.MemoryBudget is null) return;
        try
        {
            _ = WeightResidency.Plan(file, options.MemoryBudget, options.ReadAhead);
        }
        catch (ArgumentException e)
        {
            throw new CliError($"--mem-budget: {e.Message}");
        }
    }

    /// <summary>Loads through <paramref name="context"/>; a budget too small for the model is a <see cref="CliError"/> naming the option.</summary>
    public static ILanguageModel Load(CliContext context, GgufFile file, ModelLoadOptions options) =>
        Guard(() => context.LoadModel(file, options));

    /// <summary>Runs a load, turning the loader's refusal of the budget into an error that names the option.</summary>
    public static T Guard<T>(Func<T> load)
    {
        try
        {
            return load();
        }
        catch (ArgumentException e) when (e.ParamName == nameof(ModelLoadOptions.MemoryBudget))
        {
            throw new CliError($"--mem-budget: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}");
        }
    }
}
