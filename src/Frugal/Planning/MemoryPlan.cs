using Frugal.Models;
using Frugal.Models.Residency;
using Frugal.Numerics;
using Frugal.Numerics.Attention;

namespace Frugal.Planning;

/// <summary>
/// Peak resident memory of a run, part by part: the weights kept in RAM (in the layout the kernels read: a repacked
/// copy replaces the file's pages, see README "Load-time repacking"), the stream buffers, the KV pool, the activation
/// scratch of one step, and the runtime.
/// </summary>
public sealed record MemoryPlan
{
    /// <summary>File bytes of the weights the residency policy keeps (<see cref="WeightResidency.ResidentWeightBytes"/>).</summary>
    public required long ResidentWeightBytes { get; init; }

    /// <summary>What those weights take in RAM: repacked copies where this CPU's kernels repack, the file's pages elsewhere.</summary>
    public required long ResidentWeightRamBytes { get; init; }

    /// <summary>Bytes of repacked copies among <see cref="ResidentWeightRamBytes"/>.</summary>
    public required long RepackedBytes { get; init; }

    /// <summary>Stream buffers (<see cref="WeightResidency.BufferCount"/> x <see cref="WeightResidency.BufferBytes"/>).</summary>
    public required long StreamBufferBytes { get; init; }

    /// <summary>The KV pool (<see cref="PagedKvStore.BytesFor"/>: blocks for every sequence's context, and the KIVI residual).</summary>
    public required long KvBytes { get; init; }

    /// <summary>Activations of one prefill step and one row of logits.</summary>
    public required long ScratchBytes { get; init; }

    /// <summary>The runtime and the parsed header (measured), and what running the forward adds (calibrated).</summary>
    public required long RuntimeBytes { get; init; }

    public long PeakBytes => ResidentWeightRamBytes + StreamBufferBytes + KvBytes + ScratchBytes + RuntimeBytes;

    /// <summary>The KV pool's size for <paramref name="context"/> positions per sequence.</summary>
    public static long KvPoolBytes(ModelConfig c, KvCacheTypes types, int context, int parallel)
    {
        int blockSize = KvElementTypes.DefaultBlockSize(types);
        int blocks = (context + blockSize - 1) / blockSize * parallel;
        return PagedKvStore.BytesFor(c.BlockCount, blocks, blockSize, c.HeadCountKv, c.HeadDim, types, residualSlots: parallel);
    }

    public static MemoryPlan Make(ModelShape shape, WeightResidency residency, PlanSettings settings, long runtimeBytes, PlanCalibration calibration)
    {
        var c = shape.Config;
        int context = settings.ContextFor(c.ContextLength);
        var multiplied = shape.MultipliedMatrices().Select(t => t.Name).ToHashSet();
        long ram = 0, repacked = 0;
        foreach (var t in shape.Tensors)
        {
            if (t.IsVector)
            {
                ram += t.Bytes + t.Rows * t.Cols * 4; // the file's pages and the float copy the model keeps
                continue;
            }
            if (residency.Streams(t.Layer, t.Name))
                continue;
            long layout = multiplied.Contains(t.Name) && WeightMatrix.RepacksOnLoad
                ? WeightMatrix.KernelLayoutBytesFor(t.Type, (int)t.Rows, (int)t.Cols)
                : 0;
            if (layout > 0)
            {
                // The copy covers whole groups of 16 rows; the rest stay in the file's pages, which are released as
                // they are copied. Embedding rows are looked up in the file's pages again, a fault-around each.
                long rowBytes = GgmlTypeInfo.RowBytes(t.Type, t.Cols);
                long gathered = t.Name == Inference.Benchmarking.WeightTraffic.TokenEmbedding
                    ? Math.Min(t.Bytes, (long)context * settings.Parallel * Math.Max(rowBytes, calibration.FaultAroundBytes))
                    : 0;
                ram += layout + t.Rows % 16 * rowBytes + gathered;
                repacked += layout;
            }
            else
            {
                ram += t.Bytes;
            }
        }
        return new MemoryPlan
        {
            ResidentWeightBytes = residency.ResidentWeightBytes,
            ResidentWeightRamBytes = ram,
            RepackedBytes = repacked,
            StreamBufferBytes = (long)residency.BufferCount * residency.BufferBytes,
            KvBytes = KvPoolBytes(c, settings.CacheTypes, context, settings.Parallel),
            ScratchBytes = ForwardScratch.BytesFor(c, settings.PromptTokens) + 4L * c.VocabSize,
            RuntimeBytes = runtimeBytes + calibration.ComputeOverheadBytes,
        };
    }
}
