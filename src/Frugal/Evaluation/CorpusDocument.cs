namespace Frugal.Evaluation;

/// <summary>The kinds of training document, each one a unit that the trainer wraps in BOS ... EOS.</summary>
public enum DocumentKind
{
    Story,
    Arithmetic,
    Copy,
    Recall,
    Chain,
}

public sealed record CorpusDocument(DocumentKind Kind, string Text);
