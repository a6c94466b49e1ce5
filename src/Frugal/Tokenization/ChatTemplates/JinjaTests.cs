namespace Frugal.Tokenization.ChatTemplates;

/// <summary>The `is` tests of Jinja2 that chat templates use (jinja2/tests.py).</summary>
internal static class JinjaTests
{
    public static bool Apply(string name, object? value, IReadOnlyList<object?> args)
    {
        object? Arg() => args.Count > 0 ? args[0] : throw new JinjaRuntimeException($"test '{name}' needs an argument");
        return name switch
        {
            "defined" => value is not JinjaUndefined,
            "undefined" => value is JinjaUndefined,
            "none" => value is null,
            "string" => value is string,
            "number" => value is long or double or bool,
            "integer" => value is long,
            "float" => value is double,
            "boolean" => value is bool,
            "true" => value is true,
            "false" => value is false,
            "mapping" => value is JinjaMap,
            "iterable" => value is List<object?> or JinjaMap or string,
            "sequence" => value is List<object?> or JinjaMap or string,
            "callable" => value is JinjaCallable,
            "even" => value is long l && l % 2 == 0,
            "odd" => value is long l2 && l2 % 2 != 0,
            "divisibleby" => value is long a && Arg() is long b && b != 0 && a % b == 0,
            "equalto" or "eq" or "==" => JinjaValue.AreEqual(value, Arg()),
            "ne" or "!=" => !JinjaValue.AreEqual(value, Arg()),
            "sameas" => Arg() is var other && (value is null && other is null || value is bool x && other is bool y && x == y || ReferenceEquals(value, other)),
            "gt" or "greaterthan" or ">" => JinjaValue.Compare(value, Arg()) > 0,
            "ge" or ">=" => JinjaValue.Compare(value, Arg()) >= 0,
            "lt" or "lessthan" or "<" => JinjaValue.Compare(value, Arg()) < 0,
            "le" or "<=" => JinjaValue.Compare(value, Arg()) <= 0,
            "in" => JinjaMembers.Contains(Arg(), value),
            "lower" => value is string s && s == s.ToLowerInvariant(),
            "upper" => value is string s2 && s2 == s2.ToUpperInvariant(),
            _ => throw new JinjaRuntimeException($"unsupported construct: test '{name}'"),
        };
    }
}
