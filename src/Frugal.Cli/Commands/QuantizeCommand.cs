using System.CommandLine;
using System.Globalization;
using Frugal.Gguf.Quantization;
using Frugal.Numerics;
using Spectre.Console;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal quantize IN OUT TYPE [--threads N] [--pure] [--allow-requantize]</c>: llama-quantize's file types and
/// mixes, with a progress bar over the tensors and a summary of the sizes before and after.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create(CliContext context)
    {
        var input = new Argument<string>("IN") { Description = "GGUF model to quantize (F32, F16 or BF16 weights)" };
        var output = new Argument<string>("OUT") { Description = "GGUF file to write" };
        var type = new Argument<string>("TYPE")
        {
            Description = "file type, as llama-quantize names it: " + string.Join(", ", QuantizationFileType.ValidNames),
        };
        var threads = new Option<int?>("--threads", "-t")
        {
            Description = $"threads that quantize rows (default: every logical CPU, {Environment.ProcessorCount} here)",
        };
        var pure = new Option<bool>("--pure") { Description = "no k-quant mix: every quantizable tensor in TYPE's base type" };
        var requantize = new Option<bool>("--allow-requantize") { Description = "quantize tensors that are already quantized (quality suffers twice)" };
        var command = new Command("quantize", "quantize a GGUF model as llama.cpp's llama-quantize does")
        {
            input, output, type, threads, pure, requantize,
        };
        command.SetAction(parse => CliErrors.Guard(context, () =>
        {
            var fileType = QuantizationFileType.Parse(parse.GetValue(type)!);
            int threadCount = parse.GetValue(threads) ?? Environment.ProcessorCount;
            if (threadCount < 1)
                throw new CliError($"-t/--threads: expected at least 1 thread, got {threadCount}");
            var options = new QuantizeOptions
            {
                FileType = fileType,
                Pure = parse.GetValue(pure),
                AllowRequantize = parse.GetValue(requantize),
                Threads = threadCount,
            };
            var result = Run(context, parse.GetValue(input)!, parse.GetValue(output)!, options);
            WriteSummary(context.Out, result);
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Quantizes with progress on stderr: on a terminal one Spectre.Console bar over the whole model (by input bytes)
    /// naming the tensor at work; elsewhere (a pipe, a log) one line per tensor as it is written, as llama-quantize logs.
    /// </summary>
    private static QuantizationResult Run(CliContext context, string input, string output, QuantizeOptions options)
    {
        if (!context.ErrorIsTerminal)
            return GgufQuantizer.Run(input, output, options, p =>
            {
                if (p.Fraction >= 1) context.Error.WriteLine(TensorLine(p));
            }, context.Cancellation);

        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(context.Error),
            Ansi = AnsiSupport.Detect,
            Interactive = InteractionSupport.Yes,
        });

        QuantizationResult? result = null;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(progress =>
            {
                var bar = progress.AddTask("reading " + Markup.Escape(input), maxValue: 1);
                result = GgufQuantizer.Run(input, output, options, p =>
                {
                    if (p.Fraction == 0)
                    {
                        var t = p.Tensor;
                        bar.Description = Markup.Escape(
                            $"[{p.Index + 1}/{p.Plan.Tensors.Count}] {t.Name} {Name(t.From)}{(t.Converts ? " -> " + Name(t.To) : "")}");
                    }
                    bar.Value = p.Overall;
                }, context.Cancellation);
                bar.Description = "quantized";
                bar.Value = 1;
            });
        return result!;
    }

    /// <summary>"[  3/38] blk.0.attn_k.weight [256, 128] F16 -> Q4_K, 64.0 KiB -> 18.0 KiB".</summary>
    private static string TensorLine(QuantizationProgress p)
    {
        var t = p.Tensor;
        int width = p.Plan.Tensors.Count.ToString(CultureInfo.InvariantCulture).Length;
        string index = $"[{(p.Index + 1).ToString(CultureInfo.InvariantCulture).PadLeft(width)}/{p.Plan.Tensors.Count}]";
        string shape = "[" + string.Join(", ", t.Dimensions) + "]";
        return t.Converts
            ? $"{index} {t.Name} {shape} {Name(t.From)} -> {Name(t.To)}, {InfoCommand.Bytes(t.BytesBefore)} -> {InfoCommand.Bytes(t.BytesAfter)}"
            : $"{index} {t.Name} {shape} {Name(t.From)}, copied, {InfoCommand.Bytes(t.BytesBefore)}";
    }

    /// <summary>The output path, the tensor types it holds, and the tensor and file sizes before and after.</summary>
    private static void WriteSummary(TextWriter o, QuantizationResult r)
    {
        var plan = r.Plan;
        o.WriteLine($"wrote {r.OutputPath} ({plan.FileType.Name}{(plan.Pure ? ", pure" : "")}, general.file_type {plan.FileType.Id})");
        foreach (var (type, count, bytes) in plan.TypeCounts)
            o.WriteLine($"  {Name(type),-6} {count,5} tensors {InfoCommand.Bytes(bytes),12}");
        int converted = plan.Tensors.Count(t => t.Converts);
        o.WriteLine($"tensors: {plan.Tensors.Count}, {converted} converted, {plan.Tensors.Count - converted} copied as they were");
        if (plan.Fallbacks > 0)
            o.WriteLine($"fallbacks: {plan.Fallbacks} tensors have rows that are not whole blocks of their type and took a 32-element type instead");
        double ratio = plan.BytesBefore == 0 ? 1 : (double)plan.BytesAfter / plan.BytesBefore;
        o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"size: {InfoCommand.Bytes(r.InputFileBytes)} -> {InfoCommand.Bytes(r.OutputFileBytes)} (tensors {InfoCommand.Bytes(plan.BytesBefore)} -> {InfoCommand.Bytes(plan.BytesAfter)}, {ratio:P1})"));
    }

    private static string Name(GgmlType type) => GgmlTypeInfo.Name(type);
}
