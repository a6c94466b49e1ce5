using System.Globalization;

namespace Frugal.Gguf;

/// <summary>
/// One metadata value. Scalars hold their CLR value (byte, sbyte, ushort, short, uint, int, float, bool, ulong,
/// long, double, string). Arrays of scalars hold a typed CLR array (e.g. <c>float[]</c>, <c>string[]</c>);
/// arrays of arrays hold <c>GgufValue[]</c>.
/// </summary>
public sealed class GgufValue
{
    public GgufValue(GgufValueType type, object value, GgufValueType elementType = default)
    {
        Type = type;
        Value = value;
        ElementType = elementType;
    }

    public GgufValueType Type { get; }

    /// <summary>For arrays, the element type; otherwise unused.</summary>
    public GgufValueType ElementType { get; }

    public object Value { get; }

    public bool IsArray => Type == GgufValueType.Array;

    public int ArrayLength => Value is Array a ? a.Length : throw new InvalidOperationException($"a {Type} value is not an array");

    public string AsString() => Value as string ?? throw new InvalidCastException($"metadata value is {Describe()}, not a string");

    /// <summary>Any integer type, widened; negative values throw.</summary>
    public ulong AsUInt64() => Value switch
    {
        byte v => v,
        ushort v => v,
        uint v => v,
        ulong v => v,
        sbyte v when v >= 0 => (ulong)v,
        short v when v >= 0 => (ulong)v,
        int v when v >= 0 => (ulong)v,
        long v when v >= 0 => (ulong)v,
        bool v => v ? 1UL : 0UL,
        _ => throw new InvalidCastException($"metadata value is {Describe()}, not a non-negative integer"),
    };

    public long AsInt64() => Value switch
    {
        byte v => v,
        ushort v => v,
        uint v => v,
        ulong v when v <= long.MaxValue => (long)v,
        sbyte v => v,
        short v => v,
        int v => v,
        long v => v,
        bool v => v ? 1 : 0,
        _ => throw new InvalidCastException($"metadata value is {Describe()}, not an integer"),
    };

    /// <summary>Float32, Float64 or any integer, as a double.</summary>
    public double AsDouble() => Value switch
    {
        float v => v,
        double v => v,
        _ => AsInt64(),
    };

    public bool AsBool() => Value switch
    {
        bool v => v,
        _ => AsInt64() != 0,
    };

    /// <summary>The array as <typeparamref name="T"/>[] when it is stored with exactly that element type.</summary>
    public T[] AsArray<T>() => Value as T[] ?? throw new InvalidCastException($"metadata value is {Describe()}, not an array of {typeof(T).Name}");

    /// <summary>An integer array of any element type, widened to long.</summary>
    public long[] AsInt64Array()
    {
        if (Value is not Array a || ElementType is GgufValueType.String or GgufValueType.Array or GgufValueType.Float32 or GgufValueType.Float64)
            throw new InvalidCastException($"metadata value is {Describe()}, not an integer array");
        var result = new long[a.Length];
        for (int i = 0; i < result.Length; i++)
            result[i] = Convert.ToInt64(a.GetValue(i), CultureInfo.InvariantCulture);
        return result;
    }

    /// <summary>A float array (Float32 or Float64 elements) as float[].</summary>
    public float[] AsFloatArray() => Value switch
    {
        float[] f => f,
        double[] d => Array.ConvertAll(d, x => (float)x),
        _ => throw new InvalidCastException($"metadata value is {Describe()}, not a float array"),
    };

    public string Describe() => IsArray ? $"array of {ArrayLength} {ElementType}" : Type.ToString();

    public override string ToString() => Value switch
    {
        string s => s,
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        Array => $"[{Describe()}]",
        _ => Convert.ToString(Value, CultureInfo.InvariantCulture) ?? "",
    };
}
