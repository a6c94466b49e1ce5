using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using CsCheck;
using Xunit.Abstractions;

namespace Frugal.Tests.Server;

/// <summary>
/// Thousands of hostile requests (<see cref="RequestBodyGen"/>) against the real server: every answer is 2xx, or 4xx
/// with an OpenAI error object; never a 5xx, a hang or a crash. The cases come from CsCheck's generators under a fixed
/// seed, so a failure names the exact bodies and repeats on every run.
/// </summary>
public class ServerFuzzTests(ITestOutputHelper output)
{
    private const int Cases = 3000;

    [Fact]
    public async Task Hostile_request_bodies_get_a_2xx_or_a_4xx_with_an_error_object()
    {
        await using var h = await ServerHarness.StartAsync(o => o with { ContextLength = 64, Parallel = 4, MaxQueuedRequests = 256, MaxBodyBytes = 512 * 1024 });
        var pcg = new PCG(15, 2026);
        var requests = Enumerable.Range(0, Cases).Select(_ => RequestBodyGen.Requests.Generate(pcg, null, out Size _)).ToList();
        var failures = new ConcurrentBag<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        using var http = new HttpClient { BaseAddress = h.Server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (r, ct) =>
        {
            try
            {
                using var message = new HttpRequestMessage(new HttpMethod(r.Method), r.Path);
                if (r.Body is not null)
                {
                    message.Content = new ByteArrayContent(r.Body);
                    message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                }
                using var response = await http.SendAsync(message, ct);
                int status = (int)response.StatusCode;
                statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                string text = await response.Content.ReadAsStringAsync(ct);
                if (status >= 500) failures.Add($"{status} for {r}: {text}");
                else if (status >= 400 && !IsErrorObject(text)) failures.Add($"{status} without an error object for {r}: {text}");
            }
            catch (Exception e)
            {
                failures.Add($"{e.GetType().Name} ({e.Message}) for {r}");
            }
        });
        output.WriteLine("answers by status: " + string.Join(", ", statuses.OrderBy(s => s.Key)));
        Assert.True(failures.IsEmpty, $"{failures.Count} of {Cases} requests failed; first ones:\n" + string.Join("\n", failures.Take(10)));

        // Both kinds of answers were exercised, and the server still serves.
        Assert.True(statuses.Where(s => s.Key is >= 200 and < 300).Sum(s => s.Value) > 100, string.Join(", ", statuses));
        Assert.True(statuses.Where(s => s.Key is >= 400 and < 500).Sum(s => s.Value) > Cases / 2, string.Join(", ", statuses));
        var (ok, body) = await h.PostAsync("v1/completions", """{"prompt":"hi","max_tokens":2}""");
        Assert.Equal(200, ok);
        Assert.Equal(0, h.Server.State.Model!.Engine.Metrics.RunningSequences);
    }

    private static bool IsErrorObject(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.TryGetProperty("error", out var error)
                && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String && m.GetString()!.Length > 0
                && error.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
