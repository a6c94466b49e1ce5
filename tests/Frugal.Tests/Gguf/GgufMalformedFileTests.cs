using Frugal.Gguf;
using Frugal.Numerics;

namespace Frugal.Tests.Gguf;

/// <summary>Every malformed file must fail with a <see cref="GgufFormatException"/> that names the field.</summary>
public class GgufMalformedFileTests
{
    private const uint U8 = 0, U32 = 4, F32Value = 6, Bool = 7, Str = 8, Arr = 9;
    private const uint F32 = 0, Q4_0 = 2;
    private const ulong Huge = 1UL << 60;

    private static GgufFormatException Rejects(byte[] bytes)
    {
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.FromBytes(bytes).Dispose());
        Assert.False(string.IsNullOrEmpty(e.Field));
        return e;
    }

    /// <summary>A small valid file built from the writer: metadata of several types and two tensors.</summary>
    internal static byte[] SmallValidFile(uint alignment = 32)
    {
        var w = new GgufWriter(3, alignment)
            .Add("general.architecture", "llama")
            .Add("llama.context_length", 128u)
            .Add("flag", true)
            .Add("tokenizer.ggml.tokens", ["<s>", "a", "é"])
            .Add("tokenizer.ggml.scores", [0f, -1f, -2f])
            .Add("nested", new GgufValue(GgufValueType.Array, new[] { new GgufValue(GgufValueType.Array, new[] { 1, 2 }, GgufValueType.Int32) }, GgufValueType.Array));
        w.AddTensor("a", [4, 2], [1f, 2, 3, 4, 5, 6, 7, 8]);
        w.AddTensor("b", [3], [9f, 10, 11]);
        return w.ToArray();
    }

    /// <summary>A valid file built field by field; <paramref name="boundaries"/> gets the offset after every field.</summary>
    private static byte[] FileWithBoundaries(List<long> boundaries)
    {
        var r = new RawGguf();
        void Mark() => boundaries.Add(r.Position);
        r.U32(0x46554747); Mark();
        r.U32(3); Mark();
        r.U64(2); Mark();
        r.U64(3); Mark();
        r.Str("general.architecture"); Mark(); r.U32(Str); Mark(); r.Str("llama"); Mark();
        r.Str("n"); Mark(); r.U32(U32); Mark(); r.U32(7); Mark();
        r.Str("list"); Mark(); r.U32(Arr); Mark(); r.U32(Str); Mark(); r.U64(2); Mark(); r.Str("x"); Mark(); r.Str("yz"); Mark();
        r.Str("w"); Mark(); r.U32(2); Mark(); r.U64(8); Mark(); r.U64(1); Mark(); r.U32(F32); Mark(); r.U64(0); Mark();
        r.Str("v"); Mark(); r.U32(1); Mark(); r.U64(4); Mark(); r.U32(F32); Mark(); r.U64(32); Mark();
        r.PadTo(32); Mark();
        for (int i = 0; i < 8; i++) { r.Bytes(BitConverter.GetBytes((float)i)); Mark(); }
        r.PadTo(32); Mark();
        for (int i = 0; i < 4; i++) { r.Bytes(BitConverter.GetBytes((float)i)); Mark(); }
        return r.ToArray();
    }

    [Fact]
    public void Truncation_at_every_section_boundary_is_rejected()
    {
        var boundaries = new List<long>();
        var bytes = FileWithBoundaries(boundaries);
        // The field-by-field file is exactly what GgufWriter writes for the same content, so the boundaries are the
        // writer's section boundaries.
        var written = new GgufWriter()
            .Add("general.architecture", "llama")
            .Add("n", 7u)
            .Add("list", ["x", "yz"])
            .AddTensor("w", [8, 1], Enumerable.Range(0, 8).Select(i => (float)i).ToArray())
            .AddTensor("v", [4], Enumerable.Range(0, 4).Select(i => (float)i).ToArray())
            .ToArray();
        Assert.Equal(written, bytes);
        using (var ok = GgufFile.FromBytes(bytes))
            Assert.Equal(["w", "v"], ok.Tensors.Select(t => t.Name));
        foreach (long b in boundaries.Where(b => b < bytes.Length))
            foreach (long cut in new[] { b - 1, b, b + 1 })
                if (cut >= 0 && cut < bytes.Length)
                    Rejects(bytes[..(int)cut]);
    }

    [Fact]
    public void Truncation_at_every_byte_of_a_small_file_is_rejected()
    {
        var bytes = SmallValidFile();
        GgufFile.FromBytes(bytes).Dispose();
        for (int n = 0; n < bytes.Length; n++)
            Rejects(bytes[..n]);
    }

    [Theory]
    [InlineData(0x46554746u, "magic")]
    [InlineData(0x00000000u, "magic")]
    public void Wrong_magic_is_not_a_gguf_file(uint magic, string field)
    {
        var e = Rejects(RawGguf.Header(0, 0, magic: magic).ToArray());
        Assert.Equal(field, e.Field);
        Assert.Contains("not a GGUF file", e.Message);
    }

    [Theory]
    [InlineData(1u, "v1 is not supported")]
    [InlineData(4u, "unsupported version 4")]
    [InlineData(0x03000000u, "byte-swapped: big-endian GGUF is not supported")]
    public void Unsupported_versions_are_named(uint version, string message)
    {
        var e = Rejects(RawGguf.Header(0, 0, version).ToArray());
        Assert.Equal("version", e.Field);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Absurd_kv_count_is_rejected_before_allocating()
    {
        var e = Rejects(RawGguf.Header(0, Huge).Key("a", U8).U8(1).ToArray());
        Assert.Equal("metadata_kv_count", e.Field);
    }

    [Fact]
    public void Absurd_tensor_count_is_rejected_before_allocating()
    {
        var e = Rejects(RawGguf.Header(Huge, 0).Tensor("t", [1], F32, 0).ToArray());
        Assert.Equal("tensor_count", e.Field);
    }

    [Fact]
    public void Absurd_key_and_value_string_lengths_are_rejected()
    {
        Assert.Contains("string length 1152921504606846976 runs past the end",
            Rejects(RawGguf.Header(0, 1).U64(Huge).Bytes(0x61).U32(U8).U8(0).ToArray()).Message);
        var e = Rejects(RawGguf.Header(0, 1).Key("name", Str).U64(Huge).Bytes(0x61, 0x62).ToArray());
        Assert.Equal("name", e.Field);
    }

    [Theory]
    [InlineData(U8)]
    [InlineData(U32)]
    [InlineData(Str)]
    [InlineData(Arr)]
    [InlineData(Bool)]
    public void Absurd_array_lengths_are_rejected_for_every_element_type(uint elementType)
    {
        var e = Rejects(RawGguf.Header(0, 1).Key("arr", Arr).U32(elementType).U64(Huge).Zeros(64).ToArray());
        Assert.Equal("arr", e.Field);
        Assert.Contains("array length 1152921504606846976 cannot fit", e.Message);
    }

    [Fact]
    public void Tensor_data_past_the_end_is_rejected()
    {
        var bytes = RawGguf.Header(1, 0).Tensor("t", [8], F32, 0).PadTo(32).Zeros(16).ToArray(); // needs 32 bytes
        var e = Rejects(bytes);
        Assert.Equal("tensor 't'", e.Field);
        Assert.Contains("runs past the end of the file", e.Message);
        var far = RawGguf.Header(1, 0).Tensor("t", [1], F32, 1UL << 40).PadTo(32).Zeros(32).ToArray();
        Assert.Contains("runs past the end of the file", Rejects(far).Message);
        var beyondLong = RawGguf.Header(1, 0).Tensor("t", [1], F32, ulong.MaxValue - 31).PadTo(32).Zeros(32).ToArray();
        Assert.Equal("tensor 't' offset", Rejects(beyondLong).Field);
    }

    [Fact]
    public void Misaligned_tensor_offset_is_rejected()
    {
        var e = Rejects(RawGguf.Header(1, 0).Tensor("t", [1], F32, 4).PadTo(32).Zeros(64).ToArray());
        Assert.Equal("tensor 't' offset", e.Field);
        Assert.Contains("not a multiple of the alignment 32", e.Message);
    }

    [Fact]
    public void Overlapping_tensors_are_rejected()
    {
        var bytes = RawGguf.Header(2, 0).Tensor("a", [16], F32, 0).Tensor("b", [8], F32, 32).PadTo(32).Zeros(128).ToArray();
        var e = Rejects(bytes);
        Assert.Equal("tensor 'b'", e.Field);
        Assert.Contains("overlaps tensor 'a'", e.Message);
    }

    [Fact]
    public void Duplicate_keys_and_tensor_names_are_rejected()
    {
        var keys = RawGguf.Header(0, 2).Key("k", U8).U8(1).Key("k", U8).U8(2).ToArray();
        Assert.Contains("duplicate metadata key", Rejects(keys).Message);
        var names = RawGguf.Header(2, 0).Tensor("t", [8], F32, 0).Tensor("t", [8], F32, 32).PadTo(32).Zeros(64).ToArray();
        Assert.Contains("duplicate tensor name", Rejects(names).Message);
    }

    [Fact]
    public void Unknown_value_types_are_rejected()
    {
        Assert.Contains("unknown metadata value type 13", Rejects(RawGguf.Header(0, 1).Key("k", 13).Zeros(16).ToArray()).Message);
        Assert.Contains("unknown array element type 99", Rejects(RawGguf.Header(0, 1).Key("k", Arr).U32(99).U64(1).Zeros(16).ToArray()).Message);
    }

    [Fact]
    public void Unknown_tensor_type_is_rejected()
    {
        var e = Rejects(RawGguf.Header(1, 0).Tensor("t", [32], 99, 0).PadTo(32).Zeros(256).ToArray());
        Assert.Equal("tensor 't' type", e.Field);
        Assert.Contains("unknown tensor type id 99", e.Message);
    }

    [Fact]
    public void Bad_tensor_shapes_are_rejected()
    {
        Assert.Contains("5 dimensions", Rejects(RawGguf.Header(1, 0).Tensor("t", [1, 1, 1, 1, 1], F32, 0).PadTo(32).Zeros(32).ToArray()).Message);
        Assert.Contains("overflows the element count", Rejects(RawGguf.Header(1, 0).Tensor("t", [1UL << 40, 1UL << 40], F32, 0).PadTo(32).Zeros(32).ToArray()).Message);
        Assert.Contains("not a multiple of the Q4_0 block size 32", Rejects(RawGguf.Header(1, 0).Tensor("t", [33], Q4_0, 0).PadTo(32).Zeros(64).ToArray()).Message);
        Assert.Contains("longer than 63 bytes", Rejects(RawGguf.Header(1, 0).Tensor(new string('x', 64), [1], F32, 0).PadTo(32).Zeros(32).ToArray()).Message);
        Assert.Contains("byte size overflows", Rejects(RawGguf.Header(1, 0).Tensor("t", [1UL << 62], F32, 0).PadTo(32).Zeros(32).ToArray()).Message);
    }

    [Fact]
    public void Bad_values_are_rejected()
    {
        Assert.Contains("bool value 2", Rejects(RawGguf.Header(0, 1).Key("b", Bool).U8(2).ToArray()).Message);
        Assert.Contains("not valid UTF-8", Rejects(RawGguf.Header(0, 1).Key("s", Str).U64(2).Bytes(0xC3, 0x28).ToArray()).Message);
        Assert.Contains("empty key", Rejects(RawGguf.Header(0, 1).Key("", U8).U8(0).ToArray()).Message);
        Assert.Equal("general.alignment", Rejects(RawGguf.Header(0, 1).Key("general.alignment", U32).U32(48).ToArray()).Field);
        Assert.Equal("general.alignment", Rejects(RawGguf.Header(0, 1).Key("general.alignment", F32Value).U32(0).ToArray()).Field);
        var deep = RawGguf.Header(0, 1).Key("deep", Arr);
        for (int i = 0; i < 10; i++) deep.U32(Arr).U64(1);
        Assert.Contains("nested deeper than 8", Rejects(deep.Zeros(16).ToArray()).Message);
    }

    [Fact]
    public void Data_section_starting_past_the_end_is_rejected()
    {
        // A zero-size tensor needs no data, but the aligned data section must still start inside the file.
        var e = Rejects(RawGguf.Header(1, 0).Tensor("t", [0], F32, 0).ToArray());
        Assert.Equal("tensor data", e.Field);
    }
}

