using System.CommandLine;
using Frugal.Server;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal serve MODEL [--host 127.0.0.1] [--port 8080] [--api-key K] [--parallel N] [--ctx N] [-ctk T] [-ctv T] [--context-shift --keep N]
/// [--kv-budget N --kv-policy P --kv-sinks S]</c>: the
/// OpenAI-compatible server, until Ctrl+C.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var model = CommonArguments.Model();
        var host = new Option<string>("--host") { Description = "address to listen on (loopback unless told otherwise)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0 = any free port)", DefaultValueFactory = _ => 8080 };
        var apiKey = new Option<string?>("--api-key") { Description = "require 'Authorization: Bearer KEY' on /v1 requests" };
        var parallel = new Option<int>("--parallel", "-np") { Description = "sequences decoded together", DefaultValueFactory = _ => 4 };
        var ctx = new Option<int?>("--ctx", "-c") { Description = "context per sequence (default: the model's, at most 4096)" };
        var queue = new Option<int>("--queue") { Description = "requests that may wait; more are answered 429", DefaultValueFactory = _ => 64 };
        var kv = new KvCacheTypeOptions();
        var retention = new KvRetentionCliOptions(shift: true);
        var command = new Command("serve", "serve a model over an OpenAI-compatible HTTP API") { model, host, port, apiKey, parallel, ctx, queue };
        kv.AddTo(command);
        retention.AddTo(command);
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            var cacheTypes = kv.Parse(parse);
            var kvRetention = retention.Parse(parse);
            string path = HubModels.Resolve(context, parse.GetValue(model)!);
            using (CommonArguments.Open(path)) { } // a missing or malformed file is reported before listening
            var options = new ServerOptions
            {
                ModelPath = path,
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                ApiKey = parse.GetValue(apiKey),
                Parallel = parse.GetValue(parallel),
                ContextLength = parse.GetValue(ctx),
                MaxQueuedRequests = parse.GetValue(queue),
                KvCacheTypes = cacheTypes,
                KvRetention = kvRetention,
            };
            if (options.ContextLength is int c) KvRetentionCliOptions.CheckFits(kvRetention, c);
            return Serve(context, options).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static async Task<int> Serve(CliContext context, ServerOptions options)
    {
        await using var server = await FrugalServer.StartAsync(options, cancellationToken: context.Cancellation);
        context.Error.WriteLine($"listening on {server.BaseAddress} (loading {options.ModelPath}; /health is 503 until ready)");
        await server.Loaded;
        var served = server.State.Model!;
        context.Error.WriteLine($"ready: {served.Id}, context {served.Engine.ContextLength}, {options.Parallel} parallel, " +
            $"KV {served.Engine.KvBytes / (1 << 20)} MiB ({served.Engine.KvCacheTypes}){(served.Template is null ? ", no chat template (only /v1/completions)" : "")}");
        try
        {
            await server.WaitForShutdownAsync(context.Cancellation);
        }
        catch (OperationCanceledException)
        {
        }
        context.Error.WriteLine("stopped");
        return 0;
    }
}
