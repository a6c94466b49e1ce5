namespace Frugal.Tests.Tokenization;

/// <summary>
/// Hard strings for tokenizer parity: whitespace runs, digits of every length, contractions, code, URLs,
/// many scripts, combining marks, emoji and ZWJ sequences, odd code points and special-token text.
/// No lone surrogates and no unassigned code points (their classes differ between Unicode versions).
/// </summary>
public static class TokenizerCorpus
{
    private static readonly Lazy<List<string>> Strings = new(Build);

    public static IReadOnlyList<string> All => Strings.Value;

    private static readonly string[] Whitespace =
    [
        "", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\n ", "\t\t", " \t ", "\n\n\n\n", "        ",
        "  \n  \n", "\r", "\r\r\n", "\u00A0", "\u3000", "a\u00A0b", "\u2003word", "x\u2028y", "\v\f", " \u00A0 ",
        "\t\n\t", " \r\n ", "\n\t \n", "a  b   c    d", "a\n\nb\n\n\nc", "end\n",
    ];

    private static readonly string[] Spaces =
    [
        " hello", "hello ", " hello ", "  hello", "hello  ", "   leading three", "trailing three   ", " a b c ",
        "\thello", "hello\t", "\nhello", "hello\n", " \thello", "word\n\n", "  multiple   spaces   inside  ",
        " Hello World", "Hello World ", "  \tmixed \t whitespace\t  ",
    ];

    private static readonly string[] Numbers =
    [
        "3.14159", "1,000,000", "-42", "+7", "0x1F", "1e10", "2024-06-01", "12:30:45", "$19.99", "100%", "v1.2.3",
        "１２３", "٣٤٥", "४५६", "Ⅻ", "½ cup", "x²+y²", "10th", "1st 2nd 3rd", "007", "a1b22c333d4444", " 12345 ",
        "99 bottles", "3 + 4 = 7", "1234567.891011",
    ];

    private static readonly string[] English =
    [
        "Hello, world!", "The quick brown fox jumps over the lazy dog.", "I'm", "you're", "it's", "can't", "won't",
        "we've", "they'll", "I'd", "HE'S", "WE'LL", "They'RE", "it'S", "o'clock", "rock 'n' roll", "'s", "'", "''",
        "'tis", "don't do that", "She said 'hello'", "\"quoted\"", "Hello , world !", "What ?", "Yes .", "a ' b",
        "John 's book", "I 'm here", "you 've been", "we 're", "it 'll", "he 'd", "Mr. Smith's dog's bone.",
        "Wait... what?!", "e.g. i.e. etc.", "U.S.A.", "It’s curly", "rock’n’roll", "ALL CAPS SENTENCE", "MiXeD cAsE",
        "supercalifragilisticexpialidocious", "antidisestablishmentarianism",
    ];

    private static readonly string[] Code =
    [
        "def foo(x):\n    return x * 2\n", "int main() { return 0; }", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
        "if x == 1:\n\tpass", "console.log(`${a}`);", "SELECT * FROM users WHERE id = 1;", "<div class=\"x\">hi</div>",
        "#include <stdio.h>", "x => x + 1", "a && b || !c", "std::vector<int> v;", "    indented four",
        "\tfn main() {}", "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}", "// comment\n/* block */",
        "import numpy as np", "lambda: None", "printf(\"%d\\n\", x);", "$ ls -la | grep foo", "git commit -m 'msg'",
        "<?php echo $x; ?>", "a_b_c snake_case", "camelCaseIdentifier", "CONSTANT_VALUE = 42", "0b1010 0o17 0xFF",
        "@decorator\ndef f(): ...", "foo(bar(baz(1)))", "[[1,2],[3,4]]", "x != y", "i++; j--;", "~/path/to/file.txt",
        "C:\\Windows\\System32", "    \n    \n", "\t\tindented\n\t\t\tmore", "a=1;b=2;c=a+b", "#!/bin/bash\necho \"$HOME\"",
        "<|>", "=>", "...", "::", "->", "&&&", "x: int = 5  # comment",
    ];

