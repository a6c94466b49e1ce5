using System.CommandLine;
using System.Text;
using Frugal.Inference.ChatClient;
using Frugal.Inference.Engine;
using Microsoft.Extensions.AI;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal chat [MODEL] [--system TEXT] [--temp T] [--seed S] [-n N] [--ctx N] [-ctk T] [-ctv T] [--no-context-shift] [--keep N]
/// [--kv-budget N --kv-policy P --kv-sinks S]</c>: an interactive streaming chat
/// with the model's own chat template, on the same engine and <see cref="IChatClient"/> the server and apps use.
/// An empty line or /exit ends it.
/// </summary>
internal static class ChatCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string?>("MODEL") { Description = HubModels.ModelHelp + " (default: the built-in model)", Arity = ArgumentArity.ZeroOrOne };
        var system = new Option<string?>("--system") { Description = "a system prompt" };
        var temp = new Option<float>("--temp") { Description = "temperature (0 = greedy)", DefaultValueFactory = _ => 0.8f };
        var seed = new Option<long?>("--seed", "-s") { Description = "random seed (same seed, same replies)" };
        var count = new Option<int?>("--n-predict", "-n") { Description = "most tokens per reply (default: until end of turn)" };
        var ctx = new Option<int?>("--ctx", "-c") { Description = "context length (default: the model's, at most 4096)" };
        var kv = new KvCacheTypeOptions();
        var retention = new KvRetentionCliOptions(shift: true, shiftByDefault: true);
        var speculation = new SpeculationCliOptions();
        var command = new Command("chat", "chat with a model interactively") { model, system, temp, seed, count, ctx };
        kv.AddTo(command);
        retention.AddTo(command);
        var memory = new MemoryBudgetOptions();
        memory.AddTo(command);
        speculation.AddTo(command);
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            var cacheTypes = kv.Parse(parse);
            var kvRetention = retention.Parse(parse);
            var loadOptions = memory.Parse(parse) with { ContextLength = parse.GetValue(ctx) is > 0 and int c0 ? c0 : 4096 }; // LongRoPE picks its factors by it
            string path = HubModels.Resolve(context, parse.GetValue(model) ?? context.DefaultModelPath);
            using (var header = CommonArguments.Open(path)) MemoryBudgetOptions.Check(header, loadOptions); // a missing or malformed file is a user error before anything loads
            int? context0 = parse.GetValue(ctx);
            var (specMode, draftPath, draftMax) = speculation.Parse(parse, context, path);
            using var draftModel = draftPath is null ? null : Frugal.Models.ModelLoader.Load(draftPath);
            var engineOptions = new EngineOptions
            {
                ContextLength = context0 ?? 4096, MaxRunningSequences = 1, KvCacheTypes = cacheTypes, KvRetention = kvRetention,
                Speculation = new Frugal.Inference.Speculation.SpeculationOptions { Mode = specMode, DraftModel = draftModel, DraftMax = draftMax },
            };
            using var client = LoadProgress.Run(context, Path.GetFileName(path), () => MemoryBudgetOptions.Guard(() => FrugalChatClient.Load(path, engineOptions, loadOptions)));
            KvRetentionCliOptions.CheckFits(kvRetention, ((InferenceEngine)client.GetService(typeof(InferenceEngine))!).ContextLength);
            var options = new ChatOptions { Temperature = parse.GetValue(temp), Seed = parse.GetValue(seed), MaxOutputTokens = parse.GetValue(count) };
            return Loop(context, client, parse.GetValue(system), options).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static async Task<int> Loop(CliContext context, IChatClient client, string? system, ChatOptions options)
    {
        var history = new List<ChatMessage>();
        if (!string.IsNullOrEmpty(system)) history.Add(new ChatMessage(ChatRole.System, system));
        while (true)
        {
            context.Out.Write("> ");
            context.Out.Flush();
            string? line = context.In.ReadLine();
            if (line is null || line.Trim() is "" or "/exit") return 0;
            history.Add(new ChatMessage(ChatRole.User, line));
            var reply = new StringBuilder();
            await foreach (var update in client.GetStreamingResponseAsync(history, options, context.Cancellation))
            {
                reply.Append(update.Text);
                context.Out.Write(update.Text);
                context.Out.Flush();
            }
            context.Out.WriteLine();
            history.Add(new ChatMessage(ChatRole.Assistant, reply.ToString()));
        }
    }
}
