namespace Frugal.Inference.Voting;

/// <summary>
/// One sample's extracted answer (null when no answer could be read from it: cut off, malformed), the tokens it
/// generated, and its mean log-probability per generated token (the best-of-n score).
/// </summary>
public readonly record struct SampleAnswer(string? Answer, int Tokens, double MeanLogprob);
