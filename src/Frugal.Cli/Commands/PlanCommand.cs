using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Frugal.Hub;
using Frugal.Numerics;
using Frugal.Numerics.Attention;
using Frugal.Planning;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal plan MODEL [--mem-budget SIZE] [--ctx N] [--parallel N] [--cache-type T | -ctk T -ctv T] [-t N] [-p N] [--json]</c>:
/// reads the GGUF header only, measures the machine for a few seconds, and prints which weights stay resident and
/// which stream, peak RSS, KV bytes and the predicted prefill and decode tokens/s with what limits them; without a
/// budget it also recommends settings that fit. A hub reference must be in the cache: plan never downloads.
/// </summary>
internal static class PlanCommand
{
    private const double Mega = 1e6, Giga = 1e9;

    public static Command Create(CliContext context)
    {
        var model = CommonArguments.Model();
        var budget = new Option<string?>("--mem-budget") { Description = "RAM for weights (e.g. 4G, 1.5G, 512M); the rest would stream from the file" };
        var ctx = new Option<int?>("--ctx", "-c") { Description = $"context per sequence (default: the model's, at most {PlanSettings.DefaultContext})" };
        var parallel = new Option<int>("--parallel", "-np") { Description = "sequences held at once (the KV pool holds this many contexts)", DefaultValueFactory = _ => 1 };
        var prompt = new Option<int>("--n-prompt", "-p") { Description = "prefill batch the prefill rate is predicted for (bench -p)", DefaultValueFactory = _ => 128 };
        var cacheType = new Option<string?>("--cache-type") { Description = $"KV cache type of keys and values both: {string.Join(", ", KvElementTypes.Names)}" };
        var threads = ThreadsOption.Create();
        var json = CommonArguments.Json();
        var kv = new KvCacheTypeOptions();
        var command = new Command("plan", "predict memory and speed of a model on this machine before loading it (reads only the GGUF header)")
        {
            model, budget, ctx, parallel, prompt, cacheType, threads, json,
        };
        kv.AddTo(command);
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            long? memBudget = parse.GetValue(budget) is { } text
                ? ByteSize.TryParse(text, out var error) ?? throw new CliError($"--mem-budget: {error}")
                : null;
            var types = kv.Parse(parse);
            if (parse.GetValue(cacheType) is { } both)
            {
                if (parse.GetResult(kv.Keys) is { Implicit: false } || parse.GetResult(kv.Values) is { Implicit: false })
                    throw new CliError("--cache-type sets both K and V: give it or -ctk/-ctv, not both");
                types = types with { Keys = ParseType(both), Values = ParseType(both) };
            }
            var settings = new PlanSettings
            {
                MemoryBudget = memBudget,
                ContextLength = parse.GetValue(ctx),
                Parallel = parse.GetValue(parallel),
                PromptTokens = parse.GetValue(prompt),
                CacheTypes = types,
            };
            settings.Validate();
            ThreadsOption.Apply(parse.GetValue(threads));
            string path = LocalModel(context, parse.GetValue(model)!);

            using var file = CommonArguments.Open(path);
            var shape = ModelShape.FromGguf(file);
            KvCacheTypeOptions.CheckFits(types, shape.Config);
            var machine = context.MeasureMachine(path, shape, settings.PromptTokens);
            var plan = ModelPlan.Make(shape, settings, machine);
            var advice = memBudget is null ? Recommendation.Make(shape, machine, settings) : null;
            if (parse.GetValue(json)) WriteJson(context.Out, path, plan, advice);
            else WriteText(context.Out, path, plan, advice);
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// A path, or a hub reference already in the cache. An uncached reference is refused: plan answers before a
    /// download and never starts one (run <c>frugal pull</c> for the file, then plan it).
    /// </summary>
    private static string LocalModel(CliContext context, string model)
    {
        var reference = ModelReference.Parse(model);
        if (reference.LocalPath is { } path) return path;
        using var puller = HubModels.Puller(context);
        return puller.Cache.Find(reference)
            ?? throw new CliError($"{reference} is not in the model cache ({puller.Cache.Root}); plan reads a local file's header and never downloads: run 'frugal pull {reference}' first");
    }

    private static KvElementType ParseType(string name)
    {
        try
        {
            return KvElementTypes.Parse(name);
        }
        catch (ArgumentException e)
        {
            throw new CliError($"--cache-type: {e.Message.Replace(" (Parameter 'name')", "", StringComparison.Ordinal)}");
        }
    }

    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    private static string Size(long bytes) => ByteSize.Format(bytes);

    private static string Rate(double? bytesPerSecond) => bytesPerSecond is { } r ? $"{F(r / Giga, "F2")} GB/s" : "unknown";

    private static string Types(KvCacheTypes t) => $"{KvElementTypes.Name(t.Keys)}/{KvElementTypes.Name(t.Values)}";

    private static string Key(LimitingResource r) => r switch
    {
        LimitingResource.MemoryBandwidth => "memory_bandwidth",
        LimitingResource.Compute => "compute",
        LimitingResource.Disk => "disk",
        LimitingResource.PageCache => "page_cache",
        _ => r.ToString(),
    };

    private static void WriteText(TextWriter o, string path, ModelPlan p, Recommendation? advice)
    {
        var c = p.Shape.Config;
        var m = p.Machine;
        var mem = p.Memory;
        var r = p.Residency;
        o.WriteLine($"model     {Path.GetFileName(path)}: {c.Architecture}, {c.BlockCount} layers, {p.Shape.MainType}, weights {Size(p.Shape.WeightBytes)}, context {c.ContextLength}");
        o.WriteLine($"machine   {m.Threads} threads | memory read {Rate(m.MemoryReadBytesPerSecond)} | disk {Rate(m.DiskReadBytesPerSecond)} (O_DIRECT), page cache {Rate(m.PageCacheReadBytesPerSecond)}"
            + $" | available {Size(m.AvailableMemoryBytes)}{(m.CgroupLimitBytes is { } l ? $", cgroup limit {Size(l)} ({Size(m.CgroupUsageBytes ?? 0)} used)" : ", no cgroup limit")}");
        o.WriteLine($"          multiply GFLOP/s at {p.Settings.PromptTokens} rows: "
            + (m.MatMulFlopsPerSecond.Count == 0 ? "none measured"
                : string.Join(", ", m.MatMulFlopsPerSecond.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {F(kv.Value / Giga, "F0")}"))));
        o.WriteLine($"settings  {(p.Settings.MemoryBudget is { } b ? $"--mem-budget {Size(b)}" : "no budget")} | context {p.Context} x {p.Settings.Parallel} | KV {Types(p.Settings.CacheTypes)} | prefill batch {p.Settings.PromptTokens}");
        o.WriteLine(r.IsStreaming
            ? $"weights   resident {Size(r.ResidentWeightBytes)} ({r.ResidentLayerCount} of {r.LayerCount} layers{(r.StreamedGlobals.Count > 0 ? $"; streamed: {string.Join(", ", r.StreamedGlobals)}" : "")}), streamed {Size(r.StreamedBytes)} per step through {r.BufferCount} x {Size(r.BufferBytes)} buffers"
            : $"weights   all resident: {Size(r.ResidentWeightBytes)}, nothing streamed");
        o.WriteLine($"memory    peak RSS {Size(mem.PeakBytes)} = weights {Size(mem.ResidentWeightRamBytes)} (repacked at load {Size(mem.RepackedBytes)}) + buffers {Size(mem.StreamBufferBytes)}"
            + $" + KV {Size(mem.KvBytes)} + scratch {Size(mem.ScratchBytes)} + runtime {Size(mem.RuntimeBytes)} | {(p.Fits ? "fits" : "DOES NOT FIT")} in {Size(m.UsableMemoryBytes)} usable");
        o.WriteLine($"prefill   {F(p.Speed.PrefillTokensPerSecond, "F1")} tok/s (pp{p.Settings.PromptTokens}), limited by {SpeedPlan.Name(p.Speed.PrefillLimitedBy)}");
        o.WriteLine($"decode    {F(p.Speed.DecodeTokensPerSecond, "F1")} tok/s, limited by {SpeedPlan.Name(p.Speed.DecodeLimitedBy)}"
            + (p.Speed.StreamBytesPerSecond is { } s ? $" (streams {Size(r.StreamedBytes)} per token at {Rate(s)})" : ""));
        if (advice is not null)
            o.WriteLine($"recommend {(advice.MemoryBudget is { } ab ? $"--mem-budget {Size(ab)}" : "no budget")}, -ctk {KvElementTypes.Name(advice.CacheTypes.Keys)} -ctv {KvElementTypes.Name(advice.CacheTypes.Values)}, --ctx {advice.Context}: {advice.Reason}");
    }

    private static void WriteJson(TextWriter output, string path, ModelPlan p, Recommendation? advice) => JsonText.WriteLine(output, j =>
    {
        var m = p.Machine;
        var mem = p.Memory;
        var r = p.Residency;
        j.WriteString("model", path);
        j.WriteString("architecture", p.Shape.Config.Architecture);
        j.WriteString("weight_type", p.Shape.MainType.ToString());
        j.WriteNumber("weight_bytes", p.Shape.WeightBytes);
        WriteNullable(j, "mem_budget", p.Settings.MemoryBudget);
        j.WriteNumber("ctx", p.Context);
        j.WriteNumber("parallel", p.Settings.Parallel);
        j.WriteString("kv_type_k", KvElementTypes.Name(p.Settings.CacheTypes.Keys));
        j.WriteString("kv_type_v", KvElementTypes.Name(p.Settings.CacheTypes.Values));
        j.WriteNumber("p", p.Settings.PromptTokens);
        j.WriteNumber("threads", m.Threads);
        j.WriteNumber("resident_bytes", r.ResidentWeightBytes);
        j.WriteNumber("streamed_bytes", r.StreamedBytes);
        j.WriteNumber("resident_layers", r.ResidentLayerCount);
        j.WriteNumber("layers", r.LayerCount);
        j.WriteNumber("buffer_bytes", mem.StreamBufferBytes);
        j.WriteNumber("resident_ram_bytes", mem.ResidentWeightRamBytes);
        j.WriteNumber("repacked_bytes", mem.RepackedBytes);
        j.WriteNumber("kv_bytes", mem.KvBytes);
        j.WriteNumber("scratch_bytes", mem.ScratchBytes);
        j.WriteNumber("runtime_bytes", mem.RuntimeBytes);
        j.WriteNumber("peak_rss_mb", mem.PeakBytes / Mega);
        j.WriteBoolean("fits", p.Fits);
        j.WriteNumber("prefill_tok_s", p.Speed.PrefillTokensPerSecond);
        j.WriteNumber("decode_tok_s", p.Speed.DecodeTokensPerSecond);
        j.WriteString("limited_by", Key(p.Speed.DecodeLimitedBy));
        j.WriteString("prefill_limited_by", Key(p.Speed.PrefillLimitedBy));
        j.WriteString("decode_limited_by", Key(p.Speed.DecodeLimitedBy));
        j.WriteStartObject("machine");
        j.WriteNumber("read_gb_s", m.MemoryReadBytesPerSecond / Giga);
        WriteNullable(j, "disk_gb_s", m.DiskReadBytesPerSecond / Giga);
        WriteNullable(j, "page_cache_gb_s", m.PageCacheReadBytesPerSecond / Giga);
        j.WriteNumber("available_bytes", m.AvailableMemoryBytes);
        WriteNullable(j, "cgroup_limit_bytes", m.CgroupLimitBytes);
        j.WriteNumber("usable_bytes", m.UsableMemoryBytes);
        j.WriteStartObject("matmul_gflop_s");
        foreach (var (type, rate) in m.MatMulFlopsPerSecond.OrderBy(kv => kv.Key)) j.WriteNumber(type.ToString(), rate / Giga);
        j.WriteEndObject();
        j.WriteStartObject("repack_gb_s");
        foreach (var (type, rate) in m.RepackBytesPerSecond.OrderBy(kv => kv.Key)) j.WriteNumber(type.ToString(), rate / Giga);
        j.WriteEndObject();
        j.WriteEndObject();
        if (advice is null) return;
        j.WriteStartObject("recommendation");
        WriteNullable(j, "mem_budget", advice.MemoryBudget);
        j.WriteString("kv_type_k", KvElementTypes.Name(advice.CacheTypes.Keys));
        j.WriteString("kv_type_v", KvElementTypes.Name(advice.CacheTypes.Values));
        j.WriteNumber("ctx", advice.Context);
        j.WriteBoolean("fits", advice.Plan is not null);
        j.WriteString("reason", advice.Reason);
        j.WriteEndObject();
    });

    private static void WriteNullable(Utf8JsonWriter j, string name, double? value)
    {
        if (value is { } v) j.WriteNumber(name, v);
        else j.WriteNull(name);
    }
}
