using System.Diagnostics;
using LLama.Native;
using Frugal.Gguf.Quantization;
using Frugal.Models.Synthetic;
using Frugal.Numerics;

namespace Frugal.Bench;

/// <summary>
/// <c>frugal quantize</c> beside llama.cpp's quantizer on the same F16 file, same thread count: seconds each, the
/// ratio, and whether the two outputs are the same bytes (they must be).
/// </summary>
internal static class QuantizeSpeed
{
    /// <summary>A llama of ~190M parameters (380 MB in F16): big enough to time, small enough for the writer's memory.</summary>
    private static SyntheticModelSpec Spec() => SyntheticModelSpec.Llama32_1B(GgmlType.F16) with
    {
        EmbeddingLength = 1024, HeadCount = 16, HeadCountKv = 4, HeadDim = 64, FeedForwardLength = 4096, BlockCount = 8,
        VocabSize = 32000, TiedEmbeddings = false, ContextLength = 4096,
    };

    public static int Run(string[] types, int threads, string directory)
    {
        Directory.CreateDirectory(directory);
        LlamaCppNative.EnsureLoaded();
        string source = Path.Combine(directory, "quantize-speed-f16.gguf");
        if (!File.Exists(source))
        {
            Console.WriteLine($"writing {source}");
            SyntheticModelWriter.Write(Spec(), source);
        }
        Console.WriteLine($"{source}: {new FileInfo(source).Length / 1e6:F0} MB, {threads} threads");
        Console.WriteLine($"{"type",-8} {"llama.cpp s",12} {"frugal s",10} {"ratio",7}  same bytes");
        foreach (var name in types)
        {
            var type = QuantizationFileType.Parse(name);
            string theirs = Path.Combine(directory, $"quantize-speed-llama-{type.Name}.gguf");
            string ours = Path.Combine(directory, $"quantize-speed-frugal-{type.Name}.gguf");
            var clock = Stopwatch.StartNew();
            var p = LLamaModelQuantizeParams.Default();
            p.ftype = (LLamaFtype)type.Id;
            p.nthread = threads;
            p.quantize_output_tensor = true;
            if (NativeApi.llama_model_quantize(source, theirs, ref p) != 0)
                throw new InvalidOperationException($"llama.cpp could not quantize to {type.Name}");
            double llama = clock.Elapsed.TotalSeconds;
            clock.Restart();
            GgufQuantizer.Run(source, ours, new QuantizeOptions { FileType = type, Threads = threads });
            double frugal = clock.Elapsed.TotalSeconds;
            bool same = File.ReadAllBytes(theirs).AsSpan().SequenceEqual(File.ReadAllBytes(ours));
            Console.WriteLine($"{type.Name,-8} {llama,12:F2} {frugal,10:F2} {llama / frugal,7:F2}  {(same ? "yes" : "NO")}");
            File.Delete(theirs);
            File.Delete(ours);
            if (!same) return 1;
        }
        return 0;
    }
}
