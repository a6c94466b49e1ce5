using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Frugal.Gguf;

/// <summary>How a <see cref="FileReadRate"/> measurement read the file, which says what its rate means.</summary>
public enum FileReadMode
{
    /// <summary>O_DIRECT: the page cache is bypassed (neither read from nor filled), so the rate is the device's.</summary>
    Direct,

    /// <summary>An ordinary read, after the same range was read once: the rate of a read the page cache serves.</summary>
    PageCache,
}

/// <summary>One timed sequential read of a file range.</summary>
public readonly record struct FileReadSample(FileReadMode Mode, long Bytes, double Seconds)
{
    public double BytesPerSecond => Bytes / Math.Max(Seconds, 1e-9);
}

/// <summary>
/// Sequential read rates of a file as a streaming loader sees them: from the device (O_DIRECT, so what the page cache
/// holds changes nothing and the measurement leaves the cache as it was) and from the page cache (a second ordinary
/// read of a range just read). <c>frugal plan</c> reads a slice of the model file itself, so the figure is the rate of
/// the disk the model lies on.
/// </summary>
public static unsafe class FileReadRate
{
    private const int Alignment = 4096;   // O_DIRECT needs buffer, offset and length aligned to the logical block
    private const int ChunkBytes = 4 << 20;

    /// <summary>
    /// Reads up to <paramref name="maxBytes"/> of <paramref name="path"/> from <paramref name="offset"/> with O_DIRECT
    /// in 4 MiB chunks, stopping after <paramref name="maxSeconds"/>. Null where O_DIRECT is not available (not
    /// Linux, or a file system that refuses it: tmpfs), so the caller can say the disk rate is unknown.
    /// </summary>
    public static FileReadSample? Direct(string path, long offset, long maxBytes, double maxSeconds)
    {
        if (!OperatingSystem.IsLinux() || (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64)))
            return null;
        int flags = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 0x4000 : 0x10000; // O_DIRECT differs by ABI
        int fd = Open(path, flags /* | O_RDONLY (0) */);
        if (fd < 0) return null;
        byte* buffer = (byte*)NativeMemory.AlignedAlloc(ChunkBytes, Alignment);
        try
        {
            long at = offset & ~(long)(Alignment - 1), read = 0;
            long start = Stopwatch.GetTimestamp();
            while (read < maxBytes && Stopwatch.GetElapsedTime(start).TotalSeconds < maxSeconds)
            {
                nint n = Pread(fd, buffer, ChunkBytes, at);
                if (n <= 0) break;
                read += n;
                at += n;
            }
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            return read == 0 ? null : new FileReadSample(FileReadMode.Direct, read, seconds);
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
            _ = Close(fd);
        }
    }

    /// <summary>
    /// Reads [<paramref name="offset"/>, + <paramref name="bytes"/>) of <paramref name="path"/> twice through the page
    /// cache and times the second read: the rate at which the cache serves a file it holds (a memory copy).
    /// </summary>
    public static FileReadSample PageCache(string path, long offset, long bytes)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.SequentialScan);
        var buffer = GC.AllocateUninitializedArray<byte>(ChunkBytes);
        long length = Math.Min(bytes, RandomAccess.GetLength(handle) - offset);
        ReadRange(handle, buffer, offset, length);
        // The median of three timed reads: one read of 64 MiB ranged 5-27 GB/s from run to run on the dev VM.
        var samples = new (long Read, double Seconds)[3];
        for (int i = 0; i < samples.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            long read = ReadRange(handle, buffer, offset, length);
            samples[i] = (read, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        var median = samples.OrderBy(x => x.Seconds).ElementAt(1);
        return new FileReadSample(FileReadMode.PageCache, median.Read, median.Seconds);
    }

    private static long ReadRange(Microsoft.Win32.SafeHandles.SafeFileHandle handle, byte[] buffer, long offset, long length)
    {
        long read = 0;
        while (read < length)
        {
            int n = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - read)), offset + read);
            if (n <= 0) break;
            read += n;
        }
        return read;
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "pread", SetLastError = true)]
    private static extern nint Pread(int fd, byte* buffer, nuint count, long offset);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);
}
