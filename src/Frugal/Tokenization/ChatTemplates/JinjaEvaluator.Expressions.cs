namespace Frugal.Tokenization.ChatTemplates;

internal sealed partial class JinjaEvaluator
{
    private static readonly IReadOnlyDictionary<string, object?> NoKwargs = new Dictionary<string, object?>();

    private object? Eval(JinjaExpr expr, Scope scope)
    {
        try
        {
            return EvalCore(expr, scope);
        }
        catch (JinjaRuntimeException e)
        {
            // The innermost expression that failed gives the position.
            throw ChatTemplateException.At(_src, expr.Offset, e.Message);
        }
        catch (JinjaRaiseException e)
        {
            var (line, column) = ChatTemplateException.LineAndColumn(_src, expr.Offset);
            throw new ChatTemplateRaisedException(e.Message, line, column);
        }
    }

    private object? EvalCore(JinjaExpr expr, Scope scope)
    {
        switch (expr)
        {
            case LiteralExpr l:
                return l.Value;
            case NameExpr n:
                return scope.TryGet(n.Name, out var v) ? v : new JinjaUndefined($"'{n.Name}'");
            case ListExpr l:
                return l.Items.Select(i => Eval(i, scope)).ToList();
            case TupleExpr t:
                return t.Items.Select(i => Eval(i, scope)).ToList();
            case DictExpr d:
                var map = new JinjaMap();
                foreach (var (k, val) in d.Items)
                {
                    var key = Eval(k, scope);
                    map[key as string ?? JinjaValue.ToStr(key)] = Eval(val, scope);
                }
                return map;
            case AttributeExpr a:
                return JinjaMembers.GetAttribute(Eval(a.Target, scope), a.Name);
            case IndexExpr i:
                return JinjaMembers.GetItem(Eval(i.Target, scope), Eval(i.Index, scope));
            case SliceExpr s:
                return JinjaMembers.Slice(Eval(s.Target, scope),
                    s.Start is null ? null : Eval(s.Start, scope),
                    s.Stop is null ? null : Eval(s.Stop, scope),
                    s.Step is null ? null : Eval(s.Step, scope));
            case CallExpr c:
                return EvalCall(c, scope);
            case FilterExpr f:
                return JinjaFilters.Apply(f.Name, Eval(f.Operand, scope),
                    f.Args.Select(x => Eval(x, scope)).ToList(), Kwargs(f.Kwargs, scope));
            case TestExpr t:
                bool result = JinjaTests.Apply(t.Name, Eval(t.Operand, scope), t.Args.Select(x => Eval(x, scope)).ToList());
                return t.Negated ? !result : result;
            case UnaryExpr u:
                var operand = Eval(u.Operand, scope);
                return u.Operator switch
                {
                    "not" => !JinjaValue.IsTruthy(operand),
                    "-" => operand switch
                    {
                        long x => (object)(-x),
                        double x => -x,
                        bool x => x ? -1L : 0L,
                        _ => throw new JinjaRuntimeException($"cannot negate {JinjaValue.TypeName(operand)}"),
                    },
                    _ => JinjaValue.IsNumber(operand) ? operand : throw new JinjaRuntimeException($"unary + on {JinjaValue.TypeName(operand)}"),
                };
            case BinaryExpr b:
                return EvalBinary(b, scope);
            case ConditionalExpr c:
                return JinjaValue.IsTruthy(Eval(c.Condition, scope))
                    ? Eval(c.Then, scope)
                    : c.Else is null ? JinjaUndefined.Value : Eval(c.Else, scope);
            default:
                throw new JinjaRuntimeException($"unsupported expression {expr.GetType().Name}");
        }
    }

