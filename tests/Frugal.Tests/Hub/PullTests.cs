using System.Net;
using System.Net.Sockets;
using Frugal.Hub;
using Frugal.Tools.Hub;

namespace Frugal.Tests.Hub;

/// <summary>Pulls against the in-process hub: redirects, resume after drops, hash checks, gated and missing repositories.</summary>
public sealed class PullTests : IAsyncLifetime
{
    private static readonly byte[] Model = FakeHub.TinyModel(seed: 11);
    private static readonly byte[] Other = FakeHub.TinyModel(seed: 12);

    private readonly string _home = Path.Combine(Path.GetTempPath(), "frugal-pull-tests-" + Guid.NewGuid().ToString("N"));
    private FakeHub _hub = null!;

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _hub.Add("test/tiny", "tiny-Q8_0.gguf", Other);
        _hub.Add("test/tiny", "tiny-Q4_K_M.gguf", Model);
        _hub.Add("test/tiny", "mmproj-tiny-Q4_K_M.gguf", Other);
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }

    private ModelPuller Puller(string? token = null, int retries = 5, Uri? endpoint = null) => new(new HubOptions
    {
        Endpoint = endpoint ?? _hub.Address, Token = token, CacheDirectory = _home, Retries = retries, RetryDelay = TimeSpan.Zero,
    });

    private static Task<PullResult> Pull(ModelPuller p, string reference) => p.PullAsync(ModelReference.Parse(reference, _ => false));

    private string[] CdnRequests() => _hub.Requests.Where(r => r.StartsWith("GET /cdn/", StringComparison.Ordinal)).ToArray();

    [Fact]
    public async Task A_bare_repository_pulls_its_Q4_K_M_file_through_the_redirect_and_keeps_it_verified()
    {
        using var puller = Puller();
        var result = await Pull(puller, "test/tiny");

        Assert.Equal(("test/tiny", "tiny-Q4_K_M.gguf", true), (result.Repo, result.File, result.Downloaded));
        Assert.Equal(FakeHub.Sha256(Model), result.Sha256);
        Assert.Equal(Path.Combine(_home, "models", "test", "tiny", "tiny-Q4_K_M.gguf"), result.Path);
        Assert.Equal(Model, File.ReadAllBytes(result.Path));
        Assert.Equal(Model.Length, _hub.BytesServed);
        Assert.Empty(puller.Cache.Partials());
        Assert.Equal(
            ["GET /api/models/test/tiny/tree/main", "HEAD /test/tiny/resolve/main/tiny-Q4_K_M.gguf", "GET /test/tiny/resolve/main/tiny-Q4_K_M.gguf"],
            _hub.Requests.Take(3));
        Assert.Single(CdnRequests());

        var again = await Pull(puller, "test/tiny");
        Assert.False(again.Downloaded);
        Assert.Equal(Model.Length, _hub.BytesServed); // nothing sent twice
    }

    [Fact]
    public async Task A_cached_reference_resolves_without_the_network()
    {
        using (var puller = Puller()) await Pull(puller, "test/tiny");
        await _hub.DisposeAsync();
        _hub = await FakeHub.StartAsync(); // an empty hub: any request for test/tiny would fail
        using var offline = Puller(endpoint: new Uri("http://127.0.0.1:9"));
        string expected = Path.Combine(_home, "models", "test", "tiny", "tiny-Q4_K_M.gguf");
        Assert.Equal(expected, await offline.ResolveAsync("test/tiny"));
        Assert.Equal(expected, await offline.ResolveAsync("test/tiny:q4_k_m"));
        Assert.Equal(expected, await offline.ResolveAsync("test/tiny/tiny-Q4_K_M.gguf"));
    }

    [Fact]
    public async Task A_dropped_connection_is_resumed_with_a_range_and_no_byte_is_sent_twice()
    {
        const int drop = 300_000;
        Assert.True(Model.Length > 2 * drop);
        _hub.DropNextDownloadAt(drop);
        using var puller = Puller();
        var result = await Pull(puller, "test/tiny:Q4_K_M");

        Assert.Equal(FakeHub.Sha256(Model), FakeHub.Sha256(File.ReadAllBytes(result.Path)));
        Assert.Equal(Model.Length, _hub.BytesServed);
        var cdn = CdnRequests();
        Assert.Equal(2, cdn.Length);
        Assert.DoesNotContain("bytes=", cdn[0]);
        Assert.EndsWith($" bytes={drop}-", cdn[1]);
    }

    [Fact]
    public async Task A_pull_that_gives_up_leaves_its_partial_file_and_the_next_pull_resumes_it()
    {
        const int drop = 500_000;
        _hub.DropNextDownloadAt(drop);
        using (var impatient = Puller(retries: 0))
        {
            var e = await Assert.ThrowsAsync<HubException>(() => Pull(impatient, "test/tiny/tiny-Q4_K_M.gguf"));
            Assert.StartsWith($"the download of test/tiny/tiny-Q4_K_M.gguf stopped at {drop} of {Model.Length} bytes", e.Message);
            Assert.EndsWith("run the same command again to resume it", e.Message);
            Assert.Empty(impatient.Cache.List()); // nothing half-written in the cache
            Assert.Equal([(impatient.Cache.PartialPathOf(FakeHub.Sha256(Model)), (long)drop)], impatient.Cache.Partials());
        }

        using var puller = Puller();
        var result = await Pull(puller, "test/tiny/tiny-Q4_K_M.gguf");
        Assert.True(result.Downloaded);
        Assert.Equal(Model, File.ReadAllBytes(result.Path));
        Assert.Equal(Model.Length, _hub.BytesServed);
        Assert.EndsWith($" bytes={drop}-", CdnRequests()[^1]);
        Assert.Empty(puller.Cache.Partials());
    }

    [Fact]
    public async Task A_cancelled_pull_keeps_its_partial_file_and_the_next_pull_resumes_it()
    {
        const int stall = 400_000;
        _hub.StallNextDownloadAt(stall);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2)); // a guard against a hang, not a timing check
        var cancelAtStall = new ReportTo(p => { if (p.Done >= stall) cancel.Cancel(); });
        using (var first = Puller())
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                first.PullAsync(ModelReference.Parse("test/tiny", _ => false), cancelAtStall, cancel.Token));
            Assert.Empty(first.Cache.List());
            Assert.Equal([(first.Cache.PartialPathOf(FakeHub.Sha256(Model)), (long)stall)], first.Cache.Partials());
        }

        using var puller = Puller();
        var result = await Pull(puller, "test/tiny");
        Assert.Equal(Model, File.ReadAllBytes(result.Path));
        Assert.Equal(Model.Length, _hub.BytesServed);
        Assert.EndsWith($" bytes={stall}-", CdnRequests()[^1]);
    }

    [Fact]
    public async Task A_second_pull_of_a_file_being_downloaded_is_refused_rather_than_spoiling_it()
    {
        using var puller = Puller();
        string partial = puller.Cache.PartialPathOf(FakeHub.Sha256(Model));
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        using (new FileStream(partial + ".lock", FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            var e = await Assert.ThrowsAsync<HubException>(() => Pull(puller, "test/tiny"));
            Assert.Equal($"another pull is downloading test/tiny/tiny-Q4_K_M.gguf right now (it holds {partial}.lock); wait for it to finish", e.Message);
            Assert.Equal(0, _hub.BytesServed);
        }
        File.Delete(partial + ".lock");
        Assert.Equal(Model, File.ReadAllBytes((await Pull(puller, "test/tiny")).Path));
        Assert.False(File.Exists(partial + ".lock"));
    }

    private sealed class ReportTo(Action<DownloadProgress> action) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => action(value);
    }

    [Fact]
    public async Task A_file_whose_hash_is_wrong_is_rejected_and_the_cache_keeps_what_it_had()
    {
        using var puller = Puller();
        var good = await Pull(puller, "test/tiny/tiny-Q4_K_M.gguf");
        // The hub now claims a new version but sends bytes that do not hash to it.
        string claimed = FakeHub.Sha256([1, 2, 3]);
        _hub.Add("test/tiny", "tiny-Q4_K_M.gguf", Other, advertisedSha256: claimed);

        var e = await Assert.ThrowsAsync<HubException>(() => Pull(puller, "test/tiny/tiny-Q4_K_M.gguf"));
        Assert.Equal($"test/tiny/tiny-Q4_K_M.gguf failed its check: its sha256 is {FakeHub.Sha256(Other)}, the hub's LFS object id is {claimed}; " +
            "the download was discarded and the cache is unchanged", e.Message);
        Assert.Equal(Model, File.ReadAllBytes(good.Path));
        Assert.Equal([("test/tiny/tiny-Q4_K_M.gguf", (long)Model.Length)], puller.Cache.List().Select(m => (m.Reference, m.Size)));
        Assert.Equal(FakeHub.Sha256(Model), puller.Cache.RecordedSha256("test/tiny", "tiny-Q4_K_M.gguf"));
        Assert.Empty(puller.Cache.Partials());
    }

    [Fact]
    public async Task A_gated_repository_asks_for_HF_TOKEN_and_opens_with_it()
    {
        _hub.Add("meta/gated", "gated-Q4_K_M.gguf", Model, gated: true);
        using (var anonymous = Puller())
        {
            var e = await Assert.ThrowsAsync<HubException>(() => Pull(anonymous, "meta/gated"));
            Assert.Equal($"meta/gated is a gated repository: accept its terms at {_hub.Address.ToString().TrimEnd('/')}/meta/gated " +
                "and set HF_TOKEN to an access token of that account", e.Message);
        }
        using (var wrong = Puller(token: "hf_wrong"))
        {
            var e = await Assert.ThrowsAsync<HubException>(() => Pull(wrong, "meta/gated/gated-Q4_K_M.gguf"));
            Assert.Contains("HF_TOKEN has no access to it", e.Message);
        }
        using var allowed = Puller(token: FakeHub.Token);
        var result = await Pull(allowed, "meta/gated");
        Assert.Equal(Model, File.ReadAllBytes(result.Path));
    }

    [Fact]
    public async Task The_token_goes_to_the_hub_and_never_to_a_CDN_of_another_origin()
    {
        _hub.Add("meta/gated", "gated-Q4_K_M.gguf", Model, gated: true);
        _hub.CdnHost = "localhost"; // the hub is 127.0.0.1: same server, another origin
        using var puller = Puller(token: FakeHub.Token);
        var result = await Pull(puller, "meta/gated");
        Assert.Equal(Model, File.ReadAllBytes(result.Path));
        Assert.Equal(
            ["GET /api/models/meta/gated/tree/main auth", "HEAD /meta/gated/resolve/main/gated-Q4_K_M.gguf auth",
             "GET /meta/gated/resolve/main/gated-Q4_K_M.gguf auth", $"GET /cdn/"],
            _hub.Requests.Select(r => r.StartsWith("GET /cdn/", StringComparison.Ordinal) ? r[..9] + (r.EndsWith(" auth") ? " auth" : "") : r));
    }

    [Fact]
    public async Task A_missing_repository_file_or_quant_is_named_in_the_error()
    {
        using var puller = Puller();
        string site = _hub.Address.ToString().TrimEnd('/');
        var repo = await Assert.ThrowsAsync<HubException>(() => Pull(puller, "test/nope"));
        Assert.Equal($"repository 'test/nope' not found on {site} (if it is private, set HF_TOKEN)", repo.Message);
        var file = await Assert.ThrowsAsync<HubException>(() => Pull(puller, "test/tiny/absent.gguf"));
        Assert.Equal($"file 'absent.gguf' not found in test/tiny on {site}", file.Message);
        var quant = await Assert.ThrowsAsync<HubException>(() => Pull(puller, "test/tiny:Q2_K"));
        Assert.Equal("test/tiny has no GGUF file for quant 'Q2_K' (it has tiny-Q4_K_M.gguf, tiny-Q8_0.gguf)", quant.Message);
        Assert.Empty(puller.Cache.List());
    }

    [Fact]
    public async Task An_unreachable_hub_says_so_and_names_it()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        using var puller = Puller(endpoint: new Uri($"http://127.0.0.1:{port}"));
        var e = await Assert.ThrowsAsync<HubException>(() => Pull(puller, "test/tiny"));
        Assert.StartsWith($"cannot reach http://127.0.0.1:{port}: ", e.Message);
        Assert.EndsWith("(check the network, or set HF_ENDPOINT to a mirror)", e.Message);
    }
}
