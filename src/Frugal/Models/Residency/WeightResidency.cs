using System.Globalization;
using Frugal.Gguf;
using Frugal.Numerics;

namespace Frugal.Models.Residency;

/// <summary>
/// One weight tensor as the residency policy sees it: its bytes in the file, its layer (-1 outside the layers), and
/// the bytes it takes in memory once loaded (<see cref="MemoryBytes"/>; the same by default).
/// </summary>
public readonly record struct WeightTensor(string Name, long Bytes, int Layer, bool IsVector)
{
    private readonly long? _memoryBytes;

    /// <summary>
    /// Bytes in memory as this CPU's kernels read it: a matrix repacked into a kernel layout at load (Q8_0 +6% on
    /// AVX-512, Q5_0 widened to Q8_0) takes that layout's size, resident or in a stream buffer.
    /// </summary>
    public long MemoryBytes { get => _memoryBytes ?? Bytes; init => _memoryBytes = value; }

    /// <summary>From a GGUF directory entry: <c>blk.N.*</c> belongs to layer N; 1-D tensors are vectors.</summary>
    public static WeightTensor From(GgufTensorInfo t)
    {
        bool vector = t.Dimensions.Count(d => d > 1) <= 1;
        var w = new WeightTensor(t.Name, t.ByteSize, LayerOf(t.Name), vector);
        return vector || t.Dimensions.Length < 2 || t.RowCount > int.MaxValue || t.Dimensions[0] > int.MaxValue
            ? w
            : w with { MemoryBytes = StreamedMatrix.Bytes(t.Type, (int)t.RowCount, (int)t.Dimensions[0]) };
    }

    public static int LayerOf(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return -1;
        int dot = name.IndexOf('.', 4);
        return dot > 4 && int.TryParse(name.AsSpan(4, dot - 4), NumberStyles.None, CultureInfo.InvariantCulture, out int layer)
            ? layer
            : -1;
    }
}

/// <summary>
/// Which weights stay resident under a RAM budget for weights, and which are streamed from the file as the forward
/// reaches them (LLM in a flash, FlexGen). The one policy both the streaming loader and <c>frugal plan</c> use:
/// <list type="number">
/// <item>every vector (norms, biases, rope factors: 1-D tensors) is pinned, whatever the budget (they are tiny and
/// read by every layer);</item>
/// <item>with no budget, or a budget the whole model fits in, everything is resident and nothing is streamed;</item>
/// <item>otherwise the non-layer matrices (<c>output</c>, then <c>token_embd</c>) are pinned if they fit beside the
/// stream buffers, else streamed each step like a layer; except an untied <c>token_embd</c> (the file has an
/// <c>output</c>), which only gathers a row per token: when it does not fit it stays on disk and each token's row is
/// read from the file (<see cref="EmbeddingGathered"/>), which needs no buffer and adds no bytes per step;</item>
/// <item>whole layers are resident from layer 0 up while pinned + resident layers + buffers fit the budget; the rest
/// are streamed, in order, through <c>readAhead + 1</c> buffers each the size of the largest streamed unit (the one
/// being computed and <c>readAhead</c> being read).</item>
/// </list>
/// Resident layers come first so the read-ahead of the first streamed layer overlaps the resident layers' compute.
/// </summary>
public sealed record WeightResidency
{
    /// <summary>The budget asked for (bytes); null: no budget.</summary>
    public long? Budget { get; init; }

    /// <summary>Layers 0..ResidentLayerCount-1 stay resident; the rest are streamed.</summary>
    public int ResidentLayerCount { get; init; }

    public int LayerCount { get; init; }

    /// <summary>Layers read from the file each forward step, in order.</summary>
    public IReadOnlyList<int> StreamedLayers { get; init; } = [];

    /// <summary>Non-layer matrices (<c>output</c>, <c>token_embd</c>) that did not fit and are streamed each step.</summary>
    public IReadOnlyList<string> StreamedGlobals { get; init; } = [];

    /// <summary>Whether the tensor <paramref name="name"/> of <paramref name="layer"/> (-1: a global) is read from the file each step.</summary>
    public bool Streams(int layer, string name) => layer >= 0 ? StreamedLayers.Contains(layer) : StreamedGlobals.Contains(name);

    /// <summary>
    /// An untied <c>token_embd</c> that did not fit: neither resident nor streamed whole; each token's row is read from
    /// the file when the forward needs it (a row per token, not counted in <see cref="StreamedBytes"/>).
    /// </summary>
    public bool EmbeddingGathered { get; init; }

    /// <summary>Vectors, pinned non-layer matrices and resident layers.</summary>
    public long ResidentWeightBytes { get; init; }

    /// <summary>The stream buffers: <see cref="BufferCount"/> x <see cref="BufferBytes"/>.</summary>
    public int BufferCount { get; init; }

    public long BufferBytes { get; init; }

    /// <summary>Bytes read from the file per forward step (every streamed layer and global once, in file layout).</summary>
    public long StreamedBytes { get; init; }

