using System.CommandLine;
using System.Globalization;
using Frugal.Gguf;
using Frugal.Inference.Embeddings;
using Frugal.Inference.Engine;
using Microsoft.Extensions.AI;

namespace Frugal.Cli.Commands;

/// <summary><c>frugal embed MODEL TEXT... [--pooling mean|cls|last] [--json]</c>: one L2-normalized embedding per text.</summary>
internal static class EmbedCommand
{
    public static Command Create(CliContext context)
    {
        var model = CommonArguments.Model();
        var texts = new Argument<string[]>("TEXT") { Description = "texts to embed, one embedding each", Arity = ArgumentArity.OneOrMore };
        var pooling = new Option<string?>("--pooling")
        {
            Description = "how token states become one vector: mean, cls or last (default: the file's {arch}.pooling_type, else mean)",
        };
        var json = CommonArguments.Json();
        var command = new Command("embed", "print the embedding of each text (pooled final hidden states, L2-normalized)") { model, texts, pooling, json };
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            EmbeddingPooling? chosen = null;
            if (parse.GetValue(pooling) is string name)
            {
                try { chosen = EmbeddingPoolings.Parse(name); }
                catch (ArgumentException) { throw new CliError($"--pooling must be mean, cls or last, got '{name}'"); }
            }
            string path = HubModels.Resolve(context, parse.GetValue(model)!);
            int contextLength;
            using (var file = CommonArguments.Open(path))
                contextLength = (int)Math.Min(file.GetInt($"{file.GetString("general.architecture")}.context_length") ?? 4096, 4096);
            using var generator = FrugalEmbeddingGenerator.Load(path, chosen, new EngineOptions { ContextLength = contextLength, MaxRunningSequences = 1 });
            string[] inputs = parse.GetValue(texts)!;
            var embeddings = generator.GenerateAsync(inputs).GetAwaiter().GetResult();
            if (parse.GetValue(json))
            {
                JsonText.WriteLine(context.Out, j =>
                {
                    j.WriteString("pooling", generator.Pooling.ToString().ToLowerInvariant());
                    j.WriteNumber("dimensions", embeddings[0].Vector.Length);
                    j.WriteNumber("prompt_tokens", embeddings.Usage?.InputTokenCount ?? 0);
                    j.WriteStartArray("embeddings");
                    foreach (var e in embeddings)
                    {
                        j.WriteStartArray();
                        foreach (float v in e.Vector.Span) j.WriteNumberValue(v);
                        j.WriteEndArray();
                    }
                    j.WriteEndArray();
                });
                return 0;
            }
            for (int i = 0; i < embeddings.Count; i++)
                context.Out.WriteLine($"embedding {i}: " + string.Join(' ', embeddings[i].Vector.ToArray().Select(v => v.ToString("0.000000", CultureInfo.InvariantCulture))));
            return 0;
        }));
        return command;
    }
}
