using System.CommandLine;
using Frugal.Hub;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal pull REF</c>: downloads a GGUF file from the Hugging Face hub (or HF_ENDPOINT) into the cache, resuming a
/// partial download, checking its sha256 against the hub's LFS id; a file already cached with that hash is kept.
/// </summary>
internal static class PullCommand
{
    public static Command Create(CliContext context)
    {
        var reference = new Argument<string>("REF") { Description = "owner/repo (its Q4_K_M, Q4_0 or Q8_0 file, else its smallest GGUF), owner/repo:QUANT or owner/repo/file.gguf" };
        var command = new Command("pull", "download a model from the Hugging Face hub into the cache") { reference };
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            var r = ModelReference.Parse(parse.GetValue(reference)!, _ => false);
            if (r.IsLocal) throw new CliError($"'{r.Text}' is a path; pull takes owner/repo, owner/repo:QUANT or owner/repo/file.gguf");
            using var puller = HubModels.Puller(context);
            var result = HubModels.WithProgress(context, progress => puller.PullAsync(r, progress, context.Cancellation));
            context.Out.WriteLine(HubModels.Describe(result));
            return 0;
        }));
        return command;
    }
}
