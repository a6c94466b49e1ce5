using System.Globalization;

namespace Frugal.Tokenization.ChatTemplates;

/// <summary>
/// Builds the node tree of a template from its tokens: statements here, expressions in
/// <see cref="JinjaParser"/>'s other half (JinjaExpressionParser.cs). Anything outside the supported subset is
/// rejected with the construct's name and position instead of being silently mis-rendered.
/// </summary>
internal sealed partial class JinjaParser
{
    private readonly List<JinjaToken> _tokens;
    private readonly string _src;
    private int _i;

    private JinjaParser(List<JinjaToken> tokens, string source)
    {
        _tokens = tokens;
        _src = source;
    }

    public static IReadOnlyList<JinjaNode> Parse(string template, out string normalizedSource)
    {
        var tokens = JinjaLexer.Tokenize(template, out normalizedSource);
        var parser = new JinjaParser(tokens, normalizedSource);
        var body = parser.ParseBody([], out var endTag);
        if (endTag is not null)
            throw parser.Error(parser.Peek(), $"unexpected '{{% {endTag} %}}' with no open block");
        return body;
    }

    private JinjaToken Peek(int ahead = 0) => _tokens[Math.Min(_i + ahead, _tokens.Count - 1)];

    private JinjaToken Next() => _tokens[_i++];

    private ChatTemplateException Error(JinjaToken at, string message) => ChatTemplateException.At(_src, at.Offset, message);

    private JinjaToken Expect(JinjaTokenKind kind, string? value = null)
    {
        var t = Peek();
        if (t.Kind != kind || (value is not null && t.Value != value))
            throw Error(t, $"expected {(value is null ? kind.ToString() : $"'{value}'")} but found {t}");
        return Next();
    }

    private string ExpectName() => Expect(JinjaTokenKind.Name).Value;

    /// <summary>
    /// Parses nodes until a block tag whose keyword is in <paramref name="endTags"/>; that keyword is returned in
    /// <paramref name="endTag"/> with the parser positioned after it (the rest of the tag is left for the caller).
    /// </summary>
    private List<JinjaNode> ParseBody(string[] endTags, out string? endTag)
    {
        var nodes = new List<JinjaNode>();
        while (true)
        {
            var t = Peek();
            switch (t.Kind)
            {
                case JinjaTokenKind.End:
                    if (endTags.Length > 0)
                        throw Error(t, $"missing '{{% {endTags[^1]} %}}' before the end of the template");
                    endTag = null;
                    return nodes;
                case JinjaTokenKind.Text:
                    Next();
                    nodes.Add(new TextNode(t.Value, t.Offset));
                    break;
                case JinjaTokenKind.VariableStart:
                    Next();
                    var value = ParseExpression();
                    Expect(JinjaTokenKind.VariableEnd);
                    nodes.Add(new OutputNode(value, t.Offset));
                    break;
                case JinjaTokenKind.BlockStart:
                    var keyword = Peek(1);
                    if (keyword.Kind == JinjaTokenKind.Name && endTags.Contains(keyword.Value))
                    {
                        _i += 2;
                        endTag = keyword.Value;
                        return nodes;
                    }
                    Next();
                    nodes.Add(ParseStatement(t.Offset));
                    break;
                default:
                    throw Error(t, $"unexpected {t}");
            }
        }
    }

    private JinjaNode ParseStatement(int offset)
    {
        var keyword = Next();
        if (keyword.Kind != JinjaTokenKind.Name)
            throw Error(keyword, $"expected a statement keyword after '{{%' but found {keyword}");
        switch (keyword.Value)
        {
            case "if": return ParseIf(offset);
            case "for": return ParseFor(offset);
            case "set": return ParseSet(offset);
            case "macro": return ParseMacro(offset);
            case "break":
                Expect(JinjaTokenKind.BlockEnd);
                return new BreakNode(offset);
            case "continue":
                Expect(JinjaTokenKind.BlockEnd);
                return new ContinueNode(offset);
            case "generation":
                Expect(JinjaTokenKind.BlockEnd);
                var body = ParseBody(["endgeneration"], out _);
                Expect(JinjaTokenKind.BlockEnd);
                return new GenerationNode(body, offset);
            case "endif" or "endfor" or "else" or "elif" or "endset" or "endmacro" or "endgeneration":
                throw Error(keyword, $"unexpected '{{% {keyword.Value} %}}' with no matching open block");
            default:
                throw Error(keyword, $"unsupported construct '{{% {keyword.Value} %}}'");
        }
    }

