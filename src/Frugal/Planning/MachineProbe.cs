using Frugal.Gguf;
using Frugal.Inference.Benchmarking;
using Frugal.Numerics;
using Frugal.Numerics.Threading;

namespace Frugal.Planning;

/// <summary>How long and how large <see cref="MachineProbe"/>'s measurements are.</summary>
public sealed record MachineProbeOptions
{
    /// <summary>The memory read probe's buffer (<see cref="ReadBandwidthProbe"/>: the same probe <c>bench</c> reports beside decode).</summary>
    public long MemoryProbeBytes { get; init; } = 1L << 30;

    /// <summary>Measurements of the read probe (the median taken, as bench's read_gb_s), each the best of its passes.</summary>
    public int MemoryProbes { get; init; } = 3;

    /// <summary>Most bytes of the model file read with O_DIRECT for the disk rate.</summary>
    public long DiskSampleBytes { get; init; } = 256L << 20;

    /// <summary>Most seconds the disk read may take.</summary>
    public double DiskSeconds { get; init; } = 1.0;

    /// <summary>File bytes per weight type the stream probe reads and repacks per pass (<see cref="StreamFillProbe"/>).</summary>
    public long StreamSampleBytes { get; init; } = 512L << 20;

    /// <summary>Rows of each multiply probe (its columns are the model's embedding width).</summary>
    public int MatMulRows { get; init; } = 1024;

    /// <summary>Timed multiplies per probe; the fastest counts (on a shared machine, the one least disturbed).</summary>
    public int MatMulPasses { get; init; } = 10;
}

/// <summary>
/// Measures this machine for a plan in a few seconds: memory read bandwidth on the compute team, each weight type's
/// multiply rate at the prefill batch size, the model file's read rate from the device (O_DIRECT, so the page cache
/// neither helps nor is disturbed) and from the page cache as the streaming reader reads and repacks it, free memory and the cgroup limit. Touches no tensor data
/// but the sampled file ranges, which are read with plain file reads, never through the mapping.
/// </summary>
public static class MachineProbe
{
    public static MachineProfile Measure(string modelPath, ModelShape shape, int promptTokens, MachineProbeOptions? options = null,
        CancellationToken cancellation = default)
    {
        options ??= new MachineProbeOptions();
        long runtime = ProcessMemory.ResidentBytes();
        var (limit, usage) = MemoryLimits.Cgroup();
        long available = MemoryLimits.AvailableBytes();

        long dataStart = shape.HeaderBytes;
        var disk = FileReadRate.Direct(modelPath, dataStart, options.DiskSampleBytes, options.DiskSeconds);
        cancellation.ThrowIfCancellationRequested();
        // The stream's own work on the model's own matrices (the last layers, which stream first): page-cache reads
        // into the staging slice and the repack into cold memory.
        var stream = StreamFillProbe.Measure(modelPath,
            [.. shape.MultipliedMatrices().OrderBy(t => t.Layer).Select(t => new StreamFillTensor(t.Type, t.FileOffset, t.Rows, t.Cols))],
            options.StreamSampleBytes);
        cancellation.ThrowIfCancellationRequested();

        var rates = new Dictionary<GgmlType, double>();
        int cols = shape.Config.EmbeddingLength;
        foreach (var type in shape.MultipliedMatrices().Select(t => t.Type).Distinct())
        {
            cancellation.ThrowIfCancellationRequested();
            int block = GgmlTypeInfo.BlockSize(type);
            int width = cols % block == 0 ? cols : (int)shape.MultipliedMatrices().First(t => t.Type == type).Cols;
            using var probe = new MatMulRateProbe(type, options.MatMulRows, width, promptTokens);
            rates[type] = probe.MeasureFlopsPerSecond(options.MatMulPasses);
        }

        double read;
        using (var bw = new ReadBandwidthProbe(ComputeTeam.Default, options.MemoryProbeBytes))
        {
            var samples = new double[options.MemoryProbes];
            for (int i = 0; i < samples.Length; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                samples[i] = bw.MeasureBytesPerSecond();
            }
            // The median, as bench reports it: the fastest of 512 MiB probes read 52-75 GB/s where bench's runs saw 46-51
            // (plan-check), over-predicting decode by up to 1.35x.
            read = SampleStatistics.Median(samples);
        }

        return new MachineProfile
        {
            Threads = ComputeTeam.Default.ThreadCount,
            MemoryReadBytesPerSecond = read,
            MatMulFlopsPerSecond = rates,
            RepackBytesPerSecond = stream.RepackBytesPerSecond,
            DiskReadBytesPerSecond = disk?.BytesPerSecond,
            PageCacheReadBytesPerSecond = stream.ReadBytesPerSecond > 0 ? stream.ReadBytesPerSecond : null,
            AvailableMemoryBytes = available,
            CgroupLimitBytes = limit,
            CgroupUsageBytes = usage,
            RuntimeBytes = runtime,
        };
    }
}
