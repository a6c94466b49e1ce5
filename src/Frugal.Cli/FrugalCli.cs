using System.CommandLine;
using Frugal.Cli.Commands;

namespace Frugal.Cli;

/// <summary>The <c>frugal</c> command line: builds the command tree and runs it against a <see cref="CliContext"/>.</summary>
public static class FrugalCli
{
    public static RootCommand Build(CliContext context)
    {
        var root = new RootCommand("frugal: run GGUF language models on the CPU");
        root.Subcommands.Add(InfoCommand.Create(context));
        root.Subcommands.Add(RunCommand.Create(context));
        root.Subcommands.Add(TokenizeCommand.Create(context));
        root.Subcommands.Add(LogitsCommand.Create(context));
        root.Subcommands.Add(BenchCommand.Create(context));
        root.Subcommands.Add(MembwCommand.Create(context));
        root.Subcommands.Add(ServeCommand.Create(context));
        root.Subcommands.Add(ChatCommand.Create(context));
        root.Subcommands.Add(PerplexityCommand.Create(context));
        root.Subcommands.Add(EvalCommand.Create(context));
        root.Subcommands.Add(PullCommand.Create(context));
        root.Subcommands.Add(ListCommand.Create(context));
        root.Subcommands.Add(RmCommand.Create(context));
        return root;
    }

    /// <summary>Parses <paramref name="args"/> and runs the command; returns the process exit code.</summary>
    public static int Run(string[] args, CliContext context)
    {
        var parse = Build(context).Parse(args);
        return parse.Invoke(new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            EnableDefaultExceptionHandler = false, // every action guards itself; nothing may print a stack trace
        });
    }
}
