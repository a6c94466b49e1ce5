using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;

namespace Frugal.Tests.Server;

/// <summary>One hostile HTTP request: method, path, raw body bytes (null for none).</summary>
public sealed record FuzzRequest(string Method, string Path, byte[]? Body)
{
    public override string ToString() =>
        $"{Method} /{Path} {(Body is null ? "(no body)" : Body.Length > 600 ? $"({Body.Length} bytes) " + Encoding.UTF8.GetString(Body, 0, 600) + "..." : Encoding.UTF8.GetString(Body))}";
}

/// <summary>
/// CsCheck generators of request bodies a hostile or confused client sends: random JSON of any shape, valid bodies
/// with fields replaced by wrong types, nulls, huge numbers and deep nesting, invalid UTF-8, giant arrays and strings.
/// Valid bodies ask for at most 2 tokens so that generation stays a small share of the time.
/// </summary>
public static class RequestBodyGen
{
    /// <summary>Every field either endpoint reads or refuses, and a few it ignores.</summary>
    public static readonly string[] Fields =
    [
        "model", "messages", "prompt", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "min_p", "n", "stop",
        "seed", "stream", "stream_options", "presence_penalty", "frequency_penalty", "repeat_penalty", "repetition_penalty",
        "repeat_last_n", "logit_bias", "logprobs", "top_logprobs", "echo", "suffix", "best_of", "tools", "tool_choice",
        "functions", "function_call", "response_format", "grammar", "json_schema", "kv_budget", "kv_policy", "kv_sinks",
        "context_shift", "n_keep", "ignore_eos", "user", "metadata", "audio",
    ];

    private static string Str(string s) => JsonSerializer.Serialize(s);

    private static readonly Gen<string> Numbers = Gen.OneOf(
        Gen.Int.Select(i => i.ToString(CultureInfo.InvariantCulture)),
        Gen.Int[-3, 70].Select(i => i.ToString(CultureInfo.InvariantCulture)),
        Gen.Long.Select(l => l.ToString(CultureInfo.InvariantCulture)),
        Gen.Double[-1e6, 1e6].Select(d => d.ToString("R", CultureInfo.InvariantCulture)),
        Gen.OneOf(Gen.Const("1e400"), Gen.Const("-1e400"), Gen.Const("1e-400"), Gen.Const("99999999999999999999999999999"), Gen.Const("-0"),
            Gen.Const("0.5"), Gen.Const("2147483648"), Gen.Const("-2147483649"), Gen.Const("18446744073709551616"), Gen.Const("3.4e38"), Gen.Const("1E+2")));

    private static readonly Gen<string> Strings = Gen.OneOf(
        Gen.String.Select(Str),
        Gen.OneOf(Gen.Const(""), Gen.Const("user"), Gen.Const("assistant"), Gen.Const("system"), Gen.Const("tool"), Gen.Const("text"), Gen.Const("auto"),
            Gen.Const("none"), Gen.Const("window"), Gen.Const("json_object"), Gen.Const("<|im_start|>"), Gen.Const("\ud800"), Gen.Const("\0")).Select(Str),
        Gen.Char.Array[0, 12].Select(c => Str(new string(c))));

    private static readonly Gen<string> Leaf = Gen.Frequency(
        (2, Gen.Const("null")), (1, Gen.Bool.Select(b => b ? "true" : "false")), (3, Numbers), (3, Strings));

    private static readonly Gen<string> Key = Gen.Frequency((3, Gen.OneOf(Fields.Select(Gen.Const).ToArray())),
        (1, Gen.OneOf(Gen.Const("role"), Gen.Const("content"), Gen.Const("type"), Gen.Const("text"), Gen.Const("include_usage"))), (1, Gen.String));

    /// <summary>Any JSON value, nested up to a few levels.</summary>
    public static readonly Gen<string> Json = Gen.Recursive<string>((depth, self) => depth >= 3
        ? Leaf
        : Gen.Frequency(
            (5, Leaf),
            (1, self.Array[0, 4].Select(items => "[" + string.Join(",", items) + "]")),
            (1, Gen.Select(Key, self).Array[0, 4].Select(ps => "{" + string.Join(",", ps.Select(p => Str(p.Item1) + ":" + p.Item2)) + "}"))));

