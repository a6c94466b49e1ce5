using System.Text.Json;
using System.Text.RegularExpressions;
using Frugal.Cli;
using Frugal.Tests.Engine;
using Frugal.Tests.Hub;
using Frugal.Tools.Hub;

namespace Frugal.Tests.Cli;

/// <summary><c>frugal pull / list / rm</c> and hub references as MODEL, against the in-process hub.</summary>
public sealed class PullCommandTests : IAsyncLifetime
{
    private static readonly byte[] Model = FakeHub.TinyModel(seed: 21);
    private static readonly string Size = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Model.Length / 1048576.0:F2} MiB");

    private readonly CliHarness _cli = new();
    private FakeHub _hub = null!;

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _hub.Add("test/tiny", "tiny-F32.gguf", Model);
        _hub.Add("meta/gated", "gated-Q4_K_M.gguf", Model, gated: true);
        _cli.Environment["HF_ENDPOINT"] = _hub.Address.ToString();
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        _cli.Dispose();
    }

    private string Cached(string file) => Path.Combine(_cli.Directory, "home", "models", "test", "tiny", file);

    private static readonly string[] Generate = ["-p", "Once upon a time", "-n", "8", "--temp", "0"];

    [Fact]
    public void Run_with_a_repository_reference_pulls_it_then_generates_as_from_the_file()
    {
        var o = _cli.Run(["run", "test/tiny", .. Generate]);
        Assert.Equal(0, o.ExitCode);
        Assert.Contains($"pulled test/tiny/tiny-F32.gguf (", o.Error);
        Assert.Contains($"verified) into {Cached("tiny-F32.gguf")}", o.Error);
        Assert.Contains("prefill: ", o.Error);
        Assert.Equal(Model.Length, _hub.BytesServed);

        string local = _cli.WriteBytes("local.gguf", Model);
        var fromFile = _cli.Run(["run", local, .. Generate]);
        Assert.Equal(0, fromFile.ExitCode);
        Assert.True(fromFile.Out.Trim().Length > 0, "the model generated nothing");
        Assert.Equal(fromFile.Out, o.Out);

        // Cached now: the same reference runs without asking the hub.
        int requests = _hub.Requests.Count;
        var again = _cli.Run(["run", "test/tiny", .. Generate]);
        Assert.Equal((0, fromFile.Out), (again.ExitCode, again.Out));
        Assert.DoesNotContain("pulled", again.Error);
        Assert.Equal(requests, _hub.Requests.Count);
    }

    [Fact]
    public void Pull_list_and_rm_manage_the_cache()
    {
        var pull = _cli.Run("pull", "test/tiny");
        Assert.Equal((0, $"pulled test/tiny/tiny-F32.gguf ({Size}, sha256 {FakeHub.Sha256(Model)[..12]} verified) into {Cached("tiny-F32.gguf")}"),
            (pull.ExitCode, pull.Out.TrimEnd()));
        Assert.Equal(Model, File.ReadAllBytes(Cached("tiny-F32.gguf")));
        var again = _cli.Run("pull", "test/tiny:F32");
        Assert.Equal($"test/tiny/tiny-F32.gguf is up to date ({Size}, sha256 {FakeHub.Sha256(Model)[..12]}) at {Cached("tiny-F32.gguf")}", again.Out.TrimEnd());

        var list = _cli.Run("list");
        Assert.Equal(0, list.ExitCode);
        string[] lines = list.Out.TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Matches(@"^REF\s+SIZE$", lines[0]);
        Assert.Matches($@"^test/tiny/tiny-F32\.gguf\s+{Regex.Escape(Size)}$", lines[1]);
        Assert.Equal($"1 model file(s), {Size} in {Path.Combine(_cli.Directory, "home", "models")}", lines[2]);
        var json = JsonDocument.Parse(_cli.Run("list", "--json").Out).RootElement;
        var model = Assert.Single(json.GetProperty("models").EnumerateArray());
        Assert.Equal(("test/tiny/tiny-F32.gguf", (long)Model.Length), (model.GetProperty("ref").GetString(), model.GetProperty("bytes").GetInt64()));

        var rm = _cli.Run("rm", "test/tiny");
        Assert.Equal((0, $"removed test/tiny/tiny-F32.gguf ({Size})"), (rm.ExitCode, rm.Out.TrimEnd()));
        Assert.False(File.Exists(Cached("tiny-F32.gguf")));
        Assert.StartsWith("0 model file(s), 0 B in ", _cli.Run("list").Out);
        var none = _cli.Run("rm", "test/tiny");
        Assert.Equal((1, "error: nothing cached for 'test/tiny' (see frugal list)"), (none.ExitCode, none.Error.TrimEnd()));
    }

    [Fact]
    public async Task Serve_with_a_repository_reference_serves_the_pulled_file()
    {
        var error = new StringWriter();
        var log = TextWriter.Synchronized(error);
        using var cancel = new CancellationTokenSource();
        var context = new CliContext(TextWriter.Synchronized(new StringWriter()), log)
        {
            Cancellation = cancel.Token,
            GetEnvironmentVariable = name => _cli.Environment.GetValueOrDefault(name),
        };
        var run = Task.Run(() => FrugalCli.Run(["serve", "test/tiny", "--port", "0", "--parallel", "1", "--ctx", "64"], context));
        Assert.True(await ServingModels.EventuallyAsync(() => { lock (log) return error.ToString().Contains("ready:") || run.IsCompleted; }), "serve never became ready");
        string text;
        lock (log) text = error.ToString();
        Assert.Contains($"verified) into {Cached("tiny-F32.gguf")}", text);
        using var http = new HttpClient { BaseAddress = new Uri(Regex.Match(text, @"listening on (http://\S+)").Groups[1].Value) };
        var models = JsonDocument.Parse(await http.GetStringAsync("v1/models")).RootElement.GetProperty("data");
        Assert.Equal("tiny-F32", Assert.Single(models.EnumerateArray()).GetProperty("id").GetString());
        cancel.Cancel();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Info_takes_a_quant_reference()
    {
        var o = _cli.Run("info", "test/tiny:f32", "--json");
        Assert.Equal(0, o.ExitCode);
        var j = JsonDocument.Parse(o.Out).RootElement;
        Assert.Equal((Cached("tiny-F32.gguf"), "llama"), (j.GetProperty("path").GetString(), j.GetProperty("architecture").GetString()));
    }

    [Fact]
    public void A_gated_repository_is_one_error_line_naming_HF_TOKEN_until_the_token_is_set()
    {
        var refused = _cli.Run("pull", "meta/gated");
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal($"error: meta/gated is a gated repository: accept its terms at {_hub.Address.ToString().TrimEnd('/')}/meta/gated " +
            "and set HF_TOKEN to an access token of that account", refused.Error.TrimEnd());

        _cli.Environment["HF_TOKEN"] = FakeHub.Token;
        var allowed = _cli.Run("pull", "meta/gated");
        Assert.Equal(0, allowed.ExitCode);
        Assert.StartsWith($"pulled meta/gated/gated-Q4_K_M.gguf ({Size}", allowed.Out);
    }

    [Fact]
    public void Missing_repositories_and_files_and_bad_references_are_one_error_line()
    {
        string site = _hub.Address.ToString().TrimEnd('/');
        var repo = _cli.Run("run", "test/nope", "-p", "x");
        Assert.Equal((1, $"error: repository 'test/nope' not found on {site} (if it is private, set HF_TOKEN)"), (repo.ExitCode, repo.Error.TrimEnd()));
        var file = _cli.Run("pull", "test/tiny/absent.gguf");
        Assert.Equal((1, $"error: file 'absent.gguf' not found in test/tiny on {site}"), (file.ExitCode, file.Error.TrimEnd()));
        var bad = _cli.Run("pull", "test/tiny:Q4 K");
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith("error: 'test/tiny:Q4 K' is not a model reference: 'Q4 K' is not a quant name", bad.Error);
        var path = _cli.Run("pull", "./model.gguf");
        Assert.Equal("error: './model.gguf' is a path; pull takes owner/repo, owner/repo:QUANT or owner/repo/file.gguf", path.Error.TrimEnd());
        _cli.Environment["HF_ENDPOINT"] = "ftp://mirror";
        var endpoint = _cli.Run("pull", "test/tiny");
        Assert.Equal("error: HF_ENDPOINT: 'ftp://mirror' is not an http(s) URL", endpoint.Error.TrimEnd());
    }
}
