using System.CommandLine;
using System.CommandLine.Help;
using System.Reflection;
using Frugal.Cli.Commands;

namespace Frugal.Cli;

/// <summary>The <c>frugal</c> command line: builds the command tree and runs it against a <see cref="CliContext"/>.</summary>
public static class FrugalCli
{
    /// <summary>
    /// The root is a plain command named "frugal", not a <see cref="RootCommand"/>: that one is named after the
    /// executable, which is Frugal.Cli (dotnet Frugal.Cli.dll, the installed tool) or the test host, never frugal.
    /// </summary>
    public static Command Build(CliContext context)
    {
        var version = new Option<bool>("--version") { Description = "print the version and exit" };
        var root = new Command("frugal", "frugal: run GGUF language models on the CPU") { new HelpOption(), version };
        root.Subcommands.Add(InfoCommand.Create(context));
        root.Subcommands.Add(RunCommand.Create(context));
        root.Subcommands.Add(TokenizeCommand.Create(context));
        root.Subcommands.Add(EmbedCommand.Create(context));
        root.Subcommands.Add(LogitsCommand.Create(context));
        root.Subcommands.Add(BenchCommand.Create(context));
        root.Subcommands.Add(MembwCommand.Create(context));
        root.Subcommands.Add(ServeCommand.Create(context));
        root.Subcommands.Add(ChatCommand.Create(context));
        root.Subcommands.Add(PerplexityCommand.Create(context));
        root.Subcommands.Add(EvalCommand.Create(context));
        root.Subcommands.Add(SolveCommand.Create(context));
        root.Subcommands.Add(PullCommand.Create(context));
        root.Subcommands.Add(ListCommand.Create(context));
        root.Subcommands.Add(RmCommand.Create(context));
        root.Subcommands.Add(QuantizeCommand.Create(context));
        root.Subcommands.Add(PlanCommand.Create(context));
        root.SetAction(parse =>
        {
            if (parse.GetValue(version))
            {
                context.Out.WriteLine($"frugal {Version}");
                return 0;
            }
            context.Error.WriteLine("error: give a command; 'frugal --help' lists them");
            return CliErrors.Failure;
        });
        return root;
    }

    /// <summary>The package version (0.1.0), with the commit it was built from when known (0.1.0+abc1234...).</summary>
    public static string Version { get; } = typeof(FrugalCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(FrugalCli).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>
    /// Response files are off: System.CommandLine would otherwise read any argument starting with '@' as a file of
    /// arguments, so <c>frugal run -p "@alice hello"</c> failed with "Response file not found". Text is text.
    /// </summary>
    private static readonly ParserConfiguration Parsing = new() { ResponseFileTokenReplacer = null };

    /// <summary>Parses <paramref name="args"/> and runs the command; returns the process exit code.</summary>
    public static int Run(string[] args, CliContext context)
    {
        var parse = Build(context).Parse(args, Parsing);
        return parse.Invoke(new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            EnableDefaultExceptionHandler = false, // every action guards itself; nothing may print a stack trace
        });
    }
}
