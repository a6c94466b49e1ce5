using System.CommandLine;
using Frugal.Cli.Logging;
using Frugal.Cluster;
using Frugal.Server;
using Microsoft.Extensions.Logging;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal serve [MODEL] [--host 127.0.0.1] [--port 8080] [--api-key K] [--parallel N] [--ctx N] [-ctk T] [-ctv T] [--context-shift --keep N]
/// [--kv-budget N --kv-policy P --kv-sinks S] [-t N] [--cluster NAME --silo-port P --gateway-port G --seed HOST:PORT --routing R]</c>:
/// the OpenAI-compatible server, alone or as one node of a cluster (see docs/cluster.md), until Ctrl+C.
/// </summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var model = CommonArguments.OptionalModel();
        var host = new Option<string>("--host") { Description = "address to listen on (loopback unless told otherwise)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0 = any free port)", DefaultValueFactory = _ => 8080 };
        var apiKey = new Option<string?>("--api-key") { Description = "require 'Authorization: Bearer KEY' on /v1 requests" };
        var parallel = new Option<int>("--parallel", "-np") { Description = "sequences decoded together", DefaultValueFactory = _ => 4 };
        var ctx = new Option<int?>("--ctx", "-c") { Description = "context per sequence (default: the model's, at most 4096)" };
        var queue = new Option<int>("--queue") { Description = "requests that may wait; more are answered 429", DefaultValueFactory = _ => 64 };
        var logFormat = new Option<string>("--log-format") { Description = "log lines on stderr as text, or json (one object per line)", DefaultValueFactory = _ => "text" };
        logFormat.AcceptOnlyFromAmong("text", "json");
        var pooling = new Option<string?>("--pooling") { Description = "how /v1/embeddings pools token states: mean, cls or last (default: the file's {arch}.pooling_type, else mean)" };
        pooling.AcceptOnlyFromAmong("mean", "cls", "last");
        var threads = ThreadsOption.Create();
        var kv = new KvCacheTypeOptions();
        var retention = new KvRetentionCliOptions(shift: true);
        var speculation = new SpeculationCliOptions();
        var cluster = new ClusterCliOptions();
        var command = new Command("serve", "serve a model over an OpenAI-compatible HTTP API") { model, host, port, apiKey, parallel, ctx, queue, logFormat, pooling, threads };
        kv.AddTo(command);
        retention.AddTo(command);
        var memory = new MemoryBudgetOptions();
        memory.AddTo(command);
        cluster.AddTo(command);
        speculation.AddTo(command);
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            var cacheTypes = kv.Parse(parse);
            var kvRetention = retention.Parse(parse);
            // The context the engine will run (at most the model's; the loader clamps): LongRoPE models pick their factors by it.
            var loadOptions = memory.Parse(parse) with { ContextLength = parse.GetValue(ctx) is > 0 and int c0 ? c0 : 4096 };
            string path = parse.GetValue(model) is { } given ? HubModels.Resolve(context, given) : CommonArguments.ModelOrBuiltIn(context, null);
            using (var header = CommonArguments.Open(path)) MemoryBudgetOptions.Check(header, loadOptions); // a missing or malformed file is reported before listening
            var (specMode, draftPath, draftMax) = speculation.Parse(parse, context, path);
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
                EmbeddingPooling = parse.GetValue(pooling) is string p ? Frugal.Inference.Embeddings.EmbeddingPoolings.Parse(p) : null,
                Weights = loadOptions,
                Speculation = specMode,
                DraftModelPath = draftPath,
                DraftMax = draftMax,
            };
            if (options.ContextLength is int c) KvRetentionCliOptions.CheckFits(kvRetention, c);
            var node = cluster.Parse(parse, options);
            ThreadsOption.Apply(parse.GetValue(threads));
            var format = parse.GetValue(logFormat) == "json" ? LogFormat.Json : LogFormat.Text;
            return Serve(context, options, node, format).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static async Task<int> Serve(CliContext context, ServerOptions options, ClusterNodeOptions? node, LogFormat format)
    {
        using var logs = new WriterLoggerProvider(context.Error, format);
        // Text: the status lines stay plain and the request lines come as log lines; json: everything is a log object,
        // so stderr stays one JSON object per line.
        var status = format == LogFormat.Json ? logs.CreateLogger("Frugal.Cli") : null;
        void Say(string line)
        {
            if (status is null) context.Error.WriteLine(line);
            else status.LogInformation("{Status}", line);
        }

        void Logging(ILoggingBuilder b)
        {
            b.AddProvider(logs);
            b.SetMinimumLevel(LogLevel.Information);
            b.AddFilter("Microsoft", LogLevel.Warning); // ASP.NET Core's own per-request lines would double ours
            b.AddFilter("Orleans", LogLevel.Warning);
            b.AddFilter("Polly", LogLevel.Warning); // Orleans placement logs every resilience pipeline run
        }
        await using var clusterNode = node is null ? null : await ClusterNode.StartAsync(node, Logging, context.Cancellation);
        await using var alone = node is null ? await FrugalServer.StartAsync(options, Logging, context.Cancellation) : null;
        var server = clusterNode?.Gateway ?? alone!;
        if (node is not null)
            Say($"silo of cluster '{node.ClusterName}' on port {node.SiloPort} (Orleans gateway {node.GatewayPort}, " +
                $"{(node.RedisConnectionString is null ? node.Seed is null ? "first node" : $"seed {node.Seed}" : "Redis membership")}, routing {node.Routing})");
        Say($"listening on {server.BaseAddress} (loading {options.ModelPath}; /health is 503 until ready)");
        LoadProgress.Wait(context, Path.GetFileName(options.ModelPath), server.Loaded);
        var served = server.State.Model!;
        if (served.Template is not null) Say($"web chat at {server.BaseAddress} (open it in a browser)");
        if (served.Residency is { IsStreaming: true } residency) Say(WeightStreamSummary.Split(residency));
        Say($"ready: {served.Id}, context {served.Engine.ContextLength}, {options.Parallel} parallel, " +
            $"KV {served.Engine.KvBytes / (1 << 20)} MiB ({served.Engine.KvCacheTypes}){(served.Template is null ? ", no chat template (only /v1/completions)" : "")}");
        try
        {
            await server.WaitForShutdownAsync(context.Cancellation);
        }
        catch (OperationCanceledException)
        {
        }
        Say("stopped");
        return 0;
    }
}
