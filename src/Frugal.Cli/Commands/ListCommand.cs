using System.CommandLine;

namespace Frugal.Cli.Commands;

/// <summary><c>frugal list [--json]</c>: the models in the cache (FRUGAL_HOME), their sizes, and unfinished downloads.</summary>
internal static class ListCommand
{
    public static Command Create(CliContext context)
    {
        var json = CommonArguments.Json();
        var command = new Command("list", "list the models pulled into the cache") { json };
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            using var puller = HubModels.Puller(context);
            var cache = puller.Cache;
            var models = cache.List();
            var partials = cache.Partials();
            if (parse.GetValue(json))
            {
                JsonText.WriteLine(context.Out, j =>
                {
                    j.WriteString("cache", cache.Root);
                    j.WriteStartArray("models");
                    foreach (var m in models)
                    {
                        j.WriteStartObject();
                        j.WriteString("ref", m.Reference);
                        j.WriteNumber("bytes", m.Size);
                        j.WriteString("path", m.Path);
                        j.WriteEndObject();
                    }
                    j.WriteEndArray();
                    j.WriteNumber("partial_downloads", partials.Count);
                    j.WriteNumber("partial_bytes", partials.Sum(p => p.Size));
                });
                return 0;
            }
            int width = Math.Max("REF".Length, models.Count == 0 ? 0 : models.Max(m => m.Reference.Length));
            if (models.Count > 0)
            {
                context.Out.WriteLine($"{"REF".PadRight(width)}  {"SIZE",10}");
                foreach (var m in models) context.Out.WriteLine($"{m.Reference.PadRight(width)}  {HubModels.Bytes(m.Size),10}");
            }
            context.Out.WriteLine($"{models.Count} model file(s), {HubModels.Bytes(models.Sum(m => m.Size))} in {cache.ModelsDirectory}");
            if (partials.Count > 0)
                context.Out.WriteLine($"{partials.Count} unfinished download(s), {HubModels.Bytes(partials.Sum(p => p.Size))} in {cache.PartialDirectory} (pull again to resume)");
            return 0;
        }));
        return command;
    }
}
