using Frugal.Gguf;

namespace Frugal.Tokenization.ChatTemplates;

/// <summary>
/// Renders a conversation into the prompt text a model was trained on, with the model's own Jinja chat template
/// (tokenizer.chat_template), the way Hugging Face transformers' apply_chat_template does: trim_blocks and
/// lstrip_blocks on, messages/add_generation_prompt/bos_token/eos_token in scope, raise_exception and
/// strftime_now available. The template is parsed once and cached.
/// </summary>
public sealed class ChatTemplate
{
    private readonly JinjaTemplate _template;

    /// <summary>Parses the template now, so a malformed one fails here with its line and column.</summary>
    /// <exception cref="ChatTemplateException">The template uses syntax outside the supported subset, or is malformed.</exception>
    public ChatTemplate(string source, string? bosToken = null, string? eosToken = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        Source = source;
        BosToken = bosToken;
        EosToken = eosToken;
        _template = JinjaTemplate.Parse(source);
    }

    public string Source { get; }

    public string? BosToken { get; }

    public string? EosToken { get; }

    /// <summary>The clock behind strftime_now (Llama 3.x prints today's date); settable so tests are repeatable.</summary>
    public Func<DateTimeOffset> Clock { get; init; } = () => DateTimeOffset.Now;

    /// <summary>
    /// The template a GGUF file carries (tokenizer.chat_template) with the text of its BOS/EOS tokens, or null
    /// when the file has none.
    /// </summary>
    public static ChatTemplate? FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var source = file.GetString("tokenizer.chat_template");
        if (source is null)
            return null;
        var tokens = file.Find("tokenizer.ggml.tokens");
        string? TokenText(string key)
        {
            long? id = file.GetInt(key);
            if (id is null || tokens is null || !tokens.IsArray) return null;
            var texts = tokens.AsArray<string>();
            return id >= 0 && id < texts.Length ? texts[id.Value] : null;
        }
        return new ChatTemplate(source, TokenText("tokenizer.ggml.bos_token_id"), TokenText("tokenizer.ggml.eos_token_id"));
    }

    /// <summary>Renders the conversation.</summary>
    /// <param name="addGenerationPrompt">Append the header that starts the assistant's reply.</param>
    /// <param name="variables">Further template variables (tools, enable_thinking, date_string, ...); they
    /// override the defaults.</param>
    /// <exception cref="ChatTemplateRaisedException">The template rejected the conversation (e.g. roles do not alternate).</exception>
    /// <exception cref="ChatTemplateException">The template failed while rendering.</exception>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true, IReadOnlyDictionary<string, object?>? variables = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var scope = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = messages,
            ["add_generation_prompt"] = addGenerationPrompt,
        };
        if (BosToken is not null) scope["bos_token"] = BosToken;
        if (EosToken is not null) scope["eos_token"] = EosToken;
        if (variables is not null)
            foreach (var (k, v) in variables) scope[k] = v;
        return _template.Render(scope, Clock);
    }
}
