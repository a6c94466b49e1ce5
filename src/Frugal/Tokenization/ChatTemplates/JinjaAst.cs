namespace Frugal.Tokenization.ChatTemplates;

// The parsed form of a template. Every node keeps the source offset it came from so that render errors can say
// where in the template they happened.

internal abstract record JinjaNode(int Offset);

internal sealed record TextNode(string Text, int Offset) : JinjaNode(Offset);

internal sealed record OutputNode(JinjaExpr Value, int Offset) : JinjaNode(Offset);

internal sealed record IfNode(IReadOnlyList<(JinjaExpr Condition, IReadOnlyList<JinjaNode> Body)> Branches, IReadOnlyList<JinjaNode> Else, int Offset) : JinjaNode(Offset);

/// <param name="Targets">One name, or several for tuple unpacking (for key, value in ...).</param>
/// <param name="Filter">The optional inline condition (for x in xs if cond).</param>
/// <param name="UsesLoop">Whether the body mentions `loop`; if not, no loop object is built per iteration.</param>
internal sealed record ForNode(IReadOnlyList<string> Targets, JinjaExpr Iterable, JinjaExpr? Filter, IReadOnlyList<JinjaNode> Body, IReadOnlyList<JinjaNode> Else, bool UsesLoop, int Offset) : JinjaNode(Offset);

/// <param name="Target">A name, an attribute of a namespace (ns.x) or a tuple of names.</param>
internal sealed record SetNode(JinjaExpr Target, JinjaExpr Value, int Offset) : JinjaNode(Offset);

internal sealed record SetBlockNode(string Name, IReadOnlyList<JinjaNode> Body, int Offset) : JinjaNode(Offset);

internal sealed record MacroNode(string Name, IReadOnlyList<(string Name, JinjaExpr? Default)> Parameters, IReadOnlyList<JinjaNode> Body, int Offset) : JinjaNode(Offset);

internal sealed record BreakNode(int Offset) : JinjaNode(Offset);

internal sealed record ContinueNode(int Offset) : JinjaNode(Offset);

/// <summary>{% generation %}: transformers uses it to mark assistant tokens; it renders its body unchanged.</summary>
internal sealed record GenerationNode(IReadOnlyList<JinjaNode> Body, int Offset) : JinjaNode(Offset);

internal abstract record JinjaExpr(int Offset);

internal sealed record LiteralExpr(object? Value, int Offset) : JinjaExpr(Offset);

internal sealed record NameExpr(string Name, int Offset) : JinjaExpr(Offset);

internal sealed record ListExpr(IReadOnlyList<JinjaExpr> Items, int Offset) : JinjaExpr(Offset);

internal sealed record TupleExpr(IReadOnlyList<JinjaExpr> Items, int Offset) : JinjaExpr(Offset);

internal sealed record DictExpr(IReadOnlyList<(JinjaExpr Key, JinjaExpr Value)> Items, int Offset) : JinjaExpr(Offset);

internal sealed record AttributeExpr(JinjaExpr Target, string Name, int Offset) : JinjaExpr(Offset);

internal sealed record IndexExpr(JinjaExpr Target, JinjaExpr Index, int Offset) : JinjaExpr(Offset);

internal sealed record SliceExpr(JinjaExpr Target, JinjaExpr? Start, JinjaExpr? Stop, JinjaExpr? Step, int Offset) : JinjaExpr(Offset);

internal sealed record CallExpr(JinjaExpr Callee, IReadOnlyList<JinjaExpr> Args, IReadOnlyList<(string Name, JinjaExpr Value)> Kwargs, int Offset) : JinjaExpr(Offset);

internal sealed record FilterExpr(JinjaExpr Operand, string Name, IReadOnlyList<JinjaExpr> Args, IReadOnlyList<(string Name, JinjaExpr Value)> Kwargs, int Offset) : JinjaExpr(Offset);

internal sealed record TestExpr(JinjaExpr Operand, string Name, IReadOnlyList<JinjaExpr> Args, bool Negated, int Offset) : JinjaExpr(Offset);

internal sealed record UnaryExpr(string Operator, JinjaExpr Operand, int Offset) : JinjaExpr(Offset);

internal sealed record BinaryExpr(string Operator, JinjaExpr Left, JinjaExpr Right, int Offset) : JinjaExpr(Offset);

internal sealed record ConditionalExpr(JinjaExpr Condition, JinjaExpr Then, JinjaExpr? Else, int Offset) : JinjaExpr(Offset);
