namespace Frugal.Hub;

/// <summary>
/// A pull that cannot go on for a reason the user can act on: gated or missing repository or file, no network, a
/// download that failed its hash. The message names the repository or file and what to do.
/// </summary>
public sealed class HubException(string message, Exception? inner = null) : IOException(message, inner);
