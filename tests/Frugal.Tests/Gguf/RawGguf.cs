using System.Text;

namespace Frugal.Tests.Gguf;

/// <summary>Writes GGUF bytes field by field, so tests can build files the writer would refuse to produce.</summary>
internal sealed class RawGguf
{
    private readonly MemoryStream _stream = new();
    private readonly BinaryWriter _w;

    public RawGguf() => _w = new BinaryWriter(_stream, Encoding.UTF8, leaveOpen: true);

    /// <summary>A header: "GGUF", version, tensor count, kv count.</summary>
    public static RawGguf Header(ulong tensors, ulong kvs, uint version = 3, uint magic = 0x46554747) =>
        new RawGguf().U32(magic).U32(version).U64(tensors).U64(kvs);

    public long Position => _stream.Position;

    public RawGguf U8(byte v) { _w.Write(v); return this; }
    public RawGguf U32(uint v) { _w.Write(v); return this; }
    public RawGguf U64(ulong v) { _w.Write(v); return this; }
    public RawGguf Bytes(params byte[] v) { _w.Write(v); return this; }

    public RawGguf Str(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        return U64((ulong)b.Length).Bytes(b);
    }

    /// <summary>A metadata entry header: key and value type; the value follows.</summary>
    public RawGguf Key(string key, uint type) => Str(key).U32(type);

    /// <summary>A tensor directory entry.</summary>
    public RawGguf Tensor(string name, ulong[] dims, uint type, ulong offset)
    {
        Str(name).U32((uint)dims.Length);
        foreach (var d in dims) U64(d);
        return U32(type).U64(offset);
    }

    public RawGguf PadTo(int alignment)
    {
        while (_stream.Position % alignment != 0) _w.Write((byte)0);
        return this;
    }

    public RawGguf Zeros(int n) => Bytes(new byte[n]);

    public byte[] ToArray()
    {
        _w.Flush();
        return _stream.ToArray();
    }
}
