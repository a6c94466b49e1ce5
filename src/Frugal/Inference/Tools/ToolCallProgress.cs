using System.Text.Json;

namespace Frugal.Inference.Tools;

/// <summary>A call as far as the output shows it so far: its name, and the text of its arguments object up to now
/// (the exact characters the finished call's <see cref="ToolCall.Arguments"/> will start with).</summary>
public readonly record struct ToolCallProgress(string Name, string Arguments, bool Complete);

/// <summary>
/// Reads calls out of a stream's held text while they are still being written, in the shape all three formats share:
/// <c>"name": "f"</c>, then (after a comma) <c>"arguments"</c> or <c>"parameters"</c> and an object. A call written
/// another way (arguments as a string, keys in another order) stops the reading there; the finished output's parse
/// still has it.
/// </summary>
internal static class ToolCallProgressReader
{
    public static List<ToolCallProgress> Read(string text, int from)
    {
        var calls = new List<ToolCallProgress>();
        int i = from;
        while (true)
        {
            int key = text.IndexOf("\"name\"", i, StringComparison.Ordinal);
            if (key < 0) break;
            int at = Colon(text, key + "\"name\"".Length);
            if (at < 0 || at >= text.Length || text[at] != '"') break;
            int nameEnd = StringEnd(text, at);
            if (nameEnd < 0) break;
            string name;
            try { name = JsonSerializer.Deserialize<string>(text.AsSpan(at, nameEnd - at)) ?? ""; }
            catch (JsonException) { break; }
            int k = Skip(text, nameEnd);
            if (k >= text.Length || text[k] != ',') break;
            k = Skip(text, k + 1);
            int afterKey = Key(text, k, "\"arguments\"") ?? Key(text, k, "\"parameters\"") ?? -1;
            if (afterKey < 0) break;
            int open = Colon(text, afterKey);
            if (open < 0 || open >= text.Length || text[open] != '{') break;
            int end = ObjectEnd(text, open, out bool complete);
            calls.Add(new ToolCallProgress(name, text[open..end], complete));
            if (!complete) break;
            i = end;
        }
        return calls;
    }

    private static int Skip(string text, int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
        return i;
    }

    /// <summary>Past ws ':' ws after a key; -1 when the text does not go on that way (or not yet).</summary>
    private static int Colon(string text, int i)
    {
        i = Skip(text, i);
        if (i >= text.Length || text[i] != ':') return -1;
        return Skip(text, i + 1);
    }

    private static int? Key(string text, int i, string key) =>
        string.CompareOrdinal(text, i, key, 0, key.Length) == 0 ? i + key.Length : null;

    /// <summary>Just past the closing quote of the JSON string that opens at <paramref name="open"/>; -1 if unfinished.</summary>
    private static int StringEnd(string text, int open)
    {
        for (int i = open + 1; i < text.Length; i++)
        {
            if (text[i] == '\\') { i++; continue; }
            if (text[i] == '"') return i + 1;
        }
        return -1;
    }

    /// <summary>Just past the object that opens at <paramref name="open"/>, or the text's end while it is unfinished.</summary>
    private static int ObjectEnd(string text, int open, out bool complete)
    {
        int depth = 0;
        bool inString = false;
        for (int i = open; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') inString = true;
            else if (c is '{' or '[') depth++;
            else if (c is '}' or ']' && --depth == 0)
            {
                complete = true;
                return i + 1;
            }
        }
        complete = false;
        return text.Length;
    }
}
