namespace Frugal.Inference.Constraints;

/// <summary>A grammar (GBNF) or JSON schema that cannot be compiled; the message names the place and the problem.</summary>
public sealed class GrammarFormatException(string message) : FormatException(message);
