using PuppeteerSharp;

namespace Frugal.Tests.Server.WebChat;

/// <summary>
/// One headless Debian chromium (never a downloaded browser) shared by a test class. A machine without it fails the
/// tests with how to install it: .ci/run installs it before dotnet test, so a missing browser is a broken machine.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    private static readonly string[] Names = ["chromium", "chromium-browser"];

    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("the browser did not start");

    public async Task InitializeAsync()
    {
        string path = Find() ?? throw new InvalidOperationException(
            $"the web chat tests need Debian's chromium, and none of {string.Join(", ", Names)} is on PATH ({Environment.GetEnvironmentVariable("PATH")}): " +
            "install it with 'apt-get install -y chromium' (.ci/run does this before dotnet test)");
        _browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = path,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
            DefaultViewport = new ViewPortOptions { Width = 1200, Height = 760 },
            Timeout = 60_000,
        });
    }

    private static string? Find()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (string name in Names)
            {
                string candidate = Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
    }
}
