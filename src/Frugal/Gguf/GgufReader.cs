using System.Runtime.CompilerServices;
using System.Text;
using Frugal.Numerics;

namespace Frugal.Gguf;

/// <summary>
/// Parses the header, metadata and tensor directory of a GGUF image held in memory (a memory map or a pinned
/// array). Every count, length, offset and size is checked against the bytes that remain before it is used,
/// so a hostile file can neither read past the end nor make us allocate more than the file could describe.
/// </summary>
internal sealed unsafe class GgufReader
{
    /// <summary>Deepest array-of-array nesting accepted; real files use at most one level.</summary>
    public const int MaxArrayDepth = 8;

    /// <summary>ggml's GGML_MAX_NAME is 64 bytes including the terminator.</summary>
    public const int MaxTensorNameBytes = 63;

    /// <summary>ggml's GGML_MAX_DIMS.</summary>
    public const int MaxDimensions = 4;

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private readonly byte* _base;
    private readonly long _length;
    private readonly string? _path;
    private long _pos;

    public GgufReader(byte* data, long length, string? path)
    {
        _base = data;
        _length = length;
        _path = path;
    }

    public sealed record Result(
        uint Version,
        IReadOnlyDictionary<string, GgufValue> Metadata,
        IReadOnlyList<string> MetadataOrder,
        IReadOnlyList<GgufTensorInfo> Tensors,
        long DataOffset,
        uint Alignment);

    public Result Parse()
    {
        _pos = 0;
        uint magic = ReadU32("magic");
        if (magic != 0x46554747) // "GGUF" little-endian
            throw Error("magic", 0, $"expected 'GGUF', found 0x{magic:X8}: not a GGUF file");
        uint version = ReadU32("version");
        if (version is not (2 or 3))
        {
            string why = version == 1 ? "GGUF v1 is not supported (v2 and v3 are)"
                : (version & 0xFFFF) == 0 && version != 0 ? $"version {version} looks byte-swapped: big-endian GGUF is not supported"
                : $"unsupported version {version} (v2 and v3 are supported)";
            throw Error("version", 4, why);
        }

        long tensorCountAt = _pos;
        ulong tensorCount = ReadU64("tensor_count");
        long kvCountAt = _pos;
        ulong kvCount = ReadU64("metadata_kv_count");
        // Smallest possible entries: a kv is an 8-byte key length + 4-byte type + 1 byte value; a tensor info is
        // an 8-byte name length + 4-byte n_dims + 4-byte type + 8-byte offset.
        if (kvCount > (ulong)Remaining / 13)
            throw Error("metadata_kv_count", kvCountAt, $"{kvCount} entries cannot fit in the {Remaining} bytes that follow");
        if (tensorCount > (ulong)Remaining / 24)
            throw Error("tensor_count", tensorCountAt, $"{tensorCount} tensors cannot fit in the {Remaining} bytes that follow");

        // The counts are bounded by the file's length, which for a memory-mapped file of tens of GB can exceed
        // int.MaxValue: cap the pre-sizing so a corrupt count fails as a format error, not as a negative capacity.
        int kvCapacity = (int)Math.Min(kvCount, 1 << 16);
        var metadata = new Dictionary<string, GgufValue>(kvCapacity, StringComparer.Ordinal);
        var order = new List<string>(kvCapacity);
        for (ulong i = 0; i < kvCount; i++)
        {
            long keyAt = _pos;
            string key = ReadString(MetadataKeyField, i);
            if (key.Length == 0)
                throw Error($"metadata key #{i}", keyAt, "empty key");
            long typeAt = _pos;
            if (Remaining < sizeof(uint)) Need($"type of '{key}'", sizeof(uint)); // message built only on failure
            var type = (GgufValueType)ReadU32(key);
            var value = ReadValue(key, type, typeAt, 0);
            if (!metadata.TryAdd(key, value))
                throw Error(key, keyAt, "duplicate metadata key");
            order.Add(key);
        }

        uint alignment = 32;
        if (metadata.TryGetValue("general.alignment", out var alignValue))
        {
            if (alignValue.Value is not uint a || a == 0 || (a & (a - 1)) != 0)
                throw Error("general.alignment", 0, $"expected a power-of-two uint32, found {alignValue.Describe()} {alignValue}");
            alignment = a;
        }

        var tensors = new List<GgufTensorInfo>((int)Math.Min(tensorCount, 1 << 16));
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
            tensors.Add(ReadTensorInfo(i, alignment, names));

        long dataOffset = AlignUp(_pos, alignment);
        long dataLength = _length - dataOffset;
        if (tensorCount > 0 && dataOffset > _length)
            throw Error("tensor data", _pos, $"the file ends at {_length} before the aligned data section starts at {dataOffset}");

        var placed = new List<GgufTensorInfo>(tensors.Count);
        foreach (var t in tensors)
        {
            if (t.Offset > dataLength || t.ByteSize > dataLength - t.Offset)
                throw Error($"tensor '{t.Name}'", dataOffset + t.Offset,
                    $"data [{t.Offset}, {t.Offset + t.ByteSize}) of the data section runs past the end of the file (data section is {Math.Max(0, dataLength)} bytes)");
            placed.Add(t with { FileOffset = dataOffset + t.Offset });
        }

        var byOffset = placed.Where(t => t.ByteSize > 0).OrderBy(t => t.Offset).ToList();
        for (int i = 1; i < byOffset.Count; i++)
        {
            var prev = byOffset[i - 1];
            var cur = byOffset[i];
            if (cur.Offset < prev.Offset + prev.ByteSize)
                throw Error($"tensor '{cur.Name}'", cur.FileOffset, $"data overlaps tensor '{prev.Name}' ([{prev.Offset}, {prev.Offset + prev.ByteSize}))");
        }

        return new Result(version, metadata, order, placed, dataOffset, alignment);
    }

