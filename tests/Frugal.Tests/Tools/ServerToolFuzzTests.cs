using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using CsCheck;
using Frugal.Tests.Server;

namespace Frugal.Tests.Tools;

/// <summary>
/// Hostile tool requests against the server whose template has a tool format (so tools reach the schema compiler and
/// the template): random tools, parameters, tool_choice and tool-call turns get a 2xx or a 4xx with an error object,
/// never a 5xx.
/// </summary>
public class ServerToolFuzzTests(ToolServer shared) : IClassFixture<ToolServer>
{
    private const int Cases = 400;

    private static string Str(string s) => JsonSerializer.Serialize(s);

    private static readonly Gen<string> Name = Gen.OneOf(Gen.Const("get_weather"), Gen.Const("f"), Gen.Const(""), Gen.Const("has space"),
        Gen.Const("\ud800"), Gen.String.Select(s => s));

    private static readonly Gen<string> Schema = Gen.Frequency(
        (3, Gen.OneOf(Gen.Const(ToolTemplates.WeatherSchema), Gen.Const("""{"type":"object","properties":{}}"""),
            Gen.Const("""{"type":"object","properties":{"a":{"$ref":"#/$defs/x"}},"$defs":{"x":{"enum":[1,"b",null]}}}"""),
            Gen.Const("""{"type":"object","properties":{"s":{"type":"string","format":5}}}"""),
            Gen.Const("""{"type":"object","properties":{"n":{"type":"number","minimum":1}}}"""), Gen.Const("null"), Gen.Const("[]"))),
        (2, RequestBodyGen.Json));

    private static readonly Gen<string> Tool = Gen.Frequency(
        (4, Gen.Select(Name, Schema).Select((n, s) => "{\"type\":\"function\",\"function\":{\"name\":" + Str(n) + ",\"description\":\"d\",\"parameters\":" + s + "}}")),
        (1, RequestBodyGen.Json));

    private static readonly Gen<string> Choice = Gen.Frequency(
        (4, Gen.OneOf(Gen.Const("\"none\""), Gen.Const("\"auto\""), Gen.Const("\"required\""), Gen.Const("null"))),
        (2, Name.Select(n => "{\"type\":\"function\",\"function\":{\"name\":" + Str(n) + "}}")),
        (1, RequestBodyGen.Json));

    private static readonly Gen<string> Call = Gen.Frequency(
        (3, Gen.Select(Name, Gen.OneOf(Gen.Const("{\"city\":\"Oslo\",\"days\":1}"), Gen.Const("not json"), Gen.Const("[1]")))
            .Select((n, a) => "{\"id\":\"abcDEF123\",\"type\":\"function\",\"function\":{\"name\":" + Str(n) + ",\"arguments\":" + Str(a) + "}}")),
        (1, RequestBodyGen.Json));

    private static readonly Gen<string> Messages = Gen.Frequency(
        (3, Gen.Const("""[{"role":"user","content":"hi"}]""")),
        (3, Gen.Select(Call.Array[0, 2], RequestBodyGen.Json).Select((calls, id) =>
            $$"""[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{{string.Join(",", calls)}}]},{"role":"tool","tool_call_id":{{id}},"content":"21"}]""")),
        (1, RequestBodyGen.Json));

    private static readonly Gen<string> Body = Gen.Select(Messages, Tool.Array[0, 3], Choice, Gen.OneOf(Gen.Const("true"), Gen.Const("false"), RequestBodyGen.Json), Gen.Bool)
        .Select((m, tools, c, p, stream) =>
            $$"""{"messages":{{m}},"max_tokens":2,"tools":[{{string.Join(",", tools)}}],"tool_choice":{{c}},"parallel_tool_calls":{{p}},"stream":{{(stream ? "true" : "false")}}}""");

    [Fact]
    public async Task Hostile_tool_requests_get_a_2xx_or_a_4xx_with_an_error_object()
    {
        var h = shared.Harness;
        var pcg = new PCG(7, 2026);
        var bodies = Enumerable.Range(0, Cases).Select(_ => Body.Generate(pcg, null, out Size _)).ToList();
        var failures = new ConcurrentBag<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        await Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (body, ct) =>
        {
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await h.Http.PostAsync("v1/chat/completions", content, ct);
            int status = (int)response.StatusCode;
            statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            string text = await response.Content.ReadAsStringAsync(ct);
            if (status >= 500) failures.Add($"{status} for {body}: {text}");
            else if (status >= 400 && !text.Contains("\"error\"", StringComparison.Ordinal)) failures.Add($"{status} without an error object for {body}: {text}");
        });
        Assert.True(failures.IsEmpty, $"{failures.Count} of {Cases} failed; first ones:\n" + string.Join("\n", failures.Take(5)));
        Assert.True(statuses.GetValueOrDefault(200) > 20, string.Join(", ", statuses));
        Assert.True(statuses.GetValueOrDefault(400) > 20, string.Join(", ", statuses));
    }
}
