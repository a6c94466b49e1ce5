namespace Frugal.Server.Protocol;

// Response shapes of the OpenAI API, serialized with snake_case names (see ServerJson).

public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens, PromptTokensDetails? PromptTokensDetails = null);

public sealed record PromptTokensDetails(int CachedTokens);

public sealed record ChatCompletion(string Id, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage Usage, VoteSummary? Vote = null)
{
    public string Object => "chat.completion";
}

public sealed record ChatChoice(int Index, AssistantMessage Message, ChatLogprobs? Logprobs, string FinishReason);

/// <param name="Content">null (left out) when the reply is only tool calls.</param>
public sealed record AssistantMessage(string? Content, IReadOnlyList<ToolCallOut>? ToolCalls = null)
{
    public string Role => "assistant";
}

public sealed record ChatCompletionChunk(string Id, long Created, string Model, IReadOnlyList<ChatChunkChoice> Choices, Usage? Usage = null)
{
    public string Object => "chat.completion.chunk";
}

public sealed record ChatChunkChoice(int Index, ChatDelta Delta, ChatLogprobs? Logprobs, string? FinishReason);

public sealed record ChatDelta(string? Role, string? Content, IReadOnlyList<ToolCallDelta>? ToolCalls = null);

public sealed record ToolCallOut(string Id, FunctionCallOut Function)
{
    public string Type => "function";
}

public sealed record FunctionCallOut(string Name, string Arguments);

/// <summary>A streamed piece of call <see cref="Index"/>: its first delta carries id, type and name.</summary>
public sealed record ToolCallDelta(int Index, string? Id, string? Type, FunctionCallDelta Function);

public sealed record FunctionCallDelta(string? Name, string? Arguments);

public sealed record ChatLogprobs(IReadOnlyList<ChatTokenLogprob> Content);

public sealed record ChatTokenLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes, IReadOnlyList<ChatTopLogprob> TopLogprobs);

public sealed record ChatTopLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes);

public sealed record TextCompletion(string Id, long Created, string Model, IReadOnlyList<TextChoice> Choices, Usage? Usage, VoteSummary? Vote = null)
{
    public string Object => "text_completion";
}

public sealed record TextChoice(int Index, string Text, TextLogprobs? Logprobs, string? FinishReason);

public sealed record TextLogprobs(IReadOnlyList<string> Tokens, IReadOnlyList<float> TokenLogprobs, IReadOnlyList<Dictionary<string, float>> TopLogprobs, IReadOnlyList<int> TextOffset);

/// <summary>
/// The vote extension's result: the voted answer (null when every choice abstained), how it was chosen, each answer's
/// count (most first), the choices that gave no answer, and the index of the first choice that gave the voted answer.
/// </summary>
public sealed record VoteSummary(string? Answer, string Method, IReadOnlyList<VoteCount> Counts, int Abstained, int? ChoiceIndex);

public sealed record VoteCount(string Answer, int Count);

public sealed record ModelList(IReadOnlyList<ModelEntry> Data)
{
    public string Object => "list";
}

public sealed record ModelEntry(string Id, long Created)
{
    public string Object => "model";
    public string OwnedBy => "frugal";
}

public sealed record ErrorBody(ErrorObject Error);

public sealed record ErrorObject(string Message, string Type, string? Param = null, string? Code = null);
