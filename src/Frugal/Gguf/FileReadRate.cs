using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Frugal.Gguf;

/// <summary>One timed sequential read of a file range.</summary>
public readonly record struct FileReadSample(long Bytes, double Seconds)
{
    public double BytesPerSecond => Bytes / Math.Max(Seconds, 1e-9);
}

/// <summary>
/// The sequential read rate of a file from the device (O_DIRECT, so what the page cache holds changes nothing and the
/// measurement leaves the cache as it was). <c>frugal plan</c> reads a slice of the model file itself, so the figure is
/// the rate of the disk the model lies on. (The page cache's rate is measured as the stream reads:
/// <c>StreamFillProbe</c>.)
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
            return read == 0 ? null : new FileReadSample(read, seconds);
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
            _ = Close(fd);
        }
    }

    /// <summary>
    /// Reads <paramref name="bytes"/> of the file at <paramref name="offset"/> into native memory with positioned reads
    /// (pread, through the page cache), as the streaming reader reads a slice. For probes that time those reads.
    /// </summary>
    /// <exception cref="EndOfStreamException">the file ends before the range does (the message names the byte).</exception>
    public static void ReadInto(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long offset, long bytes, nint destination)
    {
        while (bytes > 0)
        {
            int n = RandomAccess.Read(handle, new Span<byte>((byte*)destination, (int)Math.Min(bytes, 1 << 30)), offset);
            if (n <= 0) throw new EndOfStreamException($"the file ended at byte {offset} while reading {bytes} more bytes");
            destination += n;
            offset += n;
            bytes -= n;
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "pread", SetLastError = true)]
    private static extern nint Pread(int fd, byte* buffer, nuint count, long offset);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);
}