    private static readonly string[] Web =
    [
        "https://example.com/path?q=1&r=2#frag", "http://localhost:8080/", "www.github.com/ggml-org/llama.cpp",
        "user@example.com", "ftp://files.example.org/a/b.tar.gz", "mailto:someone@somewhere.net",
        "https://ja.wikipedia.org/wiki/日本", "file:///tmp/x", "@username #hashtag", "a.b.c.d",
        "**bold** _italic_ `code`", "# Heading\n\n- item 1\n- item 2\n", "| a | b |\n|---|---|\n| 1 | 2 |",
        "Line1\r\nLine2\r\n", "Tab\tseparated\tvalues", "> quoted line\n> another",
    ];

    private static readonly string[] Cjk =
    [
        "你好，世界！", "我爱自然语言处理。", "日本語のテキストです。", "ひらがな カタカナ 漢字", "한국어 문장입니다.",
        "中文 English 混合", "東京タワー", "「引用」と『二重』", "全角スペース　あり", "繁體中文測試", "𠀀𠀁 CJK Ext B",
        "龘", "ｈａｌｆ ｗｉｄｔｈ", "ｶﾀｶﾅ", "一二三四五六七八九十", "中文,标点;混合:测试", "漢字かな交じり文",
        "韓國語 한국어", "😀中文", "中😀文", " 中文", "中文 ", "今日は2024年です", "ㄅㄆㄇ注音",
    ];

    private static readonly string[] OtherScripts =
    [
        "مرحبا بالعالم", "السلام عليكم", "العربية ١٢٣", "שלום עולם", "עברית 123", "مَرْحَبًا", "\u200Fمرحبا\u200E",
        "فارسی زبان", "اردو زبان", "ܫܠܡܐ", "नमस्ते दुनिया", "हिन्दी भाषा", "क्षत्रिय", "தமிழ் மொழி", "বাংলা ভাষা",
        "ગુજરાતી", "ਪੰਜਾਬੀ", "తెలుగు", "ಕನ್ನಡ", "മലയാളം", "සිංහල", "ไทย ภาษา", "ພາສາລາວ", "မြန်မာ", "ქართული",
        "Հայերեն", "አማርኛ", "ᠮᠣᠩᠭᠣᠯ", "Привет, мир!", "Съешь же ещё этих мягких французских булок", "Γειά σου Κόσμε",
        "naïve café résumé", "Ærøskøbing", "straße STRASSE", "İstanbul ıi", "Łódź Gdańsk", "Čeština Šťastný",
        "Ελληνικά ΑΒΓ", "ǅemal", "ﬁnance ﬂow", "Ωmega Ω", "ſtraße long s", "K Kelvin sign", "Tiếng Việt có dấu",
    ];

    private static readonly string[] Marks =
    [
        "e\u0301", "cafe\u0301", "n\u0303", "a\u0300\u0301\u0302", "\u0301alone", "Z\u0351\u0352\u0353algo",
        "o\u0308\u0304", "क\u094D", "\u0915\u093F", "x\u20DD", " \u0301", "'\u0301s", "1\u0301",
    ];

    private static readonly string[] Emoji =
    [
        "😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇺🇸🇯🇵", "1️⃣", "👩🏾‍💻", "🦙 llama", "emoji😀inside", "😀😃😄😁",
        "☕ coffee", "✔️ done", "🤷‍♀️", "🧑‍🤝‍🧑", " 😀", "😀 ", "a😀b", "🫠", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "😀a", "a 😀 b", "😀\n😀",
        "'😀", "😀's", "🔥🔥🔥 fire",
    ];

