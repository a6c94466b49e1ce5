using System.Diagnostics;
using Frugal.Numerics.Kernels;

namespace Frugal.Numerics;

/// <summary>
/// A weight matrix's place in memory the caller owns (a stream buffer under a memory budget), in the layout this CPU's
/// kernels read: the repacked groups of 16 rows followed by the rows past the last group in block layout, or the file's
/// rows as they are where the type does not repack. The same layout <see cref="WeightMatrix.PrepareKernelLayout"/>
/// makes at load, so a streamed layer runs the same kernel, and gives the same numbers, as a resident one.
/// </summary>
public static unsafe class StreamedMatrix
{
    /// <summary>Rows read and repacked at a time from a staging buffer (64 groups of 16).</summary>
    private const int SliceRows = 1024;

    private static WeightType TypeOf(GgmlType type, string name) =>
        WeightTypes.Find(type) is { IsWeight: true } w ? w
            : throw new NotSupportedException($"tensor '{name}' has type {GgmlTypeInfo.Name(type)}, which is not supported");

    private static bool Repacks(WeightType w, int rows, int cols) =>
        WeightMatrix.RepacksOnLoad && w.Repacks(KernelDispatch.Best) && w.RepackedBytes(rows, cols) > 0;

    /// <summary>Bytes a [rows, cols] matrix of <paramref name="type"/> takes in memory as the kernels of this CPU read it.</summary>
    public static long Bytes(GgmlType type, int rows, int cols)
    {
        long rowBytes = GgmlTypeInfo.RowBytes(type, cols);
        var w = WeightTypes.Find(type);
        if (w is not { IsWeight: true } || !Repacks(w, rows, cols)) return rows * rowBytes;
        return w.RepackedBytes(rows, cols) + (rows - rows / 16 * 16) * rowBytes;
    }

    /// <summary>Bytes of staging <see cref="Fill"/> needs for this matrix (0 when it is read straight into place).</summary>
    public static long StagingBytes(GgmlType type, int rows, int cols) =>
        Repacks(TypeOf(type, ""), rows, cols) ? Math.Min(rows / 16 * 16, SliceRows) * GgmlTypeInfo.RowBytes(type, cols) : 0;

    /// <summary>The matrix over <paramref name="area"/> (<see cref="Bytes"/> long), once <see cref="Fill"/> has filled it.</summary>
    public static WeightMatrix Bind(GgmlType type, int rows, int cols, string name, nint area)
    {
        var w = TypeOf(type, name);
        if (!Repacks(w, rows, cols)) return new WeightMatrix(type, area, rows, cols, name);
        long rowBytes = GgmlTypeInfo.RowBytes(type, cols), packed = w.RepackedBytes(rows, cols);
        // Data is only read for rows past the grouped ones, which lie right after the groups.
        nint data = area + (nint)packed - (nint)(rows / 16 * 16 * rowBytes);
        return new WeightMatrix(type, data, rows, cols, name, area);
    }

    /// <summary>
    /// Fills <paramref name="area"/> with the matrix whose rows in block layout <paramref name="read"/> delivers
    /// (offset into the rows, bytes, destination): straight into place, or slice by slice through
    /// <paramref name="staging"/> (<see cref="StagingBytes"/>) and repacked. Returns the Stopwatch ticks spent in
    /// <paramref name="read"/> and in the repack, which the streaming reader counts and the planner's probe times.
    /// </summary>
    public static (long ReadTicks, long RepackTicks) Fill(GgmlType type, int rows, int cols, nint area, Action<long, long, nint> read, nint staging)
    {
        var w = TypeOf(type, "");
        long rowBytes = GgmlTypeInfo.RowBytes(type, cols), readTicks = 0, repackTicks = 0;
        void Read(long offset, long bytes, nint destination)
        {
            long t0 = Stopwatch.GetTimestamp();
            read(offset, bytes, destination);
            readTicks += Stopwatch.GetTimestamp() - t0;
        }
        if (!Repacks(w, rows, cols))
        {
            Read(0, rows * rowBytes, area);
            return (readTicks, 0);
        }
        int grouped = rows / 16 * 16;
        long groupBytes = w.RepackedBytes(16, cols);
        for (int r0 = 0; r0 < grouped; r0 += SliceRows)
        {
            int count = Math.Min(SliceRows, grouped - r0);
            Read(r0 * rowBytes, count * rowBytes, staging);
            long t0 = Stopwatch.GetTimestamp();
            w.Repack((byte*)staging, rowBytes, count, cols, (byte*)area + r0 / 16 * groupBytes);
            repackTicks += Stopwatch.GetTimestamp() - t0;
        }
        if (grouped < rows)
            Read(grouped * rowBytes, (rows - grouped) * rowBytes, area + (nint)w.RepackedBytes(rows, cols));
        return (readTicks, repackTicks);
    }
}
