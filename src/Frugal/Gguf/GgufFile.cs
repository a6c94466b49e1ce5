using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Frugal.Gguf;

/// <summary>
/// An open GGUF file: metadata, tensor directory, and zero-copy views of tensor data. Opened from a path the
/// file is memory-mapped read-only, so weights are paged in by the OS on first touch and never copied.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private GCHandle _pin;
    private byte* _base;
    private readonly Dictionary<string, GgufTensorInfo> _byName;

    private GgufFile(string? path, MemoryMappedFile? map, MemoryMappedViewAccessor? view, GCHandle pin, byte* basePtr, long length)
    {
        Path = path;
        _map = map;
        _view = view;
        _pin = pin;
        _base = basePtr;
        Length = length;
        try
        {
            var r = new GgufReader(basePtr, length, path).Parse();
            Version = r.Version;
            Metadata = r.Metadata;
            MetadataKeys = r.MetadataOrder;
            Tensors = r.Tensors;
            DataOffset = r.DataOffset;
            Alignment = r.Alignment;
            _byName = r.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Memory-maps and parses a GGUF file.</summary>
    /// <exception cref="FileNotFoundException">no file at <paramref name="path"/>.</exception>
    /// <exception cref="GgufFormatException">the file is not a valid GGUF v2/v3 file.</exception>
    public static GgufFile Open(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"model file not found: '{path}'", full);
        long length = new FileInfo(full).Length;
        if (length == 0)
            throw new GgufFormatException("magic", 0, "the file is empty: not a GGUF file", path);
        var map = MemoryMappedFile.CreateFromFile(full, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            p += view.PointerOffset;
            return new GgufFile(path, map, view, default, p, length);
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>Parses a GGUF image held in memory (tests, fuzzing, files received over the network).</summary>
    public static GgufFile FromBytes(byte[] bytes, string? name = null)
    {
        var pin = GCHandle.Alloc(bytes, GCHandleType.Pinned);
        return new GgufFile(name, null, null, pin, (byte*)pin.AddrOfPinnedObject(), bytes.Length);
    }

    public string? Path { get; }

    public long Length { get; }

    public uint Version { get; }

    public uint Alignment { get; }

    /// <summary>Offset of the tensor data section from the start of the file.</summary>
    public long DataOffset { get; }

    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }

    /// <summary>Metadata keys in file order.</summary>
    public IReadOnlyList<string> MetadataKeys { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    public GgufTensorInfo? FindTensor(string name) => _byName.GetValueOrDefault(name);

    public GgufTensorInfo GetTensor(string name) =>
        FindTensor(name) ?? throw new KeyNotFoundException($"{Describe()}: tensor '{name}' is missing");

    public GgufValue? Find(string key) => Metadata.GetValueOrDefault(key);

    public string? GetString(string key) => Find(key)?.AsString();

    public long? GetInt(string key) => Find(key)?.AsInt64();

    public double? GetDouble(string key) => Find(key)?.AsDouble();

    /// <summary>Pointer to a tensor's first byte; valid until the file is disposed.</summary>
    public nint DataPointer(GgufTensorInfo tensor)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        return (nint)(_base + tensor.FileOffset);
    }

    /// <summary>A tensor's bytes as a span (tensors up to 2 GiB; larger ones go through <see cref="DataPointer"/>).</summary>
    public ReadOnlySpan<byte> GetTensorBytes(GgufTensorInfo tensor)
    {
        if (tensor.ByteSize > int.MaxValue)
            throw new NotSupportedException($"tensor '{tensor.Name}' is {tensor.ByteSize} bytes, too large for one span");
        return new ReadOnlySpan<byte>((byte*)DataPointer(tensor), (int)tensor.ByteSize);
    }

    /// <summary>
    /// Unmaps this process's resident pages that lie wholly inside [<paramref name="start"/>, + <paramref name="bytes"/>)
    /// (madvise MADV_DONTNEED on Linux; nothing elsewhere or for a file read from bytes). The data stays valid: a later
    /// read faults the pages back in from the page cache or the file. For ranges a model has copied into another layout
    /// and no longer reads, so resident memory does not count them twice.
    /// </summary>
    public void ReleaseResidentPages(nint start, long bytes)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        if (_map is null || !OperatingSystem.IsLinux() || (byte*)start < _base || (byte*)start + bytes > _base + Length)
            return;
        const long page = 4096;
        long first = (start + page - 1) & ~(page - 1), end = (start + bytes) & ~(page - 1);
        if (end > first)
            _ = Madvise((nint)first, (nuint)(end - first), 4 /* MADV_DONTNEED */);
    }

    private SafeFileHandle? _handle;
    private readonly Lock _handleLock = new();

    /// <summary>
    /// Reads <paramref name="destination"/>.Length bytes of the file from <paramref name="fileOffset"/> with positioned
    /// reads (pread), past the mapping: the bytes land in memory the caller owns and the mapping's pages are never
    /// touched. Safe from several threads at once. For weights streamed from disk under a memory budget.
    /// </summary>
    /// <exception cref="InvalidOperationException">the file was read from bytes, not opened from a path.</exception>
    public void Read(long fileOffset, Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        if (fileOffset < 0 || fileOffset + destination.Length > Length)
            throw new ArgumentOutOfRangeException(nameof(fileOffset), $"{Describe()}: bytes [{fileOffset}, {fileOffset + destination.Length}) lie outside its {Length} bytes");
        var handle = Handle();
        while (destination.Length > 0)
        {
            int n = RandomAccess.Read(handle, destination, fileOffset);
            if (n <= 0) throw new EndOfStreamException($"{Describe()}: the file ended at {fileOffset} while reading weights (was it truncated?)");
            destination = destination[n..];
            fileOffset += n;
        }
    }

    /// <summary>As <see cref="Read(long, Span{byte})"/> into native memory of any size.</summary>
    public void Read(long fileOffset, long bytes, nint destination)
    {
        const int chunk = 1 << 30;
        for (long done = 0; done < bytes; done += chunk)
            Read(fileOffset + done, new Span<byte>((byte*)destination + done, (int)Math.Min(chunk, bytes - done)));
    }

    private SafeFileHandle Handle()
    {
        if (_handle is { } h) return h;
        if (_map is null || Path is null)
            throw new InvalidOperationException("a GGUF image read from bytes has no file to read weights from; open it from a path");
        lock (_handleLock)
            return _handle ??= File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint addr, nuint length, int advice);

    private string Describe() => Path is null ? "GGUF" : $"GGUF file '{Path}'";

    public void Dispose()
    {
        if (_view is not null && _base != null)
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _base = null;
        _view?.Dispose();
        _map?.Dispose();
        _handle?.Dispose();
        if (_pin.IsAllocated) _pin.Free();
    }
}
