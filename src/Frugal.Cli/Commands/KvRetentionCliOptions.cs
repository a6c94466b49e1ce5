using System.CommandLine;
using Frugal.Inference.Retention;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>--kv-budget N</c>, <c>--kv-policy window|sinks|keydiff</c>, <c>--kv-sinks S</c> (every command that evaluates a
/// model) and, where a generation can run into the context end, <c>--context-shift</c> / <c>--no-context-shift</c> with
/// <c>--keep N</c> (llama.cpp's). One set per command: <see cref="AddTo"/>, then <see cref="Parse"/>.
/// </summary>
internal sealed class KvRetentionCliOptions
{
    private readonly bool _shiftByDefault;

    /// <param name="shift">offer the context-shift options.</param>
    /// <param name="shiftByDefault">context shift on unless <c>--no-context-shift</c> (chat), instead of off unless <c>--context-shift</c>.</param>
    public KvRetentionCliOptions(bool shift, bool shiftByDefault = false)
    {
        _shiftByDefault = shiftByDefault;
        if (!shift) return;
        Shift = shiftByDefault
            ? new Option<bool>("--no-context-shift") { Description = "end a reply when the context is full instead of shifting it" }
            : new Option<bool>("--context-shift") { Description = "when the context is full, keep the first --keep tokens (and BOS), drop half of the rest and go on (llama.cpp's)" };
        Keep = new Option<int>("--keep") { Description = "tokens a context shift never drops, BOS not counted", DefaultValueFactory = _ => 0 };
    }

    public Option<int?> Budget { get; } = new("--kv-budget") { Description = "KV positions kept per sequence; once it holds one block more, evict down to it (default: no budget)" };

    public Option<string> Policy { get; } = new("--kv-policy")
    {
        Description = $"what a sequence over its --kv-budget keeps: {string.Join(", ", KvRetentionOptions.PolicyNames)}",
        DefaultValueFactory = _ => "sinks",
    };

    public Option<int> Sinks { get; } = new("--kv-sinks") { Description = "leading tokens the sinks and keydiff policies always keep", DefaultValueFactory = _ => 4 };

    public Option<bool>? Shift { get; }

    public Option<int>? Keep { get; }

    public void AddTo(Command command)
    {
        command.Options.Add(Budget);
        command.Options.Add(Policy);
        command.Options.Add(Sinks);
        if (Shift is null) return;
        command.Options.Add(Shift);
        command.Options.Add(Keep!);
    }

    /// <summary>The settings; a bad value is a <see cref="CliError"/> naming its option.</summary>
    public KvRetentionOptions Parse(ParseResult parse)
    {
        int? budget = parse.GetValue(Budget);
        if (budget is < 1) throw new CliError($"--kv-budget: the KV budget must be at least 1 position, got {budget}");
        int sinks = parse.GetValue(Sinks);
        if (sinks < 0) throw new CliError($"--kv-sinks: sinks must be at least 0, got {sinks}");
        KvEvictionPolicy policy;
        try
        {
            policy = KvRetentionOptions.ParsePolicy(parse.GetValue(Policy));
        }
        catch (ArgumentException e)
        {
            throw new CliError($"--kv-policy: {e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal)}");
        }
        bool shift = Shift is not null && (parse.GetValue(Shift) != _shiftByDefault);
        int keep = Keep is null ? 0 : parse.GetValue(Keep);
        if (keep < 0) throw new CliError($"--keep: keep must be at least 0, got {keep}");
        return new KvRetentionOptions { Budget = budget, Policy = policy, Sinks = sinks, ContextShift = shift, Keep = keep };
    }

    /// <summary>Refuses a budget the context cannot hold, naming the option, before any cache is made.</summary>
    public static void CheckFits(KvRetentionOptions options, int context)
    {
        try
        {
            options.Validate(context);
        }
        catch (ArgumentException e)
        {
            string message = e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
            throw new CliError($"--kv-budget: {message}");
        }
    }
}
