namespace Frugal.Tokenization.ChatTemplates;

// Expressions, with Jinja2's precedence (jinja2/parser.py): conditional < or < and < not < comparison < + - < ~
// < * / // % < ** < unary -/+ < primary with postfix (. [] ()) and then filters (|) and tests (is).
// So `'a' + x | trim` trims only x and `not x is defined` negates the test, exactly as in Jinja2.
internal sealed partial class JinjaParser
{
    private static readonly HashSet<string> NotATestArgument = ["else", "or", "and", "if", "is", "in", "not"];

    private JinjaExpr ParseTupleOrExpression()
    {
        var first = ParseExpression();
        if (!Peek().IsOperator(","))
            return first;
        var items = new List<JinjaExpr> { first };
        while (Peek().IsOperator(","))
        {
            Next();
            items.Add(ParseExpression());
        }
        return new TupleExpr(items, first.Offset);
    }

    private JinjaExpr ParseExpression()
    {
        var value = ParseOr();
        while (Peek().IsName("if"))
        {
            var at = Next();
            var condition = ParseOr();
            JinjaExpr? otherwise = null;
            if (Peek().IsName("else"))
            {
                Next();
                otherwise = ParseExpression();
            }
            value = new ConditionalExpr(condition, value, otherwise, at.Offset);
        }
        return value;
    }

    private JinjaExpr ParseFilterableOr() => ParseOr();

    private JinjaExpr ParseOr()
    {
        var left = ParseAnd();
        while (Peek().IsName("or"))
        {
            var at = Next();
            left = new BinaryExpr("or", left, ParseAnd(), at.Offset);
        }
        return left;
    }

    private JinjaExpr ParseAnd()
    {
        var left = ParseNot();
        while (Peek().IsName("and"))
        {
            var at = Next();
            left = new BinaryExpr("and", left, ParseNot(), at.Offset);
        }
        return left;
    }

    private JinjaExpr ParseNot()
    {
        if (Peek().IsName("not"))
        {
            var at = Next();
            return new UnaryExpr("not", ParseNot(), at.Offset);
        }
        return ParseCompare();
    }

    private JinjaExpr ParseCompare()
    {
        var left = ParseMath1();
        JinjaExpr? chain = null;
        while (true)
        {
            var t = Peek();
            string? op = null;
            if (t.Kind == JinjaTokenKind.Operator && t.Value is "==" or "!=" or "<" or ">" or "<=" or ">=") op = t.Value;
            else if (t.IsName("in")) op = "in";
            else if (t.IsName("not") && Peek(1).IsName("in")) op = "not in";
            if (op is null)
                return chain ?? left;
            _i += op == "not in" ? 2 : 1;
            var right = ParseMath1();
            // Python chains comparisons: a < b < c means a < b and b < c.
            var pair = new BinaryExpr(op, left, right, t.Offset);
            chain = chain is null ? pair : new BinaryExpr("and", chain, pair, t.Offset);
            left = right;
        }
    }

    private JinjaExpr ParseMath1()
    {
        var left = ParseConcat();
        while (Peek().Kind == JinjaTokenKind.Operator && Peek().Value is "+" or "-")
        {
            var at = Next();
            left = new BinaryExpr(at.Value, left, ParseConcat(), at.Offset);
        }
        return left;
    }

    private JinjaExpr ParseConcat()
    {
        var left = ParseMath2();
        while (Peek().IsOperator("~"))
        {
            var at = Next();
            left = new BinaryExpr("~", left, ParseMath2(), at.Offset);
        }
        return left;
    }

    private JinjaExpr ParseMath2()
    {
        var left = ParsePow();
        while (Peek().Kind == JinjaTokenKind.Operator && Peek().Value is "*" or "/" or "//" or "%")
        {
            var at = Next();
            left = new BinaryExpr(at.Value, left, ParsePow(), at.Offset);
        }
        return left;
    }

