namespace Frugal.Cluster;

/// <summary>How a gateway picks the silo for a request (<c>--routing</c>).</summary>
public enum RoutingPolicy
{
    /// <summary>The silo with the least estimated work before this request's first token, counting its cached prefix (<see cref="ClusterRouter"/>).</summary>
    Kv,

    /// <summary>Silos in turn, blind to caches and load: the baseline a plain load balancer gives.</summary>
    RoundRobin,

    /// <summary>The silo with the least work queued, blind to caches.</summary>
    LeastLoaded,
}
