using Frugal.Gguf;
using Frugal.Numerics;
using Frugal.Numerics.Kernels;

namespace Frugal.Models.Residency;

/// <summary>What a <see cref="WeightStream"/> has read and handed out since the model was loaded.</summary>
/// <param name="UnitsRead">streamed units (a layer's matrices, or the output matrix) read from the file, read-ahead included.</param>
/// <param name="BytesRead">their bytes.</param>
/// <param name="UnitsUsed">units the forward computed with (forward steps x streamed units per step).</param>
/// <param name="BytesUsed">their bytes.</param>
/// <param name="EmbeddingRowsRead">token embedding rows read from the file (a streamed or gathered embedding).</param>
/// <param name="WaitSeconds">time the forward waited for a unit the read-ahead had not finished.</param>
/// <param name="ReadSeconds">time the read-ahead spent in the file reads (pread) of the units it filled.</param>
/// <param name="RepackSeconds">time the read-ahead spent repacking them into the kernel layout.</param>
public readonly record struct WeightStreamCounters(long UnitsRead, long BytesRead, long UnitsUsed, long BytesUsed, long EmbeddingRowsRead, double WaitSeconds,
    double ReadSeconds, double RepackSeconds);

/// <summary>
/// The weights <see cref="WeightResidency"/> streams: every forward step takes the streamed layers (then the output
/// matrix when it streams) in order; a read-ahead thread reads unit s + 1 .. s + readAhead from the file while the
/// forward computes with unit s, each into one of <see cref="WeightResidency.BufferCount"/> buffers (LLM in a flash's
/// bounded window; FlexGen's overlap of I/O and compute). The forward calls <see cref="AcquireLayer"/> /
/// <see cref="ReleaseLayer"/> around each layer; resident layers pass through. Streamed units are repacked into the
/// buffers in the same kernel layout a resident matrix gets at load (<see cref="StreamedMatrix"/>), a slice of rows at
/// a time, so a budgeted run computes exactly what an unbudgeted one does.
/// </summary>
internal sealed class WeightStream : IDisposable
{
    /// <summary>
    /// One matrix of a unit: where it lies in the file and the mapping, and where it goes in a buffer. A row range of a
    /// fused tensor (Phi-3's attn_qkv) starts inside its tensor and spans only its rows.
    /// </summary>
    private readonly record struct Part(WeightMatrix Source, long FileStart, long FileBytes, long Offset, nint Mapped);

    /// <summary>A streamed layer (or the output matrix, Layer -1): its matrices, its file bytes and its buffer bytes.</summary>
    private sealed record Unit(int Layer, Part[] Tensors, long Bytes, long MemoryBytes)
    {
        public LayerWeights[] LayerInSlot = [];     // [slots] the layer's weights bound to each buffer
        public WeightMatrix[] OutputInSlot = [];    // [slots] the output matrix bound to each buffer
    }

    private readonly GgufFile _file;
    private readonly TransformerWeights _weights;
    private readonly Unit[] _units;                 // one step's streamed units, in forward order
    private readonly KernelLayoutBuffer[] _buffers; // [slots] each unit in its kernel layout
    private readonly KernelLayoutBuffer? _staging;  // file rows read before they are repacked; the read-ahead thread's
    private readonly int _slots;
    private readonly int _firstStreamedLayer;
    private readonly bool _outputStreamed;
    private readonly byte[] _embeddingRow;          // [row bytes] one token_embd row read from the file
    private readonly GgufTensorInfo? _embedding;    // token_embd when it is read by rows from the file
    private readonly Thread? _reader;

    private readonly object _gate = new(); // Monitor: the forward waits on the read-ahead and back
    private long _filled;    // units read so far (sequence numbers below it are in their slots)
    private long _released;  // units the forward is done with
    private long _consumed;  // the next unit the forward takes
    private bool _holding;
    private bool _stopping;
    private Exception? _failure;
    private long _unitsRead, _bytesRead, _unitsUsed, _bytesUsed, _embeddingRows, _waitTicks, _readTicks, _repackTicks;