    private JinjaExpr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (Peek().IsOperator("**"))
        {
            var at = Next();
            left = new BinaryExpr("**", left, ParseUnary(withFilter: true), at.Offset);
        }
        return left;
    }

    private JinjaExpr ParseUnary(bool withFilter)
    {
        var t = Peek();
        JinjaExpr node;
        if (t.IsOperator("-") || t.IsOperator("+"))
        {
            Next();
            node = new UnaryExpr(t.Value, ParseUnary(withFilter: false), t.Offset);
        }
        else
            node = ParsePrimary();
        node = ParsePostfix(node);
        return withFilter ? ParseFiltersAndTests(node) : node;
    }

    private JinjaExpr ParsePostfix(JinjaExpr node)
    {
        while (true)
        {
            var t = Peek();
            if (t.IsOperator("."))
            {
                Next();
                var name = Peek();
                if (name.Kind == JinjaTokenKind.Integer)
                {
                    Next();
                    node = new IndexExpr(node, new LiteralExpr(ParseNumber(name), name.Offset), t.Offset);
                }
                else
                    node = new AttributeExpr(node, ExpectName(), t.Offset);
            }
            else if (t.IsOperator("["))
                node = ParseSubscript(node);
            else if (t.IsOperator("("))
                node = ParseCall(node);
            else
                return node;
        }
    }

    private JinjaExpr ParseSubscript(JinjaExpr target)
    {
        var open = Next();
        JinjaExpr? start = null, stop = null, step = null;
        if (!Peek().IsOperator(":"))
            start = ParseExpression();
        if (!Peek().IsOperator(":"))
        {
            Expect(JinjaTokenKind.Operator, "]");
            return new IndexExpr(target, start!, open.Offset);
        }
        Next();
        if (!Peek().IsOperator("]") && !Peek().IsOperator(":"))
            stop = ParseExpression();
        if (Peek().IsOperator(":"))
        {
            Next();
            if (!Peek().IsOperator("]"))
                step = ParseExpression();
        }
        Expect(JinjaTokenKind.Operator, "]");
        return new SliceExpr(target, start, stop, step, open.Offset);
    }

    private CallExpr ParseCall(JinjaExpr callee)
    {
        var open = Next();
        var (args, kwargs) = ParseArguments();
        return new CallExpr(callee, args, kwargs, open.Offset);
    }

    /// <summary>Parses "a, b, key=c)" after an opening parenthesis, through the closing one.</summary>
    private (List<JinjaExpr> Args, List<(string, JinjaExpr)> Kwargs) ParseArguments()
    {
        var args = new List<JinjaExpr>();
        var kwargs = new List<(string, JinjaExpr)>();
        while (!Peek().IsOperator(")"))
        {
            if (Peek().IsOperator("*") || Peek().IsOperator("**"))
                throw Error(Peek(), "unsupported construct '*args' / '**kwargs' in a call");
            if (Peek().Kind == JinjaTokenKind.Name && Peek(1).IsOperator("="))
            {
                string name = Next().Value;
                Next();
                kwargs.Add((name, ParseExpression()));
            }
            else
            {
                if (kwargs.Count > 0)
                    throw Error(Peek(), "positional argument after keyword argument");
                args.Add(ParseExpression());
            }
            if (!Peek().IsOperator(",")) break;
            Next();
        }
        Expect(JinjaTokenKind.Operator, ")");
        return (args, kwargs);
    }

    private JinjaExpr ParseFiltersAndTests(JinjaExpr node)
    {
        while (true)
        {
            var t = Peek();
            if (t.IsOperator("|"))
            {
                Next();
                string name = ExpectName();
                List<JinjaExpr> args = [];
                List<(string, JinjaExpr)> kwargs = [];
                if (Peek().IsOperator("("))
                {
                    Next();
                    (args, kwargs) = ParseArguments();
                }
                node = new FilterExpr(node, name, args, kwargs, t.Offset);
            }
            else if (t.IsName("is"))
            {
                Next();
                bool negated = false;
                if (Peek().IsName("not"))
                {
                    Next();
                    negated = true;
                }
                string name = ExpectName();
                List<JinjaExpr> args = [];
                var a = Peek();
                if (a.IsOperator("("))
                {
                    Next();
                    (args, var kw) = ParseArguments();
                    if (kw.Count > 0)
                        throw Error(a, $"test '{name}' does not take keyword arguments");
                }
                else if ((a.Kind is JinjaTokenKind.Name or JinjaTokenKind.String or JinjaTokenKind.Integer or JinjaTokenKind.Float
                          || a.IsOperator("[") || a.IsOperator("{"))
                         && !(a.Kind == JinjaTokenKind.Name && NotATestArgument.Contains(a.Value)))
                    args.Add(ParsePostfix(ParsePrimary()));
                node = new TestExpr(node, name, args, negated, t.Offset);
            }
            else if (t.IsOperator("("))
                node = ParseCall(node);
            else
                return node;
        }
    }

    private JinjaExpr ParsePrimary()
    {
        var t = Next();
        switch (t.Kind)
        {
            case JinjaTokenKind.Name:
                return t.Value switch
                {
                    "true" or "True" => new LiteralExpr(true, t.Offset),
                    "false" or "False" => new LiteralExpr(false, t.Offset),
                    "none" or "None" => new LiteralExpr(null, t.Offset),
                    _ => new NameExpr(t.Value, t.Offset),
                };
            case JinjaTokenKind.String:
                string s = t.Value;
                while (Peek().Kind == JinjaTokenKind.String) s += Next().Value; // 'a' 'b' == 'ab'
                return new LiteralExpr(s, t.Offset);
            case JinjaTokenKind.Integer or JinjaTokenKind.Float:
                return new LiteralExpr(ParseNumber(t), t.Offset);
            case JinjaTokenKind.Operator when t.Value == "(":
                if (Peek().IsOperator(")"))
                {
                    Next();
                    return new TupleExpr([], t.Offset);
                }
                var inner = ParseExpression();
                if (Peek().IsOperator(","))
                {
                    var items = new List<JinjaExpr> { inner };
                    while (Peek().IsOperator(","))
                    {
                        Next();
                        if (Peek().IsOperator(")")) break;
                        items.Add(ParseExpression());
                    }
                    inner = new TupleExpr(items, t.Offset);
                }
                Expect(JinjaTokenKind.Operator, ")");
                return inner;
            case JinjaTokenKind.Operator when t.Value == "[":
                var list = new List<JinjaExpr>();
                while (!Peek().IsOperator("]"))
                {
                    list.Add(ParseExpression());
                    if (!Peek().IsOperator(",")) break;
                    Next();
                }
                Expect(JinjaTokenKind.Operator, "]");
                return new ListExpr(list, t.Offset);
            case JinjaTokenKind.Operator when t.Value == "{":
                var pairs = new List<(JinjaExpr, JinjaExpr)>();
                while (!Peek().IsOperator("}"))
                {
                    var key = ParseExpression();
                    Expect(JinjaTokenKind.Operator, ":");
                    pairs.Add((key, ParseExpression()));
                    if (!Peek().IsOperator(",")) break;
                    Next();
                }
                Expect(JinjaTokenKind.Operator, "}");
                return new DictExpr(pairs, t.Offset);
            default:
                throw Error(t, $"expected a value but found {t}");
        }
    }
}