    private IfNode ParseIf(int offset)
    {
        var branches = new List<(JinjaExpr, IReadOnlyList<JinjaNode>)>();
        IReadOnlyList<JinjaNode> elseBody = [];
        var condition = ParseExpression();
        Expect(JinjaTokenKind.BlockEnd);
        while (true)
        {
            var body = ParseBody(["elif", "else", "endif"], out var end);
            branches.Add((condition, body));
            if (end == "elif")
            {
                condition = ParseExpression();
                Expect(JinjaTokenKind.BlockEnd);
                continue;
            }
            Expect(JinjaTokenKind.BlockEnd);
            if (end == "else")
            {
                elseBody = ParseBody(["endif"], out _);
                Expect(JinjaTokenKind.BlockEnd);
            }
            return new IfNode(branches, elseBody, offset);
        }
    }

    private ForNode ParseFor(int offset)
    {
        var targets = new List<string> { ExpectName() };
        while (Peek().IsOperator(","))
        {
            Next();
            targets.Add(ExpectName());
        }
        Expect(JinjaTokenKind.Name, "in");
        // The iterable may not contain a bare conditional: 'if' here starts the loop filter.
        var iterable = ParseFilterableOr();
        JinjaExpr? filter = null;
        if (Peek().IsName("if"))
        {
            Next();
            filter = ParseExpression();
        }
        if (Peek().IsName("recursive"))
            throw Error(Peek(), "unsupported construct 'recursive' loop");
        Expect(JinjaTokenKind.BlockEnd);
        int bodyStart = _i;
        var body = ParseBody(["else", "endfor"], out var end);
        bool usesLoop = false;
        for (int k = bodyStart; k < _i && !usesLoop; k++) usesLoop = _tokens[k].IsName("loop");
        IReadOnlyList<JinjaNode> elseBody = [];
        Expect(JinjaTokenKind.BlockEnd);
        if (end == "else")
        {
            elseBody = ParseBody(["endfor"], out _);
            Expect(JinjaTokenKind.BlockEnd);
        }
        return new ForNode(targets, iterable, filter, body, elseBody, usesLoop, offset);
    }

    private JinjaNode ParseSet(int offset)
    {
        var first = Peek();
        JinjaExpr target = new NameExpr(ExpectName(), first.Offset);
        if (Peek().IsOperator("."))
        {
            Next();
            target = new AttributeExpr(target, ExpectName(), first.Offset);
        }
        else if (Peek().IsOperator(","))
        {
            var names = new List<JinjaExpr> { target };
            while (Peek().IsOperator(","))
            {
                Next();
                var n = Peek();
                names.Add(new NameExpr(ExpectName(), n.Offset));
            }
            target = new TupleExpr(names, first.Offset);
        }
        if (Peek().Kind == JinjaTokenKind.BlockEnd && target is NameExpr blockName)
        {
            Next();
            var body = ParseBody(["endset"], out _);
            Expect(JinjaTokenKind.BlockEnd);
            return new SetBlockNode(blockName.Name, body, offset);
        }
        Expect(JinjaTokenKind.Operator, "=");
        var value = ParseTupleOrExpression();
        Expect(JinjaTokenKind.BlockEnd);
        return new SetNode(target, value, offset);
    }

    private MacroNode ParseMacro(int offset)
    {
        string name = ExpectName();
        Expect(JinjaTokenKind.Operator, "(");
        var parameters = new List<(string, JinjaExpr?)>();
        while (!Peek().IsOperator(")"))
        {
            string p = ExpectName();
            JinjaExpr? def = null;
            if (Peek().IsOperator("="))
            {
                Next();
                def = ParseExpression();
            }
            parameters.Add((p, def));
            if (!Peek().IsOperator(",")) break;
            Next();
        }
        Expect(JinjaTokenKind.Operator, ")");
        Expect(JinjaTokenKind.BlockEnd);
        var body = ParseBody(["endmacro"], out _);
        if (Peek().Kind == JinjaTokenKind.Name) Next(); // {% endmacro name %}
        Expect(JinjaTokenKind.BlockEnd);
        return new MacroNode(name, parameters, body, offset);
    }

    private static object ParseNumber(JinjaToken t) => t.Kind == JinjaTokenKind.Integer
        ? (object)long.Parse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture)
        : double.Parse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture);
}
