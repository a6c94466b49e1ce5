using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Frugal.Server;
using Frugal.Tests.Training;
using Xunit.Abstractions;

namespace Frugal.Tests.Server.WebChat;

/// <summary>
/// The web chat page at / in headless chromium, against the real server on 127.0.0.1 running the built-in model:
/// a streamed answer that is the API's own greedy answer, Stop during an endless generation, New chat, and the API key.
/// </summary>
public class WebChatBrowserTests(ChromiumFixture chromium, ITestOutputHelper output) : IClassFixture<ChromiumFixture>
{
    private static string BuiltInModel => Path.Combine(ShippedModels.Directory, "frugal-main.gguf");

    private static async Task<FrugalServer> StartAsync(string? apiKey = null)
    {
        var server = await FrugalServer.StartAsync(new ServerOptions { ModelPath = BuiltInModel, Port = 0, Parallel = 2, ContextLength = 512, ApiKey = apiKey });
        await server.Loaded;
        return server;
    }

    [Fact]
    public async Task Streamed_greedy_answer_is_the_apis_greedy_answer_with_its_token_count()
    {
        await using var server = await StartAsync();
        await using var chat = await ChatPage.OpenAsync(chromium.Browser, server.BaseAddress);
        await chat.WaitForAsync("() => document.getElementById('model').textContent === 'frugal-main'");
        await chat.SetAsync("#system-prompt", "Tell a short story.");
        await chat.SetAsync("#temperature", "0");
        await chat.SetAsync("#max-tokens", "40");

        const string question = "Once upon a time, there was";
        await chat.SendAsync(question);
        await chat.WaitForAnswerAsync(0);
        string answer = await chat.AnswerTextAsync(0);
        string stats = await chat.AnswerStatsAsync(0);
        string shot = await chat.ScreenshotAsync("greedy-answer");
        output.WriteLine($"screenshot: {shot}\nanswer: {answer}\nstats: {stats}");

        // The same request through the API, without streaming.
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using var response = await http.PostAsync("v1/chat/completions", ServerHarness.Json(JsonSerializer.Serialize(new
        {
            messages = new[] { new { role = "system", content = "Tell a short story." }, new { role = "user", content = question } },
            temperature = 0,
            max_tokens = 40,
        })));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        string expected = body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        int tokens = body.GetProperty("usage").GetProperty("completion_tokens").GetInt32();

        Assert.NotEmpty(expected.Trim());
        Assert.Equal(expected, answer);
        Assert.StartsWith($"{tokens} tokens · ", stats);
        Assert.Contains(" tokens/s", stats);
        Assert.Equal(question, await chat.EvalAsync<string>("document.querySelector('.message.user .bubble').textContent"));
        Assert.True(await chat.EvalAsync<bool>("document.getElementById('stop').hidden && !document.getElementById('send').hidden"));
        Assert.Empty(chat.Errors);
        Assert.All(chat.Requests, url => Assert.StartsWith(server.BaseAddress.ToString(), url));
        Assert.Contains(chat.Requests, url => url.EndsWith("/v1/chat/completions", StringComparison.Ordinal));

        // A second turn carries the first: its prompt holds the question, the answer and the new message.
        await chat.SendAsync("And then?");
        await chat.WaitForAnswerAsync(1);
        Assert.NotEmpty(await chat.AnswerTextAsync(1));
        Assert.Equal(4, await chat.EvalAsync<int>("document.querySelectorAll('.message').length"));
    }

