using System.CommandLine;
using Frugal.Hub;

namespace Frugal.Cli.Commands;

/// <summary><c>frugal rm REF</c>: deletes cached models (all of a repository's for owner/repo); never a file outside the cache.</summary>
internal static class RmCommand
{
    public static Command Create(CliContext context)
    {
        var reference = new Argument<string>("REF") { Description = "owner/repo (all its cached files), owner/repo:QUANT or owner/repo/file.gguf" };
        var command = new Command("rm", "remove models from the cache") { reference };
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            var r = ModelReference.Parse(parse.GetValue(reference)!, _ => false);
            if (r.IsLocal) throw new CliError($"'{r.Text}' is a path; rm removes cached models named owner/repo, owner/repo:QUANT or owner/repo/file.gguf");
            using var puller = HubModels.Puller(context);
            var removed = puller.Cache.Remove(r);
            if (removed.Count == 0) throw new CliError($"nothing cached for '{r}' (see frugal list)");
            foreach (var m in removed) context.Out.WriteLine($"removed {m.Reference} ({HubModels.Bytes(m.Size)})");
            return 0;
        }));
        return command;
    }
}
