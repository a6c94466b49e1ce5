using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Frugal.Cli.Commands;

/// <summary>Writes one compact JSON object as a line of text.</summary>
internal static class JsonText
{
    private static readonly JsonWriterOptions Options = new()
    {
        // Keep non-ASCII text readable (tokens of any language) instead of \uXXXX escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void WriteLine(TextWriter output, Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    public static void WriteIds(Utf8JsonWriter json, string name, IEnumerable<int> ids)
    {
        json.WriteStartArray(name);
        foreach (int id in ids) json.WriteNumberValue(id);
        json.WriteEndArray();
    }
}