    public WeightStream(GgufFile file, TransformerWeights weights, WeightResidency residency)
    {
        _file = file;
        _weights = weights;
        Residency = residency;
        _slots = Math.Max(residency.BufferCount, 1);
        _firstStreamedLayer = residency.StreamedLayers.Count > 0 ? residency.StreamedLayers[0] : weights.Layers.Length;
        bool tied = ReferenceEquals(weights.Output, weights.TokenEmbedding);
        _outputStreamed = residency.StreamedGlobals.Contains(tied ? "token_embd.weight" : "output.weight");
        if ((tied && _outputStreamed) || residency.EmbeddingGathered)
        {
            _embedding = file.GetTensor("token_embd.weight");
            _embeddingRow = new byte[weights.TokenEmbedding.RowBytes];
        }
        else _embeddingRow = [];

        var units = new List<Unit>();
        foreach (int l in residency.StreamedLayers)
        {
            var w = weights.Layers[l];
            units.Add(MakeUnit(l, [.. w.Matrices()])); // dense layers only: a budget on a mixture-of-experts file is refused at load
        }
        if (_outputStreamed) units.Add(MakeUnit(-1, [weights.Output]));
        _units = [.. units];
        if (_units.Any(u => u.MemoryBytes > residency.BufferBytes))
            throw new InvalidOperationException($"a streamed unit of {_units.Max(u => u.MemoryBytes)} bytes exceeds the policy's buffer of {residency.BufferBytes}");

        _buffers = _units.Length > 0
            ? Enumerable.Range(0, _slots).Select(_ => new KernelLayoutBuffer(residency.BufferBytes)).ToArray()
            : [];
        long staging = _units.SelectMany(u => u.Tensors).Select(p => StreamedMatrix.StagingBytes(p.Source.Type, p.Source.Rows, p.Source.Cols)).DefaultIfEmpty(0).Max();
        if (staging > 0) _staging = new KernelLayoutBuffer(staging);
        StagingBytes = _staging?.Bytes ?? 0;
        foreach (var u in _units) Bind(u);
        // Loading converted the norms to floats, touching (and with fault-around, mapping) some pages of the streamed
        // ranges: give them back so resident memory starts at the budget's resident part.
        foreach (var u in _units)
            foreach (var p in u.Tensors) file.ReleaseResidentPages(p.Mapped, p.FileBytes);

        if (_units.Length > 0)
        {
            _reader = new Thread(ReadAhead) { IsBackground = true, Name = "frugal weight read-ahead" };
            _reader.Start();
        }
    }

    public WeightResidency Residency { get; }

    /// <summary>Memory beside the budget's buffers: the slice of file rows read before it is repacked.</summary>
    public long StagingBytes { get; }

    /// <summary>Whether <see cref="EmbeddingRow"/> must be used instead of the embedding matrix (its pages are not resident).</summary>
    public bool EmbeddingFromFile => _embedding is not null;

    public WeightStreamCounters Counters
    {
        get
        {
            lock (_gate)
            {
                double f = System.Diagnostics.Stopwatch.Frequency;
                return new(_unitsRead, _bytesRead, _unitsUsed, _bytesUsed, _embeddingRows, _waitTicks / f, _readTicks / f, _repackTicks / f);
            }
        }
    }

    private Unit MakeUnit(int layer, WeightMatrix[] matrices)
    {
        var parts = new Part[matrices.Length];
        long offset = 0;
        int i = 0;
        long FileStart(WeightMatrix m)
        {
            var t = _file.GetTensor(m.Name);
            return t.FileOffset + (m.Data - _file.DataPointer(t));
        }
        foreach (var m in matrices.OrderBy(FileStart))
        {
            parts[i++] = new Part(m, FileStart(m), GgmlTypeInfo.RowBytes(m.Type, m.Cols) * m.Rows, offset, m.Data);
            offset += StreamedMatrix.Bytes(m.Type, m.Rows, m.Cols);
        }
        return new Unit(layer, parts, parts.Sum(p => p.FileBytes), offset);
    }

    /// <summary>The unit's matrices as the forward sees them in each slot, in this CPU's kernel layout.</summary>
    private void Bind(Unit u)
    {
        WeightMatrix In(WeightMatrix m, int slot)
        {
            var p = u.Tensors.First(t => ReferenceEquals(t.Source, m));
            return StreamedMatrix.Bind(m.Type, m.Rows, m.Cols, m.Name, _buffers[slot].Address + (nint)p.Offset);
        }
        if (u.Layer >= 0)
            u.LayerInSlot = Enumerable.Range(0, _slots).Select(s => _weights.Layers[u.Layer].WithMatrices(m => In(m, s))).ToArray();
        else
            u.OutputInSlot = Enumerable.Range(0, _slots).Select(s => In(_weights.Output, s)).ToArray();
    }