    private GgufTensorInfo ReadTensorInfo(ulong index, uint alignment, HashSet<string> names)
    {
        long nameAt = _pos;
        string name = ReadString($"tensor #{index} name");
        if (Encoding.UTF8.GetByteCount(name) > MaxTensorNameBytes)
            throw Error($"tensor #{index} name", nameAt, $"name '{name}' is longer than {MaxTensorNameBytes} bytes");
        if (!names.Add(name))
            throw Error($"tensor '{name}'", nameAt, "duplicate tensor name");

        long dimsAt = _pos;
        uint nDims = ReadTensorField<uint>(name, "n_dims");
        if (nDims > MaxDimensions)
            throw Error($"tensor '{name}' n_dims", dimsAt, $"{nDims} dimensions (at most {MaxDimensions})");
        var dims = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++)
        {
            long at = _pos;
            ulong ne = ReadTensorField<ulong>(name, "ne[", d);
            if (ne > long.MaxValue || (ne != 0 && elements > long.MaxValue / (long)ne))
                throw Error($"tensor '{name}' ne[{d}]", at, $"dimension {ne} overflows the element count");
            dims[d] = (long)ne;
            elements *= (long)ne;
        }

        long typeAt = _pos;
        var type = (GgmlType)ReadTensorField<uint>(name, "type");
        if (!GgmlTypeInfo.IsKnown(type))
            throw Error($"tensor '{name}' type", typeAt, $"unknown tensor type id {(uint)type}");
        int blockSize = GgmlTypeInfo.BlockSize(type);
        long rowLength = nDims == 0 ? 1 : dims[0];
        if (rowLength % blockSize != 0)
            throw Error($"tensor '{name}' ne[0]", dimsAt, $"row length {rowLength} is not a multiple of the {GgmlTypeInfo.Name(type)} block size {blockSize}");
        long blocks = elements / blockSize;
        int typeSize = GgmlTypeInfo.TypeSize(type);
        if (blocks > long.MaxValue / typeSize)
            throw Error($"tensor '{name}'", dimsAt, "byte size overflows");
        long byteSize = blocks * typeSize;

