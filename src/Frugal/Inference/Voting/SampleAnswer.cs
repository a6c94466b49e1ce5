namespace Frugal.Inference.Voting;

/// <summary>
/// One sample's extracted answer (null when no answer could be read from it: cut off, malformed), the tokens it
/// generated, its mean log-probability per generated token (the best-of-n score), and the log-probability of its
/// least likely token (NaN when not known): a list copied with one item skipped has one unlikely token, which the
/// mean over the whole list dilutes and the weakest token does not.
/// </summary>
public readonly record struct SampleAnswer(string? Answer, int Tokens, double MeanLogprob, double WeakestLogprob = double.NaN);
