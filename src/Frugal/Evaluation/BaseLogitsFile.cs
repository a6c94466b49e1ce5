using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Frugal.Evaluation;

/// <summary>
/// The base of a KL-divergence measurement (llama.cpp's <c>--kl-divergence-base</c> file, in our own format): the
/// log-probabilities a reference run gave every scored position of every perplexity window, and what is needed to
/// check that a later run evaluates the very same windows. Little-endian, as GGUF:
/// <code>
/// offset  size             field
///      0  8                magic "FRGKLDB\0"
///      8  4                version (1)
///     12  4                vocab: log-probabilities per position
///     16  4                ctx: tokens per window
///     20  4                BOS id written over each window's first token, -1 for none
///     24  4                token count of the whole text
///     28  4                windows
///     32  4                scored positions per window
///     36  4 * tokens       the text's token ids (int32)
///      …  4 * vocab        per scored position, window by window: log softmax of the logits (float32)
/// </code>
/// Float32, not llama.cpp's 16-bit codes (a per-row scale and minimum, log-probabilities below max - 16 clipped): a
/// code step is up to 16/65535 = 2.4e-4 nats. Measured on the built-in model's base (stories, ctx 128, 1386 rows),
/// those codes alone give a model against itself per-token KLDs from -6e-5 to +5e-5 nats (mean -4e-7): a noise floor
/// that llama.cpp's percentiles show whatever the setting measured, and KLDs below 0. The same model with Q8_0 weights
/// has a median per-token KLD of 3e-6 against that base, twenty times under the floor.
/// Float32 rounds each value to 6e-8 relative, and a model measured against its own base gives exactly 0
/// (<see cref="LogProbabilities.Compute"/> rounds both sides alike). The cost is twice llama.cpp's file: 4 bytes x
/// vocab per scored token (1 MiB per window of 512 at the built-in model's 1056-token vocabulary, 125 MiB at a 128k
/// vocabulary).
/// </summary>
public static class BaseLogitsFile
{
    public const int Version = 1;
    internal const int HeaderBytes = 36;
    internal static ReadOnlySpan<byte> Magic => "FRGKLDB\0"u8;

    /// <summary>
    /// Starts a base file for <paramref name="windows"/> at <paramref name="path"/>. It is written beside the target and
    /// moved over it by <see cref="BaseLogitsWriter.Complete"/>, so an interrupted run never leaves a truncated base.
    /// </summary>
    public static BaseLogitsWriter Create(string path, PerplexityWindows windows, int vocabSize) => new(path, windows, vocabSize);

    /// <summary>Opens a base file and checks its header and length.</summary>
    /// <exception cref="InvalidDataException">the file is not a base file, is of another version, or is truncated.</exception>
    public static BaseLogitsReader Open(string path) => new(path);
}

/// <summary>Writes the log-probabilities of each scored position, in order; see <see cref="BaseLogitsFile"/>.</summary>
public sealed class BaseLogitsWriter : IDisposable
{
    private readonly string _path, _partial;
    private readonly FileStream _stream;
    private readonly float[] _row, _scratch;   // [vocab] log-probabilities, [vocab] exp work space
    private readonly long _expectedRows;
    private long _rows;
    private bool _completed;

    internal BaseLogitsWriter(string path, PerplexityWindows windows, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        _path = Path.GetFullPath(path);
        _partial = _path + ".partial";
        _row = new float[vocabSize];
        _scratch = new float[vocabSize];
        _expectedRows = windows.ScoredTokens;
        _stream = new FileStream(_partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        try
        {
            var header = new byte[BaseLogitsFile.HeaderBytes];
            BaseLogitsFile.Magic.CopyTo(header);
            int[] fields = [BaseLogitsFile.Version, vocabSize, windows.ContextLength, windows.Bos ?? -1, windows.Tokens.Count, windows.Count, windows.ScoredPerWindow];
            for (int i = 0; i < fields.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(8 + 4 * i), fields[i]);
            _stream.Write(header);
            var ids = new int[windows.Tokens.Count];
            for (int i = 0; i < ids.Length; i++) ids[i] = windows.Tokens[i];
            WriteLittleEndian<int>(ids);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Appends the log-softmax of <paramref name="logits"/> [vocab], the next scored position's row.</summary>
    public void Write(ReadOnlySpan<float> logits)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (_rows == _expectedRows) throw new InvalidOperationException($"all {_expectedRows} scored positions are already written");
        LogProbabilities.Compute(logits, _row, _scratch);
        WriteLittleEndian<float>(_row);
        _rows++;
    }

    /// <summary>Checks that every scored position was written and moves the file into place.</summary>
    public void Complete()
    {
        if (_rows != _expectedRows)
            throw new InvalidOperationException($"{_rows} of {_expectedRows} scored positions were written");
        _stream.Dispose();
        File.Move(_partial, _path, overwrite: true);
        _completed = true;
    }

    /// <summary>Closes the file; an incomplete one is deleted.</summary>
    public void Dispose()
    {
        if (_completed) return;
        _stream.Dispose();
        File.Delete(_partial);
        _completed = true;
    }

    private void WriteLittleEndian<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("base log-probability files are written on little-endian machines only");
        _stream.Write(MemoryMarshal.AsBytes(values));
    }
}

/// <summary>Reads a base file's header, tokens, and then its rows in order; see <see cref="BaseLogitsFile"/>.</summary>
public sealed class BaseLogitsReader : IDisposable
{
    private readonly FileStream _stream;
    private long _rows;

