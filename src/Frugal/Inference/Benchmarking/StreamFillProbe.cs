using System.Diagnostics;
using Frugal.Numerics;
using Frugal.Numerics.Kernels;

namespace Frugal.Inference.Benchmarking;

/// <summary>A matrix of the model file a <see cref="StreamFillProbe"/> may read: where its rows start and their shape.</summary>
public readonly record struct StreamFillTensor(GgmlType Type, long FileOffset, long Rows, long Cols);

/// <summary>What a <see cref="StreamFillProbe"/> measured: the page cache's read rate as the reader sees it, and the repack rate per type.</summary>
/// <param name="ReadBytesPerSecond">file bytes/s of the positioned reads (pread) into the staging slice, the file in the page cache.</param>
/// <param name="RepackBytesPerSecond">file bytes/s of the repack into the kernel layout, per type that repacks on this CPU.</param>
public sealed record StreamFillRates(double ReadBytesPerSecond, IReadOnlyDictionary<GgmlType, double> RepackBytesPerSecond);

/// <summary>
/// Times the streaming read-ahead's own work on the model's own bytes: <see cref="StreamedMatrix.Fill"/> with positioned
/// reads of the file (as <c>WeightStream</c> reads a streamed unit: pread of a slice into the staging buffer, repacked
/// into a buffer much larger than the caches), the read and the repack timed apart. A first pass brings the sample into
/// the page cache; the median of the timed passes counts. Replaces a 64 MiB plain read and a repack of random rows in
/// cache, which <c>plan-check</c> showed off by -26% and +30% in decode under a budget: the destination buffer is cold
/// memory in the real stream. The sample is long (512 MiB a type) because page-cache reads here speed up over a long
/// read: dd of 64 MiB ran at 5-6 GB/s, of 800 MiB at 11-12, and the stream's own reads at 10.3 GB/s (its counters).
/// </summary>
public static class StreamFillProbe
{
    private const long AreaBytes = 160L << 20;

    /// <param name="tensors">candidate matrices; per type, the last ones given are read first (the last layers stream first).</param>
    /// <param name="bytesPerType">file bytes read per type and pass, at most (whole groups of 16 rows).</param>
    public static StreamFillRates Measure(string path, IReadOnlyList<StreamFillTensor> tensors, long bytesPerType = 512L << 20, int passes = 3)
    {
        var samples = new List<StreamFillTensor>();
        foreach (var group in tensors.GroupBy(t => t.Type))
        {
            long left = bytesPerType;
            foreach (var t in group.Reverse())
            {
                if (left <= 0) break;
                long rowBytes = GgmlTypeInfo.RowBytes(t.Type, (int)t.Cols);
                long rows = Math.Min(t.Rows, Math.Max(16, left / rowBytes / 16 * 16));
                samples.Add(t with { Rows = rows });
                left -= rows * rowBytes;
            }
        }
        if (samples.Count == 0) return new StreamFillRates(0, new Dictionary<GgmlType, double>());

        // Destinations cycle through an area of about two streamed units (the stream's own buffers), far larger than
        // the caches, so the repack writes cold memory as the stream's does without the probe holding the whole sample.
        long[] areaOffsets = new long[samples.Count];
        long[] sampleBytes = [.. samples.Select(s => (StreamedMatrix.Bytes(s.Type, (int)s.Rows, (int)s.Cols) + 63) / 64 * 64)];
        long areaBytes = Math.Max(2 * sampleBytes.Max(), Math.Min(sampleBytes.Sum(), AreaBytes)), next = 0, stagingBytes = 0;
        for (int i = 0; i < samples.Count; i++)
        {
            if (next + sampleBytes[i] > areaBytes) next = 0;
            areaOffsets[i] = next;
            next += sampleBytes[i];
            stagingBytes = Math.Max(stagingBytes, StreamedMatrix.StagingBytes(samples[i].Type, (int)samples[i].Rows, (int)samples[i].Cols));
        }

        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        using var area = new KernelLayoutBuffer(areaBytes);
        using var staging = stagingBytes > 0 ? new KernelLayoutBuffer(stagingBytes) : null;
        var types = samples.Select(s => s.Type).Distinct().ToList();
        var readSeconds = new List<double>();
        var repackSeconds = types.ToDictionary(t => t, _ => new List<double>());
        var fileBytes = types.ToDictionary(t => t, _ => 0L);
        for (int pass = 0; pass <= passes; pass++)
        {
            long readTicks = 0;
            var repackTicks = types.ToDictionary(t => t, _ => 0L);
            for (int i = 0; i < samples.Count; i++)
            {
                var s = samples[i];
                long start = s.FileOffset;
                var (read, repacking) = StreamedMatrix.Fill(s.Type, (int)s.Rows, (int)s.Cols, area.Address + (nint)areaOffsets[i],
                    (offset, bytes, dst) => Gguf.FileReadRate.ReadInto(handle, start + offset, bytes, dst), staging?.Address ?? 0);
                readTicks += read;
                repackTicks[s.Type] += repacking;
                if (pass == 0) fileBytes[s.Type] += s.Rows * GgmlTypeInfo.RowBytes(s.Type, (int)s.Cols);
            }
            if (pass == 0) continue; // brought the sample into the page cache (and compiled the code)
            readSeconds.Add(readTicks / (double)Stopwatch.Frequency);
            foreach (var t in types) repackSeconds[t].Add(repackTicks[t] / (double)Stopwatch.Frequency);
        }

        long allBytes = fileBytes.Values.Sum();
        var repack = new Dictionary<GgmlType, double>();
        foreach (var t in types)
        {
            var s = samples.First(x => x.Type == t);
            if (StreamedMatrix.StagingBytes(t, (int)s.Rows, (int)s.Cols) > 0)
                repack[t] = fileBytes[t] / Math.Max(SampleStatistics.Median(repackSeconds[t]), 1e-9);
        }
        return new StreamFillRates(allBytes / Math.Max(SampleStatistics.Median(readSeconds), 1e-9), repack);
    }
}
