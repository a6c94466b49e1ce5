namespace Frugal.Tokenization.ChatTemplates;

/// <summary>
/// A chat template could not be parsed or rendered. <see cref="Line"/> and <see cref="Column"/> (1-based) point
/// into the template text where the problem is, so a user can find the offending construct in their GGUF's
/// tokenizer.chat_template.
/// </summary>
public class ChatTemplateException : Exception
{
    public ChatTemplateException(string message, int line, int column)
        : base($"{message} (chat template line {line}, column {column})")
    {
        Line = line;
        Column = column;
    }

    public int Line { get; }

    public int Column { get; }

    internal static ChatTemplateException At(string source, int offset, string message)
    {
        var (line, column) = LineAndColumn(source, offset);
        return new ChatTemplateException(message, line, column);
    }

    internal static (int Line, int Column) LineAndColumn(string source, int offset)
    {
        offset = Math.Clamp(offset, 0, source.Length);
        int line = 1, lineStart = 0;
        for (int i = 0; i < offset; i++)
        {
            if (source[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return (line, offset - lineStart + 1);
    }
}

/// <summary>The template itself called raise_exception(message): the conversation breaks one of its rules.</summary>
public sealed class ChatTemplateRaisedException(string templateMessage, int line, int column)
    : ChatTemplateException($"the chat template rejected the conversation: {templateMessage}", line, column)
{
    /// <summary>The text the template passed to raise_exception.</summary>
    public string TemplateMessage { get; } = templateMessage;
}
