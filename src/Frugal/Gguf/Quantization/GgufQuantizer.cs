using System.Runtime.InteropServices;
using Frugal.Numerics;

namespace Frugal.Gguf.Quantization;

/// <summary>
/// Quantizes a GGUF model file as llama.cpp's <c>llama-quantize</c> does without an importance matrix: the same tensor
/// types (<see cref="TensorTypeRecipe"/>), the same bytes per tensor (the quantizers of Numerics/Quant follow ggml's
/// quantize_row_*_ref), the same tensor order and metadata (the input's keys, then general.quantization_version = 2 and
/// general.file_type). The output is streamed one tensor at a time: memory holds the mapped input and one batch of rows.
/// </summary>
public static class GgufQuantizer
{
    /// <summary>ggml's GGML_QNT_VERSION: the block layouts of the current quantization formats.</summary>
    public const uint QuantizationVersion = 2;

    private static readonly string[] SplitKeys = ["split.no", "split.count", "split.tensors.count"];

    /// <summary>Chooses every tensor's type and checks that each conversion can be made, before anything is written.</summary>
    /// <exception cref="NotSupportedException">A tensor cannot be converted; the message names it and why.</exception>
    public static QuantizationPlan Plan(GgufFile input, QuantizeOptions options)
    {
        if (input.GetInt("split.count") is > 1)
            throw new NotSupportedException($"'{input.Path}' is one part of a split model: merge the parts first (llama-gguf-split --merge)");
        var recipe = new TensorTypeRecipe(options.FileType, QuantizedModelShape.Of(input), input.Tensors.Select(t => t.Name), options.Pure);
        var tensors = new List<TensorQuantization>();
        foreach (var t in TensorTypeRecipe.Order(input.Tensors))
        {
            var to = recipe.Choose(t);
            if (to != t.Type)
                CheckConvertible(t, to, options);
            tensors.Add(new TensorQuantization(t.Name, t.Dimensions, t.Type, to, t.ByteSize, GgmlTypeInfo.RowBytes(to, t.ElementCount)));
        }
        return new QuantizationPlan(options.FileType, options.Pure, tensors, recipe.Fallbacks);
    }