    [Fact]
    public async Task Stop_ends_an_endless_generation_and_new_chat_clears_the_page()
    {
        await using var server = await StartAsync();
        await using var chat = await ChatPage.OpenAsync(chromium.Browser, server.BaseAddress);
        await chat.SetAsync("#max-tokens", "100000");
        // Never the end token, and the context shifts instead of filling: only Stop ends this answer.
        await chat.SetAsync("#extra", """{"ignore_eos": true, "context_shift": true}""");

        const string markup = "<img src=x onerror=\"document.body.dataset.injected=1\"> <b>tell me</b> a story";
        await chat.SendAsync(markup);
        await chat.WaitForAsync("() => !document.getElementById('stop').hidden && document.querySelector('.message.assistant .bubble').textContent.length > 0");
        int seen = await chat.EvalAsync<int>("document.querySelector('.message.assistant .bubble').textContent.length");
        // It grows while the answer is still streaming.
        await chat.WaitForAsync("n => document.querySelector('.message.assistant .bubble').textContent.length > n + 40 && !document.getElementById('stop').hidden", seen);
        Assert.True(await chat.EvalAsync<bool>("document.querySelector('.message.assistant').classList.contains('streaming')"));
        Assert.True(await chat.EvalAsync<bool>("document.getElementById('send').hidden"));
        string streamingShot = await chat.ScreenshotAsync("streaming");

        await chat.Page.ClickAsync("#stop");
        await chat.WaitForAnswerAsync(0);
        Assert.True(await chat.EvalAsync<bool>("document.getElementById('stop').hidden && !document.getElementById('send').hidden && !document.getElementById('send').disabled"));
        Assert.EndsWith(" · stopped", await chat.AnswerStatsAsync(0));
        string stopped = await chat.AnswerTextAsync(0);

        // The server dropped the sequence, and nothing more arrives on the page.
        var metrics = server.State.Model!.Engine.Metrics;
        for (int i = 0; i < 500 && metrics.RunningSequences > 0; i++) await Task.Delay(20);
        Assert.Equal(0, metrics.RunningSequences);
        long generated = metrics.CompletionTokens;
        await Task.Delay(300);
        Assert.Equal(generated, metrics.CompletionTokens);
        Assert.Equal(stopped, await chat.AnswerTextAsync(0));
        output.WriteLine($"screenshot while streaming: {streamingShot}\nstopped after {stopped.Length} characters, {generated} tokens");

        // The user's markup is shown as text, never run or parsed.
        Assert.Equal(markup, await chat.EvalAsync<string>("document.querySelector('.message.user .bubble').textContent"));
        Assert.Equal(0, await chat.EvalAsync<int>("document.querySelectorAll('#messages img, #messages b').length"));
        Assert.Null(await chat.EvalAsync<string?>("document.body.dataset.injected ?? null"));

        await chat.Page.ClickAsync("#new-chat");
        Assert.Equal(0, await chat.EvalAsync<int>("document.querySelectorAll('.message').length"));
        Assert.False(await chat.EvalAsync<bool>("document.getElementById('empty').hidden"));
        Assert.Empty(chat.Errors);
    }

    [Fact]
    public async Task With_an_api_key_the_page_asks_for_it_keeps_it_and_the_api_still_requires_it()
    {
        const string key = "webchat-secret";
        await using var server = await StartAsync(key);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("webchat/chat.js")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("v1/models")).StatusCode);

        await using var chat = await ChatPage.OpenAsync(chromium.Browser, server.BaseAddress);
        await chat.WaitForAsync("() => document.getElementById('key-dialog').open");
        string dialogShot = await chat.ScreenshotAsync("api-key-dialog");

        await chat.Page.TypeAsync("#key-input", "wrong-key");
        await chat.Page.ClickAsync("#key-save");
        await chat.WaitForAsync("() => document.getElementById('key-dialog').open && !document.getElementById('key-error').hidden");
        Assert.Contains("refused", await chat.EvalAsync<string>("document.getElementById('key-error').textContent"));

        await chat.SetAsync("#key-input", "");
        await chat.Page.TypeAsync("#key-input", key);
        await chat.Page.ClickAsync("#key-save");
        await chat.WaitForAsync("() => !document.getElementById('key-dialog').open && document.getElementById('model').textContent === 'frugal-main'");
        Assert.Equal(key, await chat.EvalAsync<string>("localStorage.getItem('frugal.apiKey')"));

        await chat.SetAsync("#max-tokens", "12");
        await chat.SendAsync("Hello");
        await chat.WaitForAnswerAsync(0);
        Assert.NotEmpty(await chat.AnswerTextAsync(0));
        Assert.False(await chat.EvalAsync<bool>("document.querySelector('.message.assistant').classList.contains('error')"));

        // A reload remembers the key: no dialog, and the model list (behind the key) loads.
        await chat.Page.ReloadAsync();
        await chat.WaitForAsync("() => document.getElementById('model').textContent === 'frugal-main'");
        Assert.False(await chat.EvalAsync<bool>("document.getElementById('key-dialog').open"));

        // The page's key is the one the API takes.
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await chat.EvalAsync<string>("localStorage.getItem('frugal.apiKey')"));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("v1/models")).StatusCode);
        output.WriteLine($"screenshot of the key dialog: {dialogShot}");
    }
}
