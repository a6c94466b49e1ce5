using System.Text;
using Frugal.Cli;

Console.OutputEncoding = new UTF8Encoding(false);
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true; // stop generating cleanly instead of killing the process mid-write
    cancel.Cancel();
};
return FrugalCli.Run(args, new CliContext(Console.Out, Console.Error) { Cancellation = cancel.Token });
