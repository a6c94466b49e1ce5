using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

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
        if (_pin.IsAllocated) _pin.Free();
    }
}
