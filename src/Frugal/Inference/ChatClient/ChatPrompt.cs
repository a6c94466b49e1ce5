using Frugal.Tokenization;
using Frugal.Tokenization.ChatTemplates;

namespace Frugal.Inference.ChatClient;

/// <summary>A conversation rendered with the model's chat template and tokenized, as the engine consumes it.</summary>
public static class ChatPrompt
{
    /// <param name="variables">further template variables (tools).</param>
    public static int[] Tokens(Tokenizer tokenizer, ChatTemplate template, IReadOnlyList<ChatMessage> messages, IReadOnlyDictionary<string, object?>? variables = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(template);
        string text = template.Render(messages, addGenerationPrompt: true, variables);
        // The tokenizer adds BOS itself: a template that writes it too would double it (llama.cpp strips it likewise).
        if (tokenizer.AddBos && template.BosToken is { Length: > 0 } bos && text.StartsWith(bos, StringComparison.Ordinal))
            text = text[bos.Length..];
        return tokenizer.Encode(text, addSpecial: true, parseSpecial: true);
    }
}
