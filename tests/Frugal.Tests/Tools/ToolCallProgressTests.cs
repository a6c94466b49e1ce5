using Frugal.Inference.Tools;

namespace Frugal.Tests.Tools;

/// <summary>Calls read out of a stream while they are written: names as soon as they are whole, arguments as they
/// grow, always a prefix of what the finished parse reports.</summary>
public class ToolCallProgressTests
{
    [Theory]
    [InlineData(ToolTemplates.Qwen3, "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"city\": \"Os\\\"lo}\", \"n\": [1, {\"d\": 2}]}}\n</tool_call>\n<tool_call>\n{\"name\": \"g\", \"arguments\": {}}\n</tool_call>")]
    [InlineData(ToolTemplates.Llama32, "{\"name\": \"f\", \"parameters\": {\"city\": \"Oslo\", \"n\": 2}}")]
    [InlineData(ToolTemplates.MistralNemo, "[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {\"city\": \"Oslo\"}, \"id\": \"abc123def\"}, {\"name\": \"g\", \"arguments\": {\"x\": null}}]")]
    public void Arguments_grow_as_prefixes_of_the_parsed_ones(string template, string output)
    {
        var tools = ToolCalling.Create(ToolTemplates.Template(template), [new ToolDefinition("f"), new ToolDefinition("g")], ToolChoice.Auto)!;
        var stream = tools.Stream();
        var seen = new List<ToolCallProgress>();
        var grew = 0;
        for (int i = 0; i < output.Length; i += 3)
        {
            Assert.Equal("", stream.Push(output.Substring(i, Math.Min(3, output.Length - i))));
            var now = stream.Progress();
            Assert.True(now.Count >= seen.Count, "a call once shown stays");
            for (int k = 0; k < seen.Count; k++)
            {
                Assert.Equal(seen[k].Name, now[k].Name);
                Assert.StartsWith(seen[k].Arguments, now[k].Arguments);
                if (now[k].Arguments.Length > seen[k].Arguments.Length && !seen[k].Complete) grew++;
            }
            seen = [.. now];
        }
        var (tail, calls) = stream.Finish();
        Assert.Equal("", tail);
        Assert.Equal(calls.Select(c => (c.Name, c.Arguments)), seen.Select(p => (p.Name, p.Arguments)));
        Assert.All(seen, p => Assert.True(p.Complete));
        Assert.True(grew >= 3, $"arguments arrived in {grew} pieces");
    }

    [Fact]
    public void Without_parallel_calls_only_the_first_call_is_shown()
    {
        var tools = ToolCalling.Create(ToolTemplates.Template(ToolTemplates.Qwen3), [new ToolDefinition("f"), new ToolDefinition("g")], ToolChoice.Auto, parallel: false)!;
        var stream = tools.Stream();
        stream.Push("<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>\n<tool_call>\n{\"name\": \"g\", \"arguments\": {}}\n</tool_call>");
        Assert.Equal("f", Assert.Single(stream.Progress()).Name);
    }

    [Fact]
    public void Arguments_written_as_a_string_are_left_to_the_finished_parse()
    {
        var tools = ToolCalling.Create(ToolTemplates.Template(ToolTemplates.Qwen3), [new ToolDefinition("f")], ToolChoice.Auto)!;
        var stream = tools.Stream();
        stream.Push("<tool_call>\n{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}\n</tool_call>");
        Assert.Empty(stream.Progress());
        Assert.Equal("{\"a\": 1}", Assert.Single(stream.Finish().Calls).Arguments);
    }
}
