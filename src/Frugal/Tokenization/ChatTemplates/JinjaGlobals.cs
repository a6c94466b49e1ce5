using System.Globalization;

namespace Frugal.Tokenization.ChatTemplates;

/// <summary>The functions transformers puts in a chat template's environment.</summary>
internal static class JinjaGlobals
{
    public static Dictionary<string, object?> Create(Func<DateTimeOffset>? clock)
    {
        var globals = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["raise_exception"] = (JinjaCallable)((args, _) =>
                throw new JinjaRaiseException(args.Count > 0 ? JinjaValue.ToStr(args[0]) : "raise_exception called")),
            ["range"] = (JinjaCallable)((args, _) => Range(args)),
            ["namespace"] = (JinjaCallable)((args, kwargs) =>
            {
                var ns = new JinjaNamespace();
                foreach (var a in args)
                    if (a is JinjaMap m) foreach (var (k, v) in m) ns[k] = v;
                foreach (var (k, v) in kwargs) ns[k] = v;
                return ns;
            }),
            ["dict"] = (JinjaCallable)((_, kwargs) =>
            {
                var map = new JinjaMap();
                foreach (var (k, v) in kwargs) map[k] = v;
                return map;
            }),
        };
        if (clock is not null)
            globals["strftime_now"] = (JinjaCallable)((args, _) =>
                Strftime(clock(), args.Count > 0 && args[0] is string f ? f : throw new JinjaRuntimeException("strftime_now needs a format string")));
        return globals;
    }

    private static List<object?> Range(IReadOnlyList<object?> args)
    {
        long[] a = args.Select(x => x is long l ? l : throw new JinjaRuntimeException($"range needs integers but got {JinjaValue.TypeName(x)}")).ToArray();
        var (start, stop, step) = a.Length switch
        {
            1 => (0L, a[0], 1L),
            2 => (a[0], a[1], 1L),
            3 => (a[0], a[1], a[2]),
            _ => throw new JinjaRuntimeException("range takes 1 to 3 arguments"),
        };
        if (step == 0) throw new JinjaRuntimeException("range step cannot be zero");
        var result = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            result.Add(i);
            if (result.Count > 1_000_000) throw new JinjaRuntimeException("range is too long");
        }
        return result;
    }

    /// <summary>The strftime codes templates use (Llama 3.x prints "%d %b %Y").</summary>
    internal static string Strftime(DateTimeOffset t, string format)
    {
        var sb = new System.Text.StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 == format.Length)
            {
                sb.Append(format[i]);
                continue;
            }
            char code = format[++i];
            sb.Append(code switch
            {
                'd' => t.Day.ToString("00", inv),
                'm' => t.Month.ToString("00", inv),
                'Y' => t.Year.ToString("0000", inv),
                'y' => (t.Year % 100).ToString("00", inv),
                'b' => t.ToString("MMM", inv),
                'B' => t.ToString("MMMM", inv),
                'a' => t.ToString("ddd", inv),
                'A' => t.ToString("dddd", inv),
                'H' => t.Hour.ToString("00", inv),
                'I' => ((t.Hour + 11) % 12 + 1).ToString("00", inv),
                'M' => t.Minute.ToString("00", inv),
                'S' => t.Second.ToString("00", inv),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'j' => t.DayOfYear.ToString("000", inv),
                '%' => "%",
                _ => throw new JinjaRuntimeException($"strftime_now: unsupported format code '%{code}'"),
            });
        }
        return sb.ToString();
    }
}