    internal BaseLogitsReader(string path)
    {
        Path = path;
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("base log-probability files are read on little-endian machines only");
        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        try
        {
            var header = new byte[BaseLogitsFile.HeaderBytes];
            if (_stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length || !header.AsSpan(0, 8).SequenceEqual(BaseLogitsFile.Magic))
                throw Invalid("is not a base log-probability file (one written by frugal perplexity --kl-divergence-base)");
            int Field(int i) => BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8 + 4 * i));
            int version = Field(0);
            if (version != BaseLogitsFile.Version)
                throw Invalid($"is version {version} of the base log-probability format; this frugal reads version {BaseLogitsFile.Version}");
            VocabSize = Field(1);
            ContextLength = Field(2);
            Bos = Field(3) is var bos and >= 0 ? bos : null;
            int tokenCount = Field(4);
            Windows = Field(5);
            ScoredPerWindow = Field(6);
            if (VocabSize < 1 || ContextLength < PerplexityWindows.MinContextLength || tokenCount < PerplexityWindows.MinimumTokens(ContextLength)
                || Windows != tokenCount / ContextLength || ScoredPerWindow != ContextLength - 1 - ContextLength / 2)
                throw Invalid($"has an inconsistent header (vocab {VocabSize}, ctx {ContextLength}, {tokenCount} tokens, {Windows} windows, {ScoredPerWindow} scored per window)");
            long expected = BaseLogitsFile.HeaderBytes + 4L * tokenCount + 4L * VocabSize * Windows * ScoredPerWindow;
            if (_stream.Length != expected)
                throw Invalid($"is {_stream.Length} bytes; its header promises {expected} (truncated or not written to the end)");
            var tokens = new int[tokenCount];
            _stream.ReadExactly(MemoryMarshal.AsBytes(tokens.AsSpan()));
            Tokens = tokens;
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
    }

    public string Path { get; }
    public int VocabSize { get; }
    public int ContextLength { get; }
    public int? Bos { get; }
    public IReadOnlyList<int> Tokens { get; }
    public int Windows { get; }
    public int ScoredPerWindow { get; }

    /// <summary>
    /// Checks that <paramref name="windows"/>, evaluated by a model of <paramref name="vocabSize"/> tokens, are the ones
    /// this base was saved from: same vocabulary, window, BOS, and text.
    /// </summary>
    /// <exception cref="InvalidDataException">they differ; the message says how.</exception>
    public void EnsureMatches(PerplexityWindows windows, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(windows);
        if (vocabSize != VocabSize)
            throw Invalid($"was saved from a model with a vocabulary of {VocabSize} tokens; this model has {vocabSize}");
        if (windows.ContextLength != ContextLength)
            throw Invalid($"was saved with windows of {ContextLength} tokens; this run uses {windows.ContextLength} (pass --ctx {ContextLength})");
        if (windows.Bos != Bos)
            throw Invalid($"was saved with {Describe(Bos)} over each window's first token; this tokenizer gives {Describe(windows.Bos)}");
        if (windows.Tokens.Count != Tokens.Count)
            throw Invalid($"was saved from a text of {Tokens.Count} tokens; this text has {windows.Tokens.Count}");
        for (int i = 0; i < Tokens.Count; i++)
            if (windows.Tokens[i] != Tokens[i])
                throw Invalid($"was saved from a different text: token #{i} is id {Tokens[i]} there and {windows.Tokens[i]} here");
    }

    /// <summary>Reads the next scored position's log-probabilities into <paramref name="row"/> [vocab].</summary>
    public void ReadRow(Span<float> row)
    {
        if (row.Length != VocabSize) throw new ArgumentException($"the row holds {row.Length} floats; the file's rows hold {VocabSize}", nameof(row));
        if (_rows == (long)Windows * ScoredPerWindow) throw new InvalidOperationException($"all {_rows} rows are already read");
        _stream.ReadExactly(MemoryMarshal.AsBytes(row));
        _rows++;
    }

    public void Dispose() => _stream.Dispose();

    private static string Describe(int? bos) => bos is { } id ? $"BOS id {id}" : "no BOS";

    private InvalidDataException Invalid(string what) => new($"base file '{Path}' {what}");
}
