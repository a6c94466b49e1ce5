using System.Globalization;
using System.Text.Json;
using Frugal.Models;
using Frugal.Models.Residency;
using Frugal.Numerics;

namespace Frugal.Cli.Commands;

/// <summary>How <c>run</c> and <c>bench</c> report a <c>--mem-budget</c>: the split, and what the stream read.</summary>
internal static class WeightStreamSummary
{
    public static string Line(WeightResidency r, WeightStreamCounters c) => string.Create(CultureInfo.InvariantCulture,
        $"{Split(r)} | read {c.UnitsRead} units, {c.BytesRead / 1e6:F1} MB; forward waited {c.WaitSeconds:F3} s; the reader read for {c.ReadSeconds:F3} s and repacked for {c.RepackSeconds:F3} s");

    /// <summary>The split alone (what <c>serve</c> says when it is ready).</summary>
    public static string Split(WeightResidency r) => string.Create(CultureInfo.InvariantCulture,
        $"weights: budget {ByteSize.Format(r.Budget ?? 0)} | resident {ByteSize.Format(r.ResidentWeightBytes)} ({r.ResidentLayerCount}/{r.LayerCount} layers)" +
        $" + {r.BufferCount} x {ByteSize.Format(r.BufferBytes)} buffers | streamed {ByteSize.Format(r.StreamedBytes)} per step" +
        $" ({r.StreamedLayers.Count} layers{(r.StreamedGlobals.Count > 0 ? " + " + string.Join(", ", r.StreamedGlobals) : "")}{(r.EmbeddingGathered ? ", embedding rows from the file" : "")})");

    /// <summary>A <c>"weights"</c> object: the residency split and the stream's counters (null fields when nothing streams).</summary>
    public static void WriteJson(Utf8JsonWriter j, ILanguageModel lm)
    {
        j.WriteStartObject("weights");
        var r = lm.Residency;
        if (r?.Budget is { } budget) j.WriteNumber("mem_budget_bytes", budget);
        else j.WriteNull("mem_budget_bytes");
        if (r is not null)
        {
            j.WriteNumber("resident_bytes", r.ResidentWeightBytes);
            j.WriteNumber("resident_layers", r.ResidentLayerCount);
            j.WriteNumber("layers", r.LayerCount);
            j.WriteNumber("buffer_count", r.BufferCount);
            j.WriteNumber("buffer_bytes", r.BufferBytes);
            j.WriteNumber("streamed_bytes", r.StreamedBytes);
            j.WriteNumber("streamed_layers", r.StreamedLayers.Count);
            j.WriteBoolean("embedding_gathered", r.EmbeddingGathered);
        }
        if (lm.StreamCounters is { } c)
        {
            j.WriteNumber("units_read", c.UnitsRead);
            j.WriteNumber("bytes_read", c.BytesRead);
            j.WriteNumber("units_used", c.UnitsUsed);
            j.WriteNumber("bytes_used", c.BytesUsed);
            j.WriteNumber("embedding_rows_read", c.EmbeddingRowsRead);
            j.WriteNumber("wait_s", c.WaitSeconds);
            j.WriteNumber("read_s", c.ReadSeconds);
            j.WriteNumber("repack_s", c.RepackSeconds);
        }
        j.WriteEndObject();
    }
}
