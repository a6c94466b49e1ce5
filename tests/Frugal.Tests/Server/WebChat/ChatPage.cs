using PuppeteerSharp;

namespace Frugal.Tests.Server.WebChat;

/// <summary>The web chat page in a browser tab, driven the way a person uses it (typing, Enter, clicks).</summary>
internal sealed class ChatPage : IAsyncDisposable
{
    private static readonly WaitForFunctionOptions Wait = new() { Timeout = 30_000, PollingInterval = 20 };

    private ChatPage(IPage page, Uri server)
    {
        Page = page;
        Server = server;
        page.PageError += (_, e) => { lock (Errors) Errors.Add("uncaught: " + e.Message); };
        page.Console += (_, e) => { if (e.Message.Type == ConsoleType.Error) lock (Errors) Errors.Add("console: " + e.Message.Text); };
        page.Request += (_, e) => { lock (Requests) Requests.Add(e.Request.Url); };
    }

    public IPage Page { get; }

    public Uri Server { get; }

    /// <summary>Uncaught script errors and console errors (a CSP violation is one).</summary>
    public List<string> Errors { get; } = [];

    /// <summary>Every URL the page asked for.</summary>
    public List<string> Requests { get; } = [];

    public static async Task<ChatPage> OpenAsync(IBrowser browser, Uri server)
    {
        var page = await browser.NewPageAsync();
        var chat = new ChatPage(page, server);
        var response = await page.GoToAsync(server.ToString(), WaitUntilNavigation.Load);
        Assert.Equal(200, (int)response.Status);
        return chat;
    }

    /// <summary>Sets a settings field as typing would, with the input and change events the page listens for.</summary>
    public Task SetAsync(string selector, string value) => Page.EvaluateFunctionAsync(
        "(s, v) => { const e = document.querySelector(s); e.value = v; e.dispatchEvent(new Event('input')); e.dispatchEvent(new Event('change')); }",
        selector, value);

    /// <summary>Types a message into the composer and presses Enter.</summary>
    public async Task SendAsync(string text)
    {
        await Page.FocusAsync("#input");
        await Page.TypeAsync("#input", text);
        await Page.Keyboard.PressAsync("Enter");
    }

    /// <summary>Waits for a condition in the page; on timeout the failure says what the page showed, with a screenshot.</summary>
    public async Task WaitForAsync(string predicate, params object[] args)
    {
        try
        {
            await Page.WaitForFunctionAsync(predicate, Wait, args);
        }
        catch (WaitTaskTimeoutException e)
        {
            string shown = await EvalAsync<string>(
                "[...document.querySelectorAll('.message, .error:not([hidden]), dialog[open]')].map(e => e.className + ': ' + e.textContent.trim()).join('\\n')");
            string shot = await ScreenshotAsync("timeout");
            List<string> errors;
            lock (Errors) errors = [.. Errors];
            throw new TimeoutException($"the page never met {predicate}\npage shows:\n{shown}\nerrors: {string.Join("; ", errors)}\nscreenshot: {shot}", e);
        }
    }

    /// <summary>Waits until answer number <paramref name="index"/> (0-based) is finished: no longer streaming, its stats line shown.</summary>
    public Task WaitForAnswerAsync(int index) => WaitForAsync(
        "i => { const a = document.querySelectorAll('.message.assistant')[i]; return a && !a.classList.contains('streaming') && a.querySelector('.stats'); }", index);

    public Task<string> AnswerTextAsync(int index) =>
        Page.EvaluateFunctionAsync<string>("i => document.querySelectorAll('.message.assistant .bubble')[i].textContent", index);

    public Task<string> AnswerStatsAsync(int index) =>
        Page.EvaluateFunctionAsync<string>("i => document.querySelectorAll('.message.assistant')[i].querySelector('.stats').textContent", index);

    public Task<T> EvalAsync<T>(string expression) => Page.EvaluateExpressionAsync<T>(expression);

    /// <summary>Saves a PNG of the page under the test output folder's TestResults/webchat and returns its path.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "TestResults", "webchat");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name + ".png");
        await Page.ScreenshotAsync(path);
        Assert.True(new FileInfo(path).Length > 1000, $"the screenshot {path} is nearly empty");
        return path;
    }

    public async ValueTask DisposeAsync() => await Page.CloseAsync();
}