public class GgufHugeFileCountTests
{
    [Fact]
    public void Counts_above_int_max_in_a_huge_file_fail_as_format_errors()
    {
        // A 100 GB mapping could declare 3e9 entries that "fit"; the reader must not turn that into a negative
        // capacity. The buffer holds only the first two entries (a duplicate), which is where parsing stops.
        var keys = RawGguf.Header(0, 3_000_000_000UL).Key("k", 0).U8(1).Key("k", 0).U8(2).ToArray();
        Assert.Contains("duplicate metadata key", ParseClaimingHugeLength(keys).Message);
        var tensors = RawGguf.Header(3_000_000_000UL, 0).Tensor("t", [1], 0, 0).Tensor("t", [1], 0, 32).ToArray();
        Assert.Contains("duplicate tensor name", ParseClaimingHugeLength(tensors).Message);
        var array = RawGguf.Header(0, 1).Key("a", 9).U32(0).U64(3_000_000_000UL).ToArray();
        Assert.Contains("more than one array can hold", ParseClaimingHugeLength(array).Message);
        var text = RawGguf.Header(0, 1).Key("s", 8).U64(3_000_000_000UL).ToArray();
        Assert.Contains("string length 3000000000 is too large", ParseClaimingHugeLength(text).Message);
    }

    private static unsafe GgufFormatException ParseClaimingHugeLength(byte[] bytes)
    {
        fixed (byte* p = bytes)
        {
            try
            {
                new GgufReader(p, 100L << 30, "huge.gguf").Parse();
            }
            catch (GgufFormatException e)
            {
                return e;
            }
        }
        throw new Xunit.Sdk.XunitException("expected a GgufFormatException");
    }
}
