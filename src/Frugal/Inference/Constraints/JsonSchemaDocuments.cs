using System.Text.Json;
using System.Text.Json.Nodes;

namespace Frugal.Inference.Constraints;

/// <summary>
/// The documents a schema's external <c>$ref</c>s may point into, by URI: the bundled meta-schemas of drafts 4, 6 and
/// 7, and any local schemas a caller adds (a directory of files, never the network). A reference into a document not
/// here is refused by name.
/// </summary>
public sealed class JsonSchemaDocuments
{
    private readonly Dictionary<string, JsonElement> _byUri = new(StringComparer.Ordinal);

    /// <summary>Only the bundled meta-schemas.</summary>
    public static JsonSchemaDocuments MetaSchemas { get; } = Bundled();

    private static JsonSchemaDocuments Bundled()
    {
        var docs = new JsonSchemaDocuments();
        var assembly = typeof(JsonSchemaDocuments).Assembly;
        foreach (string draft in (string[])["draft-04", "draft-06", "draft-07"])
        {
            using var stream = assembly.GetManifestResourceStream($"meta-schemas/{draft}.json")
                ?? throw new InvalidOperationException($"the bundled meta-schema {draft} is missing from the assembly");
            docs.Add($"http://json-schema.org/{draft}/schema", JsonDocument.Parse(stream).RootElement);
        }
        return docs;
    }

    /// <summary>The bundled meta-schemas and every *.json file in the directory, each under its $id (or draft 4 id)
    /// and under its file name (so <c>"$ref": "common.json#/definitions/x"</c> finds common.json).</summary>
    /// <exception cref="JsonSchemaException">a file that is not JSON.</exception>
    public static JsonSchemaDocuments FromDirectory(string directory)
    {
        var docs = Bundled();
        foreach (string file in Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal))
        {
            JsonElement root;
            try { root = JsonDocument.Parse(File.ReadAllText(file)).RootElement; }
            catch (JsonException e) { throw new JsonSchemaException($"schema file '{file}' is not JSON: {e.Message}"); }
            docs.Add(Path.GetFileName(file), root);
            foreach (string key in (string[])["$id", "id"])
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty(key, out var id) && id.ValueKind == JsonValueKind.String)
                    docs.Add(id.GetString()!, root);
        }
        return docs;
    }

    /// <summary>Adds a document under a URI (a fragment or trailing '#' is dropped). Its local references (#/...) are
    /// rewritten as references into this URI, so they resolve here wherever its parts end up.</summary>
    public void Add(string uri, JsonElement document)
    {
        string key = Key(uri);
        var node = JsonNode.Parse(document.GetRawText());
        Absolute(node, key);
        _byUri[key] = JsonSerializer.SerializeToElement(node);
    }

    /// <summary>The document at the URI (fragment ignored), when known.</summary>
    public bool TryGet(string uri, out JsonElement document) => _byUri.TryGetValue(Key(uri), out document);

    private static string Key(string uri)
    {
        int hash = uri.IndexOf('#');
        return hash < 0 ? uri : uri[..hash];
    }

    private static void Absolute(JsonNode? node, string uri)
    {
        if (node is JsonArray a) foreach (var x in a) Absolute(x, uri);
        if (node is not JsonObject o) return;
        foreach (var (name, value) in o.ToList())
        {
            if (name == "$ref" && value is JsonValue v && v.TryGetValue(out string? target) && target.StartsWith('#'))
                o[name] = uri + target;
            else Absolute(value, uri);
        }
    }
}