    /// <summary>One element of messages: a message, a near miss, or anything at all (null included).</summary>
    private static readonly Gen<string> Message = Gen.Frequency(
        (3, Gen.Const("""{"role":"user","content":"hi"}""")),
        (2, Gen.Select(Strings, Json).Select((r, c) => $$"""{"role":{{r}},"content":{{c}}}""")),
        (1, Gen.Const("""{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}}]}""")),
        (1, Gen.Const("""{"role":"user","content":[null]}""")),
        (2, Leaf),
        (1, Json));

    /// <summary>A plausible value for a field, valid or a near miss.</summary>
    private static Gen<string> Plausible(string field) => field switch
    {
        "messages" => Gen.OneOf(Message.Array[0, 3].Select(items => "[" + string.Join(",", items) + "]"), Json),
        "prompt" => Gen.OneOf(Strings, Gen.Int[-5, 300].Array[0, 6].Select(a => "[" + string.Join(",", a) + "]"),
            Gen.Int[-1, 300].Array[0, 3].Array[0, 3].Select(a => "[" + string.Join(",", a.Select(x => "[" + string.Join(",", x) + "]")) + "]")),
        "max_tokens" or "max_completion_tokens" => Gen.OneOf(Gen.Int[-2, 2].Select(i => i.ToString(CultureInfo.InvariantCulture)), Numbers),
        "logit_bias" => Gen.Select(Gen.OneOf(Gen.Int[-3, 400].Select(i => i.ToString(CultureInfo.InvariantCulture)), Gen.String), Numbers)
            .Array[0, 3].Select(ps => "{" + string.Join(",", ps.Select(p => Str(p.Item1) + ":" + p.Item2)) + "}"),
        "stop" => Gen.OneOf(Strings, Strings.Array[0, 6].Select(s => "[" + string.Join(",", s) + "]")),
        "stream" or "echo" or "ignore_eos" or "context_shift" => Gen.OneOf(Gen.Const("true"), Gen.Const("false"), Leaf),
        "response_format" => Gen.OneOf(Gen.Const("""{"type":"text"}"""), Gen.Const("""{"type":"json_object"}"""), Json),
        "tools" => Gen.OneOf(Gen.Const("[]"), Gen.Const("""[{"type":"function","function":{"name":"f"}}]"""), Json),
        "logprobs" => Gen.OneOf(Gen.Const("true"), Gen.Int[-1, 6].Select(i => i.ToString(CultureInfo.InvariantCulture)), Leaf),
        _ => Gen.Frequency((3, Numbers), (1, Leaf), (1, Json)),
    };

    // The structured fields (messages, prompt, logit_bias, stop) hide the most paths: pick them more often.
    private static readonly Gen<string> Field = Gen.Frequency(
        (8, Gen.Const("messages")), (6, Gen.Const("prompt")), (3, Gen.Const("logit_bias")), (2, Gen.Const("stop")),
        (Fields.Length, Gen.OneOf(Fields.Select(Gen.Const).ToArray())));

    /// <summary>A field and its new value: plausible for that field, or any JSON.</summary>
    private static readonly Gen<(string, string)> Change =
        Gen.Select(Field, Gen.Bool).SelectMany(p => Gen.Select(Gen.Const(p.Item1), p.Item2 ? Plausible(p.Item1) : Json));

    /// <summary>A valid small body for one endpoint with 1-3 fields replaced by plausible or random values.</summary>
    private static Gen<string> MutatedBody(bool chat) =>
        Gen.Frequency((3, Change.Array[1, 1]), (1, Change.Array[2, 3])).Select(changes =>
        {
            var fields = new Dictionary<string, string>
            {
                ["model"] = "\"m\"",
                [chat ? "messages" : "prompt"] = chat ? """[{"role":"user","content":"hi"}]""" : "\"hi\"",
                ["max_tokens"] = "1",
            };
            foreach (var (name, value) in changes) fields[name] = value;
            // A replaced max_tokens may ask for many tokens: keep the run short unless it is invalid anyway.
            if (fields["max_tokens"] is var m && int.TryParse(m, out int n) && n > 2) fields["max_tokens"] = "2";
            if (fields.ContainsKey("max_completion_tokens") && int.TryParse(fields["max_completion_tokens"], out int k) && k > 2) fields["max_completion_tokens"] = "2";
            if (fields.TryGetValue("n", out var nv) && int.TryParse(nv, out int choices) && choices > 2) fields["n"] = "2";
            return "{" + string.Join(",", fields.Select(f => Str(f.Key) + ":" + f.Value)) + "}";
        });

