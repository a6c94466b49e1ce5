namespace Frugal.Inference.Constraints;

/// <summary>
/// The built-in grammar of a JSON object (OpenAI's <c>response_format: {"type": "json_object"}</c>), in the shape of
/// llama.cpp's grammars/json.gbnf, with the shared pieces a JSON Schema grammar is built from.
/// </summary>
public static class JsonGrammar
{
    /// <summary>Whitespace between tokens: bounded, so a model cannot pad forever.</summary>
    internal const string Whitespace = """ws ::= | " " | "\n" [ \t]{0,20}""";

    /// <summary>One character inside a JSON string (escapes count as one; a \u escape never names a lone surrogate,
    /// which strict parsers such as System.Text.Json refuse to read: a high one comes with its low one).</summary>
    internal const string StringChar = """json-char ::= [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" ([0-9a-cA-CeEfF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2} | [dD] [89abAB] [0-9a-fA-F]{2} "\\u" [dD] [c-fC-F] [0-9a-fA-F]{2}))""";

    internal const string Integer = """json-int ::= "-"? ([0-9] | [1-9] [0-9]{0,15})""";

    /// <summary>A number; the exponent stays within 12, so every value fits a decimal (|x| &lt; 1e28) as well as a
    /// double: validators that read numbers as decimals (JsonSchema.Net's uniqueItems, for one) throw on 1e999.</summary>
    internal const string Number = """json-number ::= json-int ("." [0-9]{1,16})? ([eE] [-+]? ([0-9] | "1" [0-2]))?""";

    /// <summary>Any JSON value, then whitespace.</summary>
    internal const string AnyValue = """
        json-value ::= json-object | json-array | json-string | json-number ws | ("true" | "false" | "null") ws
        json-object ::= "{" ws ( json-string ":" ws json-value ("," ws json-string ":" ws json-value)* )? "}" ws
        json-array ::= "[" ws ( json-value ("," ws json-value)* )? "]" ws
        json-string ::= "\"" json-char* "\"" ws
        """;

    /// <summary>GBNF text of a JSON object (any keys and values) with optional whitespace.</summary>
    public static string ObjectGbnf { get; } = string.Join('\n',
        "root ::= json-object", AnyValue, StringChar, Integer, Number, Whitespace) + "\n";

    /// <summary>The compiled JSON object grammar.</summary>
    public static GbnfGrammar Object { get; } = GbnfGrammar.Parse(ObjectGbnf);
}