    private static void CheckConvertible(GgufTensorInfo t, GgmlType to, QuantizeOptions options)
    {
        string from = GgmlTypeInfo.Name(t.Type);
        if (!Dequantize.IsSupported(t.Type))
            throw new NotSupportedException($"tensor '{t.Name}' is {from}, a type Frugal cannot read back into floats, so it cannot be converted to {GgmlTypeInfo.Name(to)}");
        if (t.Type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16) && !options.AllowRequantize)
            throw new NotSupportedException($"tensor '{t.Name}' is already quantized ({from}); quantizing it again to {GgmlTypeInfo.Name(to)} loses quality twice. Start from the F16/BF16/F32 file, or pass --allow-requantize");
        if (!Quantize.CanQuantizeTo(to))
            throw new NotSupportedException($"tensor '{t.Name}': Frugal cannot quantize to {GgmlTypeInfo.Name(to)}");
    }

    /// <summary>
    /// Writes <paramref name="outputPath"/> (through a .partial file moved into place at the end, so a failed or
    /// cancelled run leaves no half-written model). <paramref name="progress"/> is called from the writing thread.
    /// </summary>
    /// <exception cref="ArgumentException">The output path is the input file.</exception>
    public static QuantizationResult Run(string inputPath, string outputPath, QuantizeOptions options,
        Action<QuantizationProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (options.Threads < 1)
            throw new ArgumentException($"threads: expected at least 1, got {options.Threads}", nameof(options));
        if (string.Equals(Path.GetFullPath(inputPath), Path.GetFullPath(outputPath), OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
            throw new ArgumentException($"OUT is the input file '{inputPath}': write the quantized model to another path", nameof(outputPath));
        using var input = GgufFile.Open(inputPath);
        var plan = Plan(input, options);

        var writer = new GgufWriter(3, input.Alignment);
        foreach (var key in input.MetadataKeys)
            if (!SplitKeys.Contains(key))
                writer.Add(key, input.Metadata[key]);
        writer.Add("general.quantization_version", QuantizationVersion);
        writer.Add("general.file_type", options.FileType.Id);
        for (int i = 0; i < plan.Tensors.Count; i++)
        {
            var job = new TensorJob(input, input.GetTensor(plan.Tensors[i].Name), plan, i, options.Threads, progress, cancellation);
            writer.AddTensor(job.Plan.Name, job.Plan.To, job.Plan.Dimensions, job.Write);
        }

        string partial = outputPath + ".partial";
        try
        {
            using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                writer.WriteTo(stream);
                // llama.cpp pads after every tensor, the last one too (the data section starts aligned, so padding the
                // file's length pads the last tensor).
                stream.Write(new byte[GgufReader.AlignUp(stream.Position, input.Alignment) - stream.Position]);
            }
            File.Move(partial, outputPath, overwrite: true);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
        return new QuantizationResult(plan, outputPath, input.Length, new FileInfo(outputPath).Length);
    }

    /// <summary>One tensor's bytes, produced when the writer reaches it.</summary>
    private sealed unsafe class TensorJob(GgufFile input, GgufTensorInfo source, QuantizationPlan file, int index, int threads,
        Action<QuantizationProgress>? progress, CancellationToken cancellation)
    {
        // Rows are converted in batches of about this many output bytes: memory stays bounded for any tensor size.
        private const long BatchBytes = 64L << 20;

        public TensorQuantization Plan { get; } = file.Tensors[index];

        public void Write(Stream output)
        {
            progress?.Invoke(new QuantizationProgress(file, index, 0));
            byte* data = (byte*)input.DataPointer(source);
            if (!Plan.Converts)
                Copy(data, source.ByteSize, output);
            else
                Convert(data, output);
            progress?.Invoke(new QuantizationProgress(file, index, 1));
        }

        /// <summary>Progress within the tensor; its start (0) and end (1) are reported once each, by <see cref="Write"/>.</summary>
        private void Report(double fraction)
        {
            if (fraction < 1) progress?.Invoke(new QuantizationProgress(file, index, fraction));
        }

        private void Copy(byte* data, long bytes, Stream output)
        {
            for (long done = 0; done < bytes;)
            {
                cancellation.ThrowIfCancellationRequested();
                int n = (int)Math.Min(BatchBytes, bytes - done);
                output.Write(new ReadOnlySpan<byte>(data + done, n));
                done += n;
                Report((double)done / bytes);
            }
        }

        private void Convert(byte* data, Stream output)
        {
            int columns = checked((int)source.RowLength);
            long rows = source.RowCount;
            long inRow = GgmlTypeInfo.RowBytes(Plan.From, columns), outRow = GgmlTypeInfo.RowBytes(Plan.To, columns);
            long batchRows = Math.Max(1, Math.Min(rows, BatchBytes / outRow));
            var buffer = new byte[batchRows * outRow];
            // llama.cpp hands threads chunks of at least 32 * 512 elements; the bytes do not depend on the split.
            int chunkRows = Math.Max(1, 16384 / columns);
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellation };
            for (long first = 0; first < rows; first += batchRows)
            {
                long count = Math.Min(batchRows, rows - first);
                int chunks = (int)((count + chunkRows - 1) / chunkRows);
                try
                {
                    Parallel.For(0, chunks, parallel, () => new float[columns], (c, _, floats) =>
                    {
                        long end = Math.Min(count, (long)(c + 1) * chunkRows);
                        for (long r = (long)c * chunkRows; r < end; r++)
                            ConvertRow(data + (first + r) * inRow, (int)inRow, floats, buffer.AsSpan((int)(r * outRow), (int)outRow), first + r);
                        return floats;
                    }, _ => { });
                }
                catch (AggregateException e) when (e.InnerExceptions.Count > 0)
                {
                    // A row's own error (a NaN weight) is the user's to see, not the thread pool's wrapper.
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
                }
                output.Write(buffer, 0, (int)(count * outRow));
                Report((double)(first + count) / rows);
            }
        }

        private void ConvertRow(byte* src, int srcBytes, float[] floats, Span<byte> dst, long row)
        {
            var bytes = new ReadOnlySpan<byte>(src, srcBytes);
            ReadOnlySpan<float> values = Plan.From == GgmlType.F32 ? MemoryMarshal.Cast<byte, float>(bytes) : floats;
            if (Plan.From != GgmlType.F32)
                Dequantize.Row(Plan.From, bytes, floats);
            foreach (float v in values)
                if (!float.IsFinite(v))
                    throw new InvalidDataException($"tensor '{Plan.Name}' row {row} holds {v}: a model with NaN or infinite weights cannot be quantized");
            Quantize.Row(Plan.To, values, dst);
        }
    }
}
