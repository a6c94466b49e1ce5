using System.CommandLine;
using System.Globalization;
using System.Net;
using Frugal.Cluster;
using Frugal.Server;

namespace Frugal.Cli.Commands;

/// <summary>
/// <c>frugal serve</c>'s cluster options: <c>--cluster NAME --silo-port P --gateway-port G [--seed HOST:PORT]
/// [--routing kv|round-robin|least-loaded] [--redis CONNECTION]</c>. Without --cluster the server runs alone.
/// </summary>
internal sealed class ClusterCliOptions
{
    private readonly Option<string?> _cluster = new("--cluster") { Description = "join (or start) the Frugal cluster of this name: this node hosts an engine and routes requests across the cluster" };
    private readonly Option<int> _siloPort = new("--silo-port") { Description = "cluster: TCP port silos talk to each other on", DefaultValueFactory = _ => 11111 };
    private readonly Option<int?> _gatewayPort = new("--gateway-port") { Description = "cluster: TCP port of the Orleans client gateway (default: silo port + 10000)" };
    private readonly Option<string?> _seed = new("--seed") { Description = "cluster, localhost membership: HOST:PORT (silo port) of the node that started the cluster; leave out on that first node" };
    private readonly Option<string> _routing = new("--routing") { Description = "cluster: how requests pick a silo", DefaultValueFactory = _ => "kv" };
    private readonly Option<string?> _redis = new("--redis") { Description = "cluster: membership in Redis (a StackExchange.Redis connection string) instead of localhost clustering" };

    public ClusterCliOptions() => _routing.AcceptOnlyFromAmong("kv", "round-robin", "least-loaded");

    public void AddTo(Command command)
    {
        command.Options.Add(_cluster);
        command.Options.Add(_siloPort);
        command.Options.Add(_gatewayPort);
        command.Options.Add(_seed);
        command.Options.Add(_routing);
        command.Options.Add(_redis);
    }

    /// <summary>The node's options, or null when --cluster is not given (then no other cluster option may be).</summary>
    public ClusterNodeOptions? Parse(ParseResult parse, ServerOptions server)
    {
        string? name = parse.GetValue(_cluster);
        if (name is null)
        {
            foreach (var option in new Option[] { _seed, _redis, _gatewayPort })
                if (parse.GetResult(option) is { Implicit: false })
                    throw new CliError($"{option.Name} needs --cluster NAME");
            return null;
        }
        int siloPort = parse.GetValue(_siloPort);
        return new ClusterNodeOptions
        {
            Server = server,
            ClusterName = name,
            SiloPort = siloPort,
            GatewayPort = parse.GetValue(_gatewayPort) ?? siloPort + 10000,
            Seed = parse.GetValue(_seed) is { } seed ? ParseEndpoint(seed) : null,
            RedisConnectionString = parse.GetValue(_redis),
            Routing = parse.GetValue(_routing) switch
            {
                "round-robin" => RoutingPolicy.RoundRobin,
                "least-loaded" => RoutingPolicy.LeastLoaded,
                _ => RoutingPolicy.Kv,
            },
        };
    }

    private static IPEndPoint ParseEndpoint(string text)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            throw new CliError($"--seed: expected HOST:PORT (the first node's silo port), got '{text}'");
        string host = text[..colon];
        var address = host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var ip) ? ip
            : throw new CliError($"--seed: '{host}' is not an IP address or localhost");
        return new IPEndPoint(address, port);
    }
}
