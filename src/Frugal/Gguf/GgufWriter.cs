using System.Text;
using Frugal.Numerics;

namespace Frugal.Gguf;

/// <summary>
/// Builds a GGUF v3 (or v2) file: metadata in insertion order, then the tensor directory, then the aligned
/// tensor data. Used to write test fixtures and by <c>quantize</c>.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<(string Key, GgufValue Value)> _metadata = [];
    // A tensor's bytes are either held (Data) or written on demand (Write), so a quantized file of many gigabytes is
    // produced one tensor at a time instead of held whole in memory.
    private readonly List<(string Name, long[] Dims, GgmlType Type, long Bytes, ReadOnlyMemory<byte> Data, Action<Stream>? Write)> _tensors = [];

    public GgufWriter(uint version = 3, uint alignment = 32)
    {
        if (version is not (2 or 3)) throw new ArgumentOutOfRangeException(nameof(version), "GGUF version must be 2 or 3");
        if (alignment == 0 || (alignment & (alignment - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(alignment), "alignment must be a power of two");
        Version = version;
        Alignment = alignment;
        if (alignment != 32) Add("general.alignment", new GgufValue(GgufValueType.UInt32, alignment));
    }

    public uint Version { get; }

    public uint Alignment { get; }

    public GgufWriter Add(string key, GgufValue value)
    {
        _metadata.RemoveAll(kv => kv.Key == key);
        _metadata.Add((key, value));
        return this;
    }

    public GgufWriter Add(string key, string value) => Add(key, new GgufValue(GgufValueType.String, value));
    public GgufWriter Add(string key, uint value) => Add(key, new GgufValue(GgufValueType.UInt32, value));
    public GgufWriter Add(string key, int value) => Add(key, new GgufValue(GgufValueType.Int32, value));
    public GgufWriter Add(string key, ulong value) => Add(key, new GgufValue(GgufValueType.UInt64, value));
    public GgufWriter Add(string key, float value) => Add(key, new GgufValue(GgufValueType.Float32, value));
    public GgufWriter Add(string key, bool value) => Add(key, new GgufValue(GgufValueType.Bool, value));
    public GgufWriter Add(string key, string[] values) => Add(key, new GgufValue(GgufValueType.Array, values, GgufValueType.String));
    public GgufWriter Add(string key, float[] values) => Add(key, new GgufValue(GgufValueType.Array, values, GgufValueType.Float32));
    public GgufWriter Add(string key, int[] values) => Add(key, new GgufValue(GgufValueType.Array, values, GgufValueType.Int32));
    public GgufWriter Add(string key, uint[] values) => Add(key, new GgufValue(GgufValueType.Array, values, GgufValueType.UInt32));
    public GgufWriter Add(string key, bool[] values) => Add(key, new GgufValue(GgufValueType.Array, values, GgufValueType.Bool));

    /// <summary>Adds a tensor. <paramref name="dims"/> is in ggml order (dims[0] is the row length).</summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] dims, ReadOnlyMemory<byte> data)
    {
        long expected = TensorBytes(name, type, dims);
        if (data.Length != expected)
            throw new ArgumentException($"tensor '{name}' {GgmlTypeInfo.Name(type)} [{string.Join(", ", dims)}] needs {expected} bytes, got {data.Length}");
        _tensors.Add((name, (long[])dims.Clone(), type, expected, data, null));
        return this;
    }

    /// <summary>
    /// Adds a tensor whose bytes <paramref name="write"/> puts on the stream when the data section is written, in the
    /// order tensors were added; it must write exactly the tensor's size (checked).
    /// </summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] dims, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        _tensors.Add((name, (long[])dims.Clone(), type, TensorBytes(name, type, dims), default, write));
        return this;
    }

    private long TensorBytes(string name, GgmlType type, long[] dims)
    {
        if (_tensors.Any(t => t.Name == name))
            throw new ArgumentException($"tensor '{name}' was already added");
        long elements = 1;
        foreach (var d in dims) elements *= d;
        return GgmlTypeInfo.RowBytes(type, elements);
    }

    /// <summary>Adds an F32 tensor from floats.</summary>
    public GgufWriter AddTensor(string name, long[] dims, ReadOnlySpan<float> values) =>
        AddTensor(name, GgmlType.F32, dims, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray());

    public void WriteTo(string path)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        WriteTo(fs);
    }

    public byte[] ToArray()
    {
        using var ms = new MemoryStream();
        WriteTo(ms);
        return ms.ToArray();
    }

    public void WriteTo(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(0x46554747u);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value);
        }

        long offset = 0;
        var offsets = new long[_tensors.Count];
        for (int i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            WriteString(w, t.Name);
            w.Write((uint)t.Dims.Length);
            foreach (var d in t.Dims) w.Write((ulong)d);
            w.Write((uint)t.Type);
            offsets[i] = offset;
            w.Write((ulong)offset);
            offset = GgufReader.AlignUp(offset + t.Bytes, Alignment);
        }

        Pad(w, stream.Position);
        long written = 0;
        foreach (var t in _tensors)
        {
            Pad(w, written);
            written = GgufReader.AlignUp(written, Alignment);
            if (t.Write is null)
            {
                w.Write(t.Data.Span);
            }
            else
            {
                w.Flush();
                var counted = new CountingStream(stream);
                t.Write(counted);
                if (counted.Count != t.Bytes)
                    throw new InvalidOperationException($"tensor '{t.Name}' wrote {counted.Count} bytes, its directory entry says {t.Bytes}");
            }
            written += t.Bytes;
        }
        w.Flush();
    }

    private void Pad(BinaryWriter w, long position)
    {
        long pad = GgufReader.AlignUp(position, Alignment) - position;
        for (long i = 0; i < pad; i++) w.Write((byte)0);
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValue v)
    {
        switch (v.Type)
        {
            case GgufValueType.Array:
                w.Write((uint)v.ElementType);
                var a = (Array)v.Value;
                w.Write((ulong)a.Length);
                if (v.ElementType == GgufValueType.Array)
                    foreach (GgufValue inner in a) WriteValue(w, inner);
                else
                    foreach (var item in a) WriteScalar(w, v.ElementType, item!);
                break;
            default:
                WriteScalar(w, v.Type, v.Value);
                break;
        }
    }

    private static void WriteScalar(BinaryWriter w, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write(Convert.ToByte(value)); break;
            case GgufValueType.Int8: w.Write(Convert.ToSByte(value)); break;
            case GgufValueType.UInt16: w.Write(Convert.ToUInt16(value)); break;
            case GgufValueType.Int16: w.Write(Convert.ToInt16(value)); break;
            case GgufValueType.UInt32: w.Write(Convert.ToUInt32(value)); break;
            case GgufValueType.Int32: w.Write(Convert.ToInt32(value)); break;
            case GgufValueType.Float32: w.Write(Convert.ToSingle(value)); break;
            case GgufValueType.Bool: w.Write((byte)(Convert.ToBoolean(value) ? 1 : 0)); break;
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.UInt64: w.Write(Convert.ToUInt64(value)); break;
            case GgufValueType.Int64: w.Write(Convert.ToInt64(value)); break;
            case GgufValueType.Float64: w.Write(Convert.ToDouble(value)); break;
            default: throw new ArgumentException($"cannot write metadata value type {type}");
        }
    }

    /// <summary>Passes writes through and counts them (the target stream need not report its position).</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Count { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Count; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            Count += buffer.Length;
        }
    }
}
