using Spectre.Console;

namespace Frugal.Cli;

/// <summary>
/// A spinner on stderr while a model loads, shown only when stderr is a terminal and the load has taken longer than
/// <see cref="Delay"/>: a quick load (the built-in model) prints nothing, and redirected output never holds spinner frames.
/// </summary>
internal static class LoadProgress
{
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);

    /// <summary>Runs <paramref name="load"/> on a pool thread and returns its result (or throws its exception).</summary>
    public static T Run<T>(CliContext context, string what, Func<T> load)
    {
        var loading = Task.Run(load);
        Wait(context, what, loading);
        return loading.GetAwaiter().GetResult();
    }

    /// <summary>Waits for <paramref name="loading"/> to end, with the spinner when it takes long; throws its exception.</summary>
    public static void Wait(CliContext context, string what, Task loading)
    {
        if (context.ErrorIsTerminal && Task.WaitAny([loading], Delay) < 0)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(context.Error),
                Ansi = AnsiSupport.Yes,
                Interactive = InteractionSupport.Yes,
                ColorSystem = ColorSystemSupport.Standard,
            });
            console.Status().Spinner(Spinner.Known.Dots).Start($"loading {Markup.Escape(what)}", _ => Task.WaitAny(loading));
        }
        loading.GetAwaiter().GetResult();
    }
}