    /// <summary>What the weights hold in RAM at most: resident weights plus the stream buffers.</summary>
    public long PeakWeightBytes => ResidentWeightBytes + BufferCount * BufferBytes;

    /// <summary>Some weights are read from the file while the model runs (streamed units or gathered embedding rows).</summary>
    public bool IsStreaming => StreamedBytes > 0 || EmbeddingGathered;

    /// <summary>
    /// Splits <paramref name="tensors"/> under <paramref name="budget"/> (null: no budget). Throws an
    /// <see cref="ArgumentException"/> naming the smallest workable budget when even the vectors and the stream
    /// buffers do not fit.
    /// </summary>
    public static WeightResidency Plan(IReadOnlyList<WeightTensor> tensors, long? budget, int readAhead = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(readAhead);
        int layers = tensors.Count == 0 ? 0 : tensors.Max(t => t.Layer) + 1;
        // Budget arithmetic is in memory bytes (kernel layouts); bytes read per step are the file's.
        long vectors = tensors.Where(t => t.IsVector).Sum(t => t.MemoryBytes);
        var layerBytes = new long[layers];
        var layerFileBytes = new long[layers];
        foreach (var t in tensors.Where(t => !t.IsVector && t.Layer >= 0))
        {
            layerBytes[t.Layer] += t.MemoryBytes;
            layerFileBytes[t.Layer] += t.Bytes;
        }
        // output first: it is read every step; token_embd only gathers rows in decode.
        var globals = tensors.Where(t => !t.IsVector && t.Layer < 0)
            .OrderBy(t => t.Name == "output.weight" ? 0 : 1).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();
        long total = vectors + layerBytes.Sum() + globals.Sum(t => t.MemoryBytes);

        if (budget is null || budget.Value >= total)
            return new WeightResidency
            {
                Budget = budget, LayerCount = layers, ResidentLayerCount = layers, ResidentWeightBytes = total,
            };

        int buffers = readAhead + 1;
        long b = budget.Value;
        // The buffer must hold the largest unit that may stream: any layer, or a global that does not fit.
        long largestLayer = layers == 0 ? 0 : layerBytes.Max();
        // Admit globals greedily; one that does not fit streams, which may grow the buffers and push out one admitted
        // before it, so repeat until nothing changes (the streamed set only grows).
        bool untied = globals.Any(g => g.Name == "output.weight");
        bool Gathered(WeightTensor g) => untied && g.Name == "token_embd.weight";
        var streamedGlobals = new List<WeightTensor>();
        long resident, bufferSize;
        while (true)
        {
            var units = streamedGlobals.Where(g => !Gathered(g)).ToList();
            bufferSize = Math.Max(largestLayer, units.Count == 0 ? 0 : units.Max(g => g.MemoryBytes));
            resident = vectors;
            bool changed = false;
            foreach (var g in globals.Where(g => !streamedGlobals.Contains(g)))
            {
                if (resident + g.MemoryBytes + buffers * bufferSize <= b) resident += g.MemoryBytes;
                else { streamedGlobals.Add(g); changed = true; }
            }
            if (!changed) break;
        }
        bool embeddingGathered = streamedGlobals.Any(Gathered);
        streamedGlobals.RemoveAll(Gathered);
        long minimum = vectors + buffers * bufferSize;
        if (minimum > b)
            throw new ArgumentException(
                $"memory budget {ByteSize.Format(b)} is too small for this model: the norms and {buffers} stream buffers " +
                $"of {ByteSize.Format(bufferSize)} (its largest layer{(streamedGlobals.Count > 0 ? " or output/embedding matrix" : "")}) " +
                $"need at least {ByteSize.Format(minimum)}");
        int residentLayers = 0;
        while (residentLayers < layers && resident + layerBytes[residentLayers] + buffers * bufferSize <= b)
            resident += layerBytes[residentLayers++];
        var streamed = Enumerable.Range(residentLayers, layers - residentLayers).ToList();
        long streamedBytes = streamed.Sum(l => layerFileBytes[l]) + streamedGlobals.Sum(g => g.Bytes);
        if (streamedBytes == 0)
            return new WeightResidency
            {
                Budget = budget, LayerCount = layers, ResidentLayerCount = layers, ResidentWeightBytes = resident,
                EmbeddingGathered = embeddingGathered,
            };
        return new WeightResidency
        {
            Budget = budget,
            LayerCount = layers,
            ResidentLayerCount = residentLayers,
            StreamedLayers = streamed,
            StreamedGlobals = streamedGlobals.Select(g => g.Name).ToList(),
            EmbeddingGathered = embeddingGathered,
            ResidentWeightBytes = resident,
            BufferCount = buffers,
            BufferBytes = bufferSize,
            StreamedBytes = streamedBytes,
        };
    }

    /// <summary>The split for a GGUF file's tensor directory (reads nothing but the header).</summary>
    public static WeightResidency Plan(GgufFile file, long? budget, int readAhead = 1) =>
        Plan(file.Tensors.Select(WeightTensor.From).ToList(), budget, readAhead);
}