    private static readonly Gen<string> Paths = Gen.Frequency(
        (6, Gen.Const("v1/chat/completions")), (6, Gen.Const("v1/completions")), (1, Gen.Const("v1/models")), (1, Gen.Const("v1/embeddings")),
        (1, Gen.OneOf(Gen.Const("v1/"), Gen.Const("v1/chat"), Gen.Const("v1/models/m"), Gen.Const("v1/chat/completions/x"), Gen.Const("v1/%FF"))));

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Bytes that are not UTF-8 (lone continuation, overlong, surrogate, truncated sequence) put inside a body.</summary>
    private static readonly Gen<byte[]> InvalidUtf8 = Gen.Select(MutatedBody(true), Gen.Int[0, 4], Gen.Int[0, 1000]).Select((body, kind, at) =>
    {
        byte[] bad = kind switch { 0 => [0x80], 1 => [0xC0, 0xAF], 2 => [0xED, 0xA0, 0x80], 3 => [0xE2, 0x82], _ => [0xFF, 0xFE] };
        var bytes = Utf8(body).ToList();
        // Inside the first string value (after "model":"), or at a random place.
        int i = at % 2 == 0 ? body.IndexOf("\"m\"", StringComparison.Ordinal) + 1 : at % (bytes.Count + 1);
        bytes.InsertRange(Math.Max(i, 0), bad);
        return bytes.ToArray();
    });

    /// <summary>Deep nesting, giant arrays and strings, truncated and empty bodies.</summary>
    private static readonly Gen<string> Extreme = Gen.OneOf(
        Gen.Int[10, 3000].Select(d => $$"""{"messages":{{new string('[', d)}}{{new string(']', d)}},"max_tokens":1}"""),
        Gen.Int[10, 3000].Select(d => $$"""{"prompt":"hi","max_tokens":1,"logit_bias":{{string.Concat(Enumerable.Repeat("{\"a\":", d))}}1{{new string('}', d)}}}"""),
        Gen.Int[1000, 60000].Select(n => $$"""{"prompt":[{{string.Join(",", Enumerable.Repeat("1", n))}}],"max_tokens":1}"""),
        Gen.Int[1000, 60000].Select(n => $$"""{"prompt":"hi","max_tokens":1,"stop":[{{string.Join(",", Enumerable.Repeat("\"x\"", n / 4))}}]}"""),
        Gen.Int[1000, 300000].Select(n => $$"""{"messages":[{"role":"user","content":"{{new string('a', n)}}"}],"max_tokens":1}"""),
        Gen.Int[1000, 30000].Select(n => "{\"prompt\":\"hi\",\"max_tokens\":1,\"logit_bias\":{" + string.Join(",", Enumerable.Range(0, n).Select(i => $"\"{i}\":1")) + "}}"),
        Gen.Int[1, 60].Select(n => """{"messages":[{"role":"user","content":"hi"}],"max_tokens":1}"""[..n]),
        Gen.OneOf(Gen.Const(""), Gen.Const("null"), Gen.Const("[]"), Gen.Const("{}"), Gen.Const("\"\""), Gen.Const("{\"a\":1}{\"b\":2}")));

    /// <summary>Hostile requests, mostly invalid: random JSON, mutated valid bodies, invalid UTF-8, extremes.</summary>
    public static readonly Gen<FuzzRequest> Requests = Gen.Frequency(
        (3, Gen.Select(Paths, Json).Select((p, j) => new FuzzRequest("POST", p, Utf8(j)))),
        (6, Gen.Select(Gen.Bool, Gen.Int[0, 19]).SelectMany((chat, method) => MutatedBody(chat).Select(b =>
            new FuzzRequest(method == 0 ? "GET" : "POST", chat ? "v1/chat/completions" : "v1/completions", Utf8(b))))),
        (1, InvalidUtf8.Select(b => new FuzzRequest("POST", "v1/chat/completions", b))),
        (1, Gen.Select(Paths, Extreme).Select((p, e) => new FuzzRequest("POST", p, Utf8(e)))),
        (1, Gen.Select(Paths, Gen.OneOf(Gen.Const("GET"), Gen.Const("DELETE"), Gen.Const("PUT"))).Select((p, m) => new FuzzRequest(m, p, null))));
}
