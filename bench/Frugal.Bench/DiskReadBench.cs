using System.Diagnostics;
using System.Globalization;
using Frugal.Gguf;
using Frugal.Models.Residency;
using Frugal.Numerics;

namespace Frugal.Bench;

/// <summary>
/// <c>Frugal.Bench disk-read MODEL BUDGET</c>: the rate the disk delivers the bytes a <c>--mem-budget</c> run streams
/// per step, read as the stream reads them (pread of 1024-row slices of each streamed tensor, in file order) with no
/// compute and no repacking.
/// Drop the page cache first to measure the disk. Prints one JSON line.
/// </summary>
internal static class DiskReadBench
{
    public static int Run(string[] args)
    {
        var rest = args;
        if (rest.Length != 2 || ByteSize.TryParse(rest[1], out string? error) is not { } budget)
        {
            Console.Error.WriteLine("usage: Frugal.Bench disk-read MODEL BUDGET");
            return 2;
        }
        using var file = GgufFile.Open(rest[0]);
        var plan = WeightResidency.Plan(file, budget);
        var streamed = file.Tensors
            .Where(t => plan.StreamedLayers.Contains(WeightTensor.LayerOf(t.Name)) && t.Dimensions.Count(d => d > 1) > 1
                        || plan.StreamedGlobals.Contains(t.Name))
            .OrderBy(t => t.FileOffset).ToList();
        long slice = streamed.Max(t => Math.Min(t.RowCount, 1024) * GgmlTypeInfo.RowBytes(t.Type, t.RowLength));
        var buffer = GC.AllocateUninitializedArray<byte>((int)slice, pinned: true);
        long bytes = 0;
        var clock = Stopwatch.StartNew();
        foreach (var t in streamed)
        {
            long rows = Math.Min(t.RowCount, 1024) * GgmlTypeInfo.RowBytes(t.Type, t.RowLength); // the stream's slice
            for (long at = 0; at < t.ByteSize; at += rows)
            {
                int n = (int)Math.Min(rows, t.ByteSize - at);
                file.Read(t.FileOffset + at, buffer.AsSpan(0, n));
            }
            bytes += t.ByteSize;
        }
        double s = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"mechanism\":\"pread\",\"budget\":{budget},\"tensors\":{streamed.Count},\"bytes\":{bytes},\"expected_bytes\":{plan.StreamedBytes},\"seconds\":{s:F3},\"mb_s\":{bytes / s / 1e6:F1}}}"));
        return 0;
    }
}