    /// <summary>
    /// Reads unit <paramref name="u"/> into buffer <paramref name="slot"/> (the read-ahead thread) with pread, slice by
    /// slice (into the staging slice and repacked, or straight into place). pread beat madvise WILLNEED + touching the
    /// mapping + DONTNEED in every cgroup-limited run measured, and posix_fadvise WILLNEED ahead of the slices (a whole
    /// layer, or three slices) made the page cache thrash at the cgroup limit: decode fell to 29-33% of the disk's rate
    /// (bench/mem-budget.md).
    /// </summary>
    private void Fill(Unit u, int slot)
    {
        long readTicks = 0, repackTicks = 0;
        foreach (var p in u.Tensors)
        {
            var m = p.Source;
            long start = p.FileStart;
            var (read, repack) = StreamedMatrix.Fill(m.Type, m.Rows, m.Cols, _buffers[slot].Address + (nint)p.Offset,
                (offset, bytes, dst) => _file.Read(start + offset, bytes, dst), _staging?.Address ?? 0);
            readTicks += read;
            repackTicks += repack;
        }
        lock (_gate)
        {
            _readTicks += readTicks;
            _repackTicks += repackTicks;
        }
    }

    /// <summary>Starts a forward step: a step that failed half-way leaves units unused; they are passed over here.</summary>
    public void BeginStep()
    {
        if (_holding) Release();
        while (_units.Length > 0 && _consumed % _units.Length != 0)
        {
            Acquire(_consumed % _units.Length);
            Release(counted: false);
        }
    }

    /// <summary>Layer <paramref name="layer"/>'s weights, waiting for the read-ahead when the layer streams.</summary>
    public LayerWeights AcquireLayer(int layer) =>
        layer < _firstStreamedLayer ? _weights.Layers[layer] : Acquire(layer - _firstStreamedLayer).LayerInSlot[Slot];

    public void ReleaseLayer(int layer)
    {
        if (layer >= _firstStreamedLayer) Release();
    }

    /// <summary>The output matrix (the tied embedding included), waiting for the read-ahead when it streams.</summary>
    public WeightMatrix AcquireOutput() => _outputStreamed ? Acquire(_units.Length - 1).OutputInSlot[Slot] : _weights.Output;

    public void ReleaseOutput()
    {
        if (_outputStreamed) Release();
    }

    /// <summary>A step that wants no logits still passes the streamed output, so the read-ahead order holds.</summary>
    public void SkipOutput()
    {
        if (!_outputStreamed) return;
        Acquire(_units.Length - 1);
        Release(counted: false);
    }

    /// <summary>Token <paramref name="token"/>'s embedding row, read from the file (pread) and dequantized.</summary>
    public void EmbeddingRow(int token, Span<float> destination)
    {
        var e = _weights.TokenEmbedding;
        if ((uint)token >= (uint)e.Rows) throw new ArgumentOutOfRangeException(nameof(token), $"row {token} of '{e.Name}' (rows: {e.Rows})");
        _file.Read(_embedding!.FileOffset + token * e.RowBytes, _embeddingRow);
        Dequantize.Row(e.Type, _embeddingRow, destination[..e.Cols]);
        Interlocked.Increment(ref _embeddingRows);
    }

    private int Slot => (int)(_consumed % _slots);

    private Unit Acquire(long unitIndex)
    {
        if (_holding) throw new InvalidOperationException("a streamed unit is already in use; release it first");
        if (_consumed % _units.Length != unitIndex)
            throw new InvalidOperationException($"streamed weights taken out of order: unit {unitIndex} asked, unit {_consumed % _units.Length} is next");
        long seq = _consumed;
        lock (_gate)
        {
            if (_filled <= seq)
            {
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                while (_filled <= seq && _failure is null) Monitor.Wait(_gate);
                _waitTicks += System.Diagnostics.Stopwatch.GetTimestamp() - t0;
            }
            if (_failure is not null)
                throw new IOException($"reading streamed weights from '{_file.Path}' failed: {_failure.Message}", _failure);
        }
        _holding = true;
        return _units[unitIndex];
    }

    private void Release(bool counted = true)
    {
        var u = _units[_consumed % _units.Length];
        _holding = false;
        _consumed++;
        lock (_gate)
        {
            _released = _consumed;
            if (counted) { _unitsUsed++; _bytesUsed += u.Bytes; }
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>The read-ahead thread: unit s goes into slot s mod slots once the forward has released unit s - slots.</summary>
    private void ReadAhead()
    {
        try
        {
            for (long seq = 0; ; seq++)
            {
                lock (_gate)
                {
                    while (!_stopping && seq >= _released + _slots) Monitor.Wait(_gate);
                    if (_stopping) return;
                }
                var u = _units[seq % _units.Length];
                int slot = (int)(seq % _slots);
                Fill(u, slot);
                lock (_gate)
                {
                    _filled = seq + 1;
                    _unitsRead++;
                    _bytesRead += u.Bytes;
                    Monitor.PulseAll(_gate);
                }
            }
        }
        catch (Exception e) when (e is not ThreadInterruptedException)
        {
            lock (_gate)
            {
                _failure = e;
                Monitor.PulseAll(_gate);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        _reader?.Join();
        foreach (var b in _buffers) b.Dispose();
        _staging?.Dispose();
    }
}