        long offsetAt = _pos;
        ulong offset = ReadTensorField<ulong>(name, "offset");
        if (offset > long.MaxValue || offset % alignment != 0)
            throw Error($"tensor '{name}' offset", offsetAt, $"offset {offset} is not a multiple of the alignment {alignment}");
        return new GgufTensorInfo(name, dims, type, (long)offset, byteSize);
    }

    private GgufValue ReadValue(string key, GgufValueType type, long typeAt, int depth)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return new(type, Read<byte>(key));
            case GgufValueType.Int8: return new(type, Read<sbyte>(key));
            case GgufValueType.UInt16: return new(type, Read<ushort>(key));
            case GgufValueType.Int16: return new(type, Read<short>(key));
            case GgufValueType.UInt32: return new(type, Read<uint>(key));
            case GgufValueType.Int32: return new(type, Read<int>(key));
            case GgufValueType.Float32: return new(type, Read<float>(key));
            case GgufValueType.UInt64: return new(type, Read<ulong>(key));
            case GgufValueType.Int64: return new(type, Read<long>(key));
            case GgufValueType.Float64: return new(type, Read<double>(key));
            case GgufValueType.Bool:
            {
                long at = _pos;
                byte b = Read<byte>(key);
                if (b > 1) throw Error(key, at, $"bool value {b} is neither 0 nor 1");
                return new(type, b == 1);
            }
            case GgufValueType.String: return new(type, ReadString(key));
            case GgufValueType.Array: return ReadArray(key, depth);
            default: throw Error(key, typeAt, $"unknown metadata value type {(uint)type}");
        }
    }

    private GgufValue ReadArray(string key, int depth)
    {
        if (depth >= MaxArrayDepth)
            throw Error(key, _pos, $"arrays nested deeper than {MaxArrayDepth} levels");
        long typeAt = _pos;
        if (Remaining < sizeof(uint)) Need(key + " array element type", sizeof(uint)); // message built only on failure
        var elemType = (GgufValueType)ReadU32(key);
        long countAt = _pos;
        if (Remaining < sizeof(ulong)) Need(key + " array length", sizeof(ulong));
        ulong count = ReadU64(key);
        int minSize = elemType switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
            GgufValueType.Array => 12,
            _ => throw Error(key, typeAt, $"unknown array element type {(uint)elemType}"),
        };
        if (count > (ulong)(Remaining / minSize))
            throw Error(key, countAt, $"array length {count} cannot fit in the {Remaining} bytes that remain");
        if (count > (ulong)Array.MaxLength)
            throw Error(key, countAt, $"array length {count} is more than one array can hold ({Array.MaxLength})");
        int n = (int)count;
        object value = elemType switch
        {
            GgufValueType.UInt8 => ReadArray<byte>(key, n),
            GgufValueType.Int8 => ReadArray<sbyte>(key, n),
            GgufValueType.UInt16 => ReadArray<ushort>(key, n),
            GgufValueType.Int16 => ReadArray<short>(key, n),
            GgufValueType.UInt32 => ReadArray<uint>(key, n),
            GgufValueType.Int32 => ReadArray<int>(key, n),
            GgufValueType.Float32 => ReadArray<float>(key, n),
            GgufValueType.UInt64 => ReadArray<ulong>(key, n),
            GgufValueType.Int64 => ReadArray<long>(key, n),
            GgufValueType.Float64 => ReadArray<double>(key, n),
            GgufValueType.Bool => ReadBoolArray(key, n),
            GgufValueType.String => ReadStringArray(key, n),
            _ => ReadNestedArrays(key, n, depth),
        };
        return new GgufValue(GgufValueType.Array, value, elemType);
    }

    private T[] ReadArray<T>(string key, int n) where T : unmanaged
    {
        Need(key, (long)n * sizeof(T));
        var result = new ReadOnlySpan<T>(_base + _pos, n).ToArray();
        _pos += (long)n * sizeof(T);
        return result;
    }

    private bool[] ReadBoolArray(string key, int n)
    {
        var result = new bool[n];
        for (int i = 0; i < n; i++)
        {
            long at = _pos;
            byte b = Read<byte>(key);
            if (b > 1) throw Error(key, at, $"bool element {i} is {b}, neither 0 nor 1");
            result[i] = b == 1;
        }
        return result;
    }

    private string[] ReadStringArray(string key, int n)
    {
        var result = new string[n];
        for (int i = 0; i < n; i++)
            result[i] = ReadString(key);
        return result;
    }

    private GgufValue[] ReadNestedArrays(string key, int n, int depth)
    {
        var result = new GgufValue[n];
        for (int i = 0; i < n; i++)
            result[i] = ReadArray(key, depth + 1);
        return result;
    }

    private const string MetadataKeyField = "metadata key #";

    /// <summary>
    /// Reads a string. Error texts are built only when a check fails: this runs once per vocabulary entry (150k+
    /// times for a real tokenizer), where an eagerly concatenated field name would be most of the garbage.
    /// </summary>
    private string ReadString(string field, ulong index = NoIndex)
    {
        long at = _pos;
        if (Remaining < sizeof(ulong))
            throw Error(FieldName(field, index) + " string length", _pos, $"needs {sizeof(ulong)} bytes but the file ends after {Remaining}");
        ulong len = Unsafe.ReadUnaligned<ulong>(_base + _pos);
        _pos += sizeof(ulong);
        if (len > (ulong)Remaining)
            throw Error(FieldName(field, index), at, $"string length {len} runs past the end of the file ({Remaining} bytes remain)");
        if (len > MaxStringBytes)
            throw Error(FieldName(field, index), at, $"string length {len} is too large (at most {MaxStringBytes} bytes)");
        try
        {
            string s = StrictUtf8.GetString(_base + _pos, (int)len);
            _pos += (long)len;
            return s;
        }
        catch (DecoderFallbackException)
        {
            throw Error(FieldName(field, index), at + 8, "string is not valid UTF-8");
        }
    }

    private const ulong NoIndex = ulong.MaxValue;

    /// <summary>Longest string accepted: .NET strings hold at most about 2^30 UTF-16 chars.</summary>
    private const int MaxStringBytes = 1 << 30;

    private static string FieldName(string field, ulong index) =>
        index == NoIndex ? field : field + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Reads a field of a tensor's directory entry; the field's name is formatted only if the file ends first.</summary>
    private T ReadTensorField<T>(string tensor, string field, int dimension = -1) where T : unmanaged
    {
        if (Remaining < sizeof(T))
            Need(dimension < 0 ? $"tensor '{tensor}' {field}" : $"tensor '{tensor}' {field}{dimension}]", sizeof(T));
        return Read<T>(tensor);
    }

    private uint ReadU32(string field) => Read<uint>(field);

    private ulong ReadU64(string field) => Read<ulong>(field);

    private T Read<T>(string field) where T : unmanaged
    {
        Need(field, sizeof(T));
        T v = Unsafe.ReadUnaligned<T>(_base + _pos);
        _pos += sizeof(T);
        return v;
    }

    private void Need(string field, long bytes)
    {
        if (bytes > Remaining)
            throw Error(field, _pos, $"needs {bytes} bytes but the file ends after {Remaining}");
    }

    private long Remaining => _length - _pos;

    private GgufFormatException Error(string field, long offset, string problem) => new(field, offset, problem, _path);

    internal static long AlignUp(long value, uint alignment) => (value + alignment - 1) / alignment * alignment;
}
