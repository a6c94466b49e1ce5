using Frugal.Gguf;

namespace Frugal.Tokenization;

internal sealed partial class GgufVocabulary
{
    // llama.cpp finds these roles by token text because converters do not always write their ids.
    private static readonly string[] EotTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
        "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ];

    private static readonly string[] FimPadTexts = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"];
    private static readonly string[] FimRepTexts = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"];
    private static readonly string[] FimSepTexts = ["<|file_sep|>"];

    private static readonly string[] FimOtherTexts =
    [
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>",
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>",
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>",
    ];

    private static readonly HashSet<string> EndOfGenerationTexts = new(StringComparer.Ordinal)
    {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>",
        "<｜end▁of▁sentence｜>", "</s>", "<eos>", "<turn|>", "<|tool_response>", "[e~[",
    };

    /// <summary>
    /// Mirrors the "auto-detect special tokens by text" and end-of-generation steps of llama.cpp's vocab loader:
    /// role tokens found by text become control tokens, control tokens named "unused" are marked unused, and the
    /// end-of-generation set collects EOS, EOT, EOM, FIM pad/repo/separator and the known end-of-turn texts.
    /// </summary>
    private void DetectSpecialTokensByText(GgufFile file)
    {
        int fimPad = None, fimRep = None, fimSep = None;
        for (int id = 0; id < Count; id++)
        {
            string text = Texts[id];
            if (EotId == None && Array.IndexOf(EotTexts, text) >= 0) EotId = MarkControl(id);
            if (EomId == None && text == "<|eom_id|>") EomId = MarkControl(id);
            if (fimPad == None && Array.IndexOf(FimPadTexts, text) >= 0) fimPad = MarkControl(id);
            if (fimRep == None && Array.IndexOf(FimRepTexts, text) >= 0) fimRep = MarkControl(id);
            if (fimSep == None && Array.IndexOf(FimSepTexts, text) >= 0) fimSep = MarkControl(id);
            if (Array.IndexOf(FimOtherTexts, text) >= 0) MarkControl(id);
        }

        for (int id = 0; id < Count; id++)
        {
            if ((Attributes[id] & TokenAttributes.Control) != 0 && Texts[id].Contains("unused", StringComparison.Ordinal))
                Attributes[id] |= TokenAttributes.Unused;
        }

        foreach (int id in (int[])[fimPad, fimRep, fimSep])
            if (id != None) EndOfGeneration.Add(id);
        for (int id = 0; id < Count; id++)
        {
            if (EndOfGenerationTexts.Contains(Texts[id]))
            {
                EndOfGeneration.Add(id);
                MarkControl(id);
            }
        }

        // gpt-oss: these structural tokens are always rendered.
        foreach (string text in (string[])["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"])
            if (Ids.TryGetValue(text, out int id)) Attributes[id] = TokenAttributes.UserDefined;

        foreach (int id in (int[])[EosId, EotId, EomId])
            if (id != None) EndOfGeneration.Add(id);

        // o200k_harmony / solar-open: "<|end|>" ends a message, not the generation, when these are present.
        bool Has(string t) => Ids.TryGetValue(t, out int i) && EndOfGeneration.Contains(i);
        if (Ids.TryGetValue("<|end|>", out int endId) && EndOfGeneration.Contains(endId)
            && ((Has("<|return|>") && Has("<|call|>")) || ((Has("<|call|>") || Has("<|calls|>")) && Has("<|flush|>"))))
        {
            EndOfGeneration.Remove(endId);
            Attributes[endId] = TokenAttributes.UserDefined;
        }

        // gemma4 / paddleocr: with "<|tool_response>" present, "</s>" is an ordinary token.
        if (Ids.TryGetValue("</s>", out int sId) && EndOfGeneration.Contains(sId) && Has("<|tool_response>"))
        {
            EndOfGeneration.Remove(sId);
            Attributes[sId] = TokenAttributes.Normal;
        }
    }

    private int MarkControl(int id)
    {
        Attributes[id] |= TokenAttributes.Control;
        return id;
    }

    private void BuildSplitTokens(GgufFile file)
    {
        const TokenAttributes split = TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown;
        var ids = new List<int>();
        for (int id = 0; id < Count; id++)
            if ((Attributes[id] & split) != 0) ids.Add(id);
        var byteLength = ids.ToDictionary(id => id, id => System.Text.Encoding.UTF8.GetByteCount(Texts[id]));
        // Longest first, as llama.cpp sorts its cache; ties keep id order (llama.cpp's sort is unstable there).
        SplitTokens = [.. ids.OrderByDescending(id => byteLength[id])];

        // Phi-3 models strip whitespace to the right of their special tokens (llama.cpp sets this by model name).
        string name = file.GetString("general.name")?.ToLowerInvariant() ?? "";
        if (name.Contains("phi-3", StringComparison.Ordinal) || name.Contains("phi3", StringComparison.Ordinal))
        {
            foreach (int id in SplitTokens) Attributes[id] |= TokenAttributes.RStrip;
            if (Ids.TryGetValue("</s>", out int eos)) Attributes[eos] |= TokenAttributes.RStrip;
            foreach (string t in (string[])["<unk>", "<s>", "<|endoftext|>"])
                if (Ids.TryGetValue(t, out int id)) Attributes[id] &= ~TokenAttributes.RStrip;
        }
    }
}
