using System.Net;
using Frugal.Server;

namespace Frugal.Cluster;

/// <summary>How one cluster node (<c>frugal serve --cluster</c>) joins its cluster and what it serves.</summary>
public sealed record ClusterNodeOptions
{
    /// <summary>The model, its engine settings and the HTTP address of this node's OpenAI gateway.</summary>
    public required ServerOptions Server { get; init; }

    /// <summary>Orleans cluster id: nodes with the same name (and membership) form one cluster.</summary>
    public string ClusterName { get; init; } = "frugal";

    /// <summary>TCP port silos talk to each other on.</summary>
    public int SiloPort { get; init; } = 11111;

    /// <summary>TCP port of the Orleans client gateway (for Orleans clients; HTTP clients use <see cref="ServerOptions.Port"/>).</summary>
    public int GatewayPort { get; init; } = 30000;

    /// <summary>
    /// Localhost clustering: the silo endpoint of the node that started the cluster (the primary); null makes this
    /// node the primary. Ignored when <see cref="RedisConnectionString"/> is set.
    /// </summary>
    public IPEndPoint? Seed { get; init; }

    /// <summary>
    /// Membership in Redis (Microsoft.Orleans.Clustering.Redis), for nodes on several machines: every node points at
    /// the same Redis and finds the others there; no seed needed. Null uses localhost clustering.
    /// </summary>
    public string? RedisConnectionString { get; init; }

    /// <summary>Address this silo advertises to the others (with Redis membership); loopback by default.</summary>
    public IPAddress AdvertisedAddress { get; init; } = IPAddress.Loopback;

    public RoutingPolicy Routing { get; init; } = RoutingPolicy.Kv;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ClusterName)) throw new ArgumentException("--cluster needs a name", nameof(ClusterName));
        if (SiloPort is < 1 or > 65535) throw new ArgumentOutOfRangeException(nameof(SiloPort), SiloPort, "--silo-port must be within [1, 65535]");
        if (GatewayPort is < 1 or > 65535) throw new ArgumentOutOfRangeException(nameof(GatewayPort), GatewayPort, "--gateway-port must be within [1, 65535]");
        if (SiloPort == GatewayPort) throw new ArgumentException($"--silo-port and --gateway-port must differ (both {SiloPort})", nameof(GatewayPort));
        if (SiloPort == Server.Port || GatewayPort == Server.Port)
            throw new ArgumentException($"--port ({Server.Port}) must differ from --silo-port and --gateway-port", nameof(Server));
    }
}
