namespace Frugal.Tokenization.ChatTemplates;

internal enum JinjaTokenKind
{
    Text,
    BlockStart,     // {%
    BlockEnd,       // %}
    VariableStart,  // {{
    VariableEnd,    // }}
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}

/// <param name="Offset">Index into the template source, for error positions.</param>
internal readonly record struct JinjaToken(JinjaTokenKind Kind, string Value, int Offset)
{
    public bool Is(JinjaTokenKind kind, string value) => Kind == kind && Value == value;

    public bool IsName(string name) => Kind == JinjaTokenKind.Name && Value == name;

    public bool IsOperator(string op) => Kind == JinjaTokenKind.Operator && Value == op;

    public override string ToString() => Kind switch
    {
        JinjaTokenKind.End => "end of template",
        JinjaTokenKind.Text => "text",
        _ => $"'{Value}'",
    };
}