    private static readonly string[] OddUnicode =
    [
        "\u200B", "a\u200Bb", "\uFEFFBOM", "soft\u00ADhyphen", "word\u2060joiner", "\uFFFD", "a\u0000b", "\u0007bell",
        "\u001B[31mred\u001B[0m", "\u2028line sep", "\u00A0\u00A0", "‽", "…", "—dash—", "“smart quotes”",
        "«guillemets»", "™©®", "°C", "∑∫√∞", "←→↑↓", "♠♣♥♦", "⌘⌥⇧", "\uE000 private use", "𝐀𝐁𝐂 math bold",
        "𝟘𝟙𝟚 math digits", "𐍈 gothic", "ℌ𝔢𝔩𝔩𝔬", "\u0085next line", "\u180Emongolian vowel sep", "x\u200Dy",
        "\u00B5 micro", "\u2581 lower block", "▁▁already▁escaped", "\u0001\u0002\u001F", "\u007F",
    ];

    private static readonly string[] SpecialText =
    [
        "<|begin_of_text|>", "<|begin_of_text|>Hello", "Hello<|eot_id|>",
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
        "<s>", "</s>", "<s>Hello</s>", "<unk>", " <s> ", "<s> Hello", "Hello <s>", "<s><s>", "<think>\nreasoning\n</think>\n\nanswer",
        "<tool_call>{\"name\": \"f\"}</tool_call>", "<|endoftext|>", "<|im_end|><|im_end|>", "<|im_", "<|eot_id", "|>",
        "<<s>>", "<|reserved_special_token_5|>", "text<|end_of_text|>more", "<|fim_prefix|>a<|fim_suffix|>b<|fim_middle|>",
        "<|eom_id|>", "< s >", "<S>", "<|EOT_ID|>", "a<think>b", " <think> ", "<|python_tag|>print(1)",
        "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n", "<eos>", "<unused0> <mask>", "[multimodal]",
        "<b>bold</b> <table><tr><td>1</td></tr></table>", "[INST] Hi [/INST]", "[AVAILABLE_TOOLS][/AVAILABLE_TOOLS]", "<SPECIAL_20>",
    ];

    // Where tekken / o200k split words at case changes and keep '/' after punctuation, and llama.cpp's adaptation
    // (a letter that is not a-z / A-Z) treats every non-ASCII letter as both cases.
    private static readonly string[] CaseAndPaths =
    [
        "HelloWorld", "XMLHttpRequest getHTTPResponseCode", "ÉCOLE école", "naïveÉcole", "ΑΘΗΝΑ Αθήνα", "МОСКВА Москва",
        "don'tStop I'M HERE", "a/\n/b", "?!/\r\n", "https://x.io/a/\n", "e\u0301cole É\u0301COLE", "ǅungla ǈ",
    ];

    private static readonly string[] Repetition =
    [
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ababababab", "!!!!!!!!!!", "........", "----", "=====", "....?!", "?!?!",
        "hello!!!???", "ha ha ha ha ha", "\n\n\n\n\n\n\n\n\n\n", "                                ", "0000000000",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris.",
        "In 1492, Columbus sailed the ocean blue; in 1969, humans walked on the Moon (Apollo 11) — 477 years later!",
    ];

    private static List<string> Build()
    {
        var all = new List<string>();
        foreach (var group in new[] { Whitespace, Spaces, Numbers, English, Code, Web, Cjk, OtherScripts, Marks, Emoji, OddUnicode, SpecialText, CaseAndPaths, Repetition })
            all.AddRange(group);

        // Digits of every length 1..20, alone, after a space and glued to letters.
        for (int len = 1; len <= 20; len++)
        {
            string digits = string.Concat(Enumerable.Range(0, len).Select(i => (char)('1' + (i % 9))));
            all.Add(digits);
            if (len % 2 == 0) all.Add(" " + digits);
            if (len % 3 == 0) all.Add("x" + digits + "y");
        }

        // Whitespace around a few words in every arrangement the pre-tokenizers treat differently.
        foreach (string word in new[] { "word", "日本", "😀", "42", "'s", "!?" })
            foreach (var (before, after) in new[] { (" ", ""), ("", " "), ("  ", "  "), ("\n", "\n"), ("\t", " "), (" \n ", "") })
                all.Add(before + word + after);
        return all;
    }
}
