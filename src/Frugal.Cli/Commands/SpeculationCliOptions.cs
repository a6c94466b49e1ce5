using System.CommandLine;
using Frugal.Inference.Speculation;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>--spec off|draft|lookup|auto</c>, <c>--draft FILE</c> and <c>--draft-max N</c> for run, chat and serve. The default
/// is auto: prompt lookup whenever it finds a match, and the draft model when there is one (<c>--draft</c>, or the
/// built-in draft model when the main model is the built-in one); output is exact either way, and the controller
/// stops drafting where it does not pay.
/// </summary>
internal sealed class SpeculationCliOptions
{
    public Option<string> Mode { get; } = new("--spec")
    {
        Description = "speculative decoding: off, draft (a draft model), lookup (prompt lookup), auto (the controller picks)",
        DefaultValueFactory = _ => "auto",
    };

    public Option<string?> Draft { get; } = new("--draft")
    {
        Description = "draft model GGUF for speculative decoding (same tokenizer); default: the built-in draft model with the built-in main model",
    };

    public Option<int> DraftMax { get; } = new("--draft-max")
    {
        Description = "most tokens drafted per step (1..64)",
        DefaultValueFactory = _ => 8,
    };

    public void AddTo(Command command)
    {
        Mode.AcceptOnlyFromAmong("off", "draft", "lookup", "auto");
        command.Options.Add(Mode);
        command.Options.Add(Draft);
        command.Options.Add(DraftMax);
    }

    /// <summary>The mode, the draft model file to load (null: none) and the draft length, checked.</summary>
    public (SpeculationMode Mode, string? DraftPath, int DraftMax) Parse(ParseResult parse, CliContext context, string mainPath)
    {
        var mode = parse.GetValue(Mode) switch
        {
            "off" => SpeculationMode.Off,
            "draft" => SpeculationMode.Draft,
            "lookup" => SpeculationMode.Lookup,
            _ => SpeculationMode.Auto,
        };
        int max = parse.GetValue(DraftMax);
        if (max is < 1 or > 64) throw new CliError($"--draft-max: the draft length must be within [1, 64], got {max}");
        string? draft = parse.GetValue(Draft);
        if (draft is not null)
        {
            if (!File.Exists(draft)) throw new CliError($"--draft: no such file '{draft}'");
            using (CommonArguments.Open(draft)) { }
        }
        else if (mode is SpeculationMode.Draft or SpeculationMode.Auto && IsBuiltIn(context, mainPath))
        {
            string builtIn = Path.Combine(Path.GetDirectoryName(context.DefaultModelPath)!, "frugal-draft.gguf");
            if (File.Exists(builtIn)) draft = builtIn;
        }
        if (mode == SpeculationMode.Draft && draft is null)
            throw new CliError("--spec draft needs a draft model: give --draft FILE (the built-in draft model goes only with the built-in main model)");
        if (mode is SpeculationMode.Off or SpeculationMode.Lookup) draft = null;
        return (mode, draft, max);
    }

    private static bool IsBuiltIn(CliContext context, string path) =>
        string.Equals(Path.GetFullPath(path), Path.GetFullPath(context.DefaultModelPath), StringComparison.Ordinal);
}
