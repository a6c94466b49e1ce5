namespace Frugal.Numerics.Threading;

/// <summary>
/// One parallel step run by every member of a <see cref="ComputeTeam"/>. Jobs are reusable objects whose fields
/// are set before <see cref="ComputeTeam.Run"/>, so running one allocates nothing.
/// </summary>
internal interface IComputeJob
{
    /// <summary>Does this member's share: <paramref name="worker"/> is in [0, <paramref name="workers"/>).</summary>
    void Execute(int worker, int workers);
}