    private Dictionary<string, object?> Kwargs(IReadOnlyList<(string Name, JinjaExpr Value)> kwargs, Scope scope)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in kwargs) result[name] = Eval(value, scope);
        return result;
    }

    private object? EvalCall(CallExpr c, Scope scope)
    {
        var callee = Eval(c.Callee, scope);
        var args = c.Args.Select(x => Eval(x, scope)).ToList();
        var kwargs = c.Kwargs.Count == 0 ? NoKwargs : Kwargs(c.Kwargs, scope);
        if (callee is JinjaCallable fn)
            return fn(args, kwargs);
        string what = c.Callee switch
        {
            NameExpr n => $"'{n.Name}'",
            AttributeExpr a => $"'.{a.Name}'",
            _ => "this value",
        };
        throw new JinjaRuntimeException(callee is JinjaUndefined
            ? $"unsupported construct: {what} is not a known function or method"
            : $"{what} is a {JinjaValue.TypeName(callee)}, not a function");
    }

    private object? EvalBinary(BinaryExpr b, Scope scope)
    {
        if (b.Operator == "and")
        {
            var l = Eval(b.Left, scope);
            return JinjaValue.IsTruthy(l) ? Eval(b.Right, scope) : l;
        }
        if (b.Operator == "or")
        {
            var l = Eval(b.Left, scope);
            return JinjaValue.IsTruthy(l) ? l : Eval(b.Right, scope);
        }
        var left = Eval(b.Left, scope);
        var right = Eval(b.Right, scope);
        return b.Operator switch
        {
            "==" => JinjaValue.AreEqual(left, right),
            "!=" => !JinjaValue.AreEqual(left, right),
            "<" => JinjaValue.Compare(left, right) < 0,
            ">" => JinjaValue.Compare(left, right) > 0,
            "<=" => JinjaValue.Compare(left, right) <= 0,
            ">=" => JinjaValue.Compare(left, right) >= 0,
            "in" => JinjaMembers.Contains(right, left),
            "not in" => !JinjaMembers.Contains(right, left),
            "~" => JinjaValue.ToStr(left) + JinjaValue.ToStr(right),
            "+" => Add(left, right),
            _ => Arithmetic(b.Operator, left, right),
        };
    }

    private static object? Add(object? left, object? right) => (left, right) switch
    {
        (string l, string r) => l + r,
        (List<object?> l, List<object?> r) => (object?)l.Concat(r).ToList(),
        _ when JinjaValue.IsNumber(left) && JinjaValue.IsNumber(right) => Arithmetic("+", left, right),
        _ => throw new JinjaRuntimeException($"cannot add {JinjaValue.TypeName(left)} and {JinjaValue.TypeName(right)} with '+' (use '~' to join as text)"),
    };

    private const long MaxRepeatedLength = 1 << 24;

    private static object? Arithmetic(string op, object? left, object? right)
    {
        if (op == "*" && (left, right) is (string, long) or (long, string))
        {
            var (s, times) = left is string l ? (l, (long)right!) : ((string)right!, (long)left!);
            times = Math.Max(0, times);
            if (s.Length * times > MaxRepeatedLength)
                throw new JinjaRuntimeException($"string repetition would make {s.Length * times} characters");
            return string.Concat(Enumerable.Repeat(s, (int)times));
        }
        if (!JinjaValue.IsNumber(left) || !JinjaValue.IsNumber(right))
            throw new JinjaRuntimeException($"operator '{op}' needs numbers but got {JinjaValue.TypeName(left)} and {JinjaValue.TypeName(right)}");
        bool integral = left is long or bool && right is long or bool;
        if (integral && op != "/" && op != "**")
        {
            long a = (long)JinjaValue.ToDouble(left), c = (long)JinjaValue.ToDouble(right);
            if (op is "//" or "%" && c == 0) throw new JinjaRuntimeException("integer division or modulo by zero");
            return op switch
            {
                "+" => a + c,
                "-" => a - c,
                "*" => a * c,
                "//" => (long)Math.Floor((double)a / c),
                "%" => ((a % c) + c) % c, // Python's modulo takes the divisor's sign
                _ => throw new JinjaRuntimeException($"unsupported operator '{op}'"),
            };
        }
        double x = JinjaValue.ToDouble(left), y = JinjaValue.ToDouble(right);
        return op switch
        {
            "+" => x + y,
            "-" => x - y,
            "*" => x * y,
            "/" => y == 0 ? throw new JinjaRuntimeException("division by zero") : x / y,
            "//" => Math.Floor(x / y),
            "%" => x - y * Math.Floor(x / y),
            "**" => integral && y >= 0 ? (object)(long)Math.Pow(x, y) : Math.Pow(x, y),
            _ => throw new JinjaRuntimeException($"unsupported operator '{op}'"),
        };
    }
}
