using System.Text;

namespace Frugal.Tokenization.ChatTemplates;

/// <summary>
/// Runs a parsed template. Scoping follows Jinja2: a for loop (and a macro call) opens a scope whose `set`s do not
/// leak out, while if blocks share their enclosing scope; namespace() objects are how templates carry state out.
/// </summary>
internal sealed partial class JinjaEvaluator
{
    private enum Flow { Normal, Break, Continue }

    private sealed class Scope(Scope? parent)
    {
        public readonly Dictionary<string, object?> Vars = new(StringComparer.Ordinal);

        public Scope? Parent { get; } = parent;

        public bool TryGet(string name, out object? value)
        {
            for (var s = this; s is not null; s = s.Parent)
                if (s.Vars.TryGetValue(name, out value))
                    return true;
            value = null;
            return false;
        }
    }

    // A template comes from a downloaded file: bound its work so a hostile one fails cleanly instead of hanging
    // the server or overflowing the stack.
    private const long MaxNodeExecutions = 1_000_000;
    private const int MaxMacroDepth = 100;

    private readonly string _src;
    private readonly Scope _globals;
    private long _executions;
    private int _macroDepth;

    public JinjaEvaluator(string source, IReadOnlyDictionary<string, object?> globals)
    {
        _src = source;
        _globals = new Scope(null);
        foreach (var (k, v) in globals) _globals.Vars[k] = v;
    }

    public string Render(IReadOnlyList<JinjaNode> nodes, IReadOnlyDictionary<string, object?> variables)
    {
        var scope = new Scope(_globals);
        foreach (var (k, v) in variables) scope.Vars[k] = JinjaValue.FromClr(v);
        var sb = new StringBuilder();
        var flow = Execute(nodes, scope, sb);
        if (flow != Flow.Normal)
            throw ChatTemplateException.At(_src, 0, $"'{{% {flow.ToString().ToLowerInvariant()} %}}' outside of a loop");
        return sb.ToString();
    }

    private Flow Execute(IReadOnlyList<JinjaNode> nodes, Scope scope, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            if (++_executions > MaxNodeExecutions)
                throw ChatTemplateException.At(_src, node.Offset, $"rendering took more than {MaxNodeExecutions} steps; the template loops too long");
            var flow = ExecuteNode(node, scope, output);
            if (flow != Flow.Normal)
                return flow;
        }
        return Flow.Normal;
    }

    private Flow ExecuteNode(JinjaNode node, Scope scope, StringBuilder output)
    {
        switch (node)
        {
            case TextNode t:
                output.Append(t.Text);
                return Flow.Normal;
            case OutputNode o:
                output.Append(JinjaValue.ToStr(Eval(o.Value, scope)));
                return Flow.Normal;
            case IfNode i:
                foreach (var (condition, body) in i.Branches)
                    if (JinjaValue.IsTruthy(Eval(condition, scope)))
                        return Execute(body, scope, output);
                return Execute(i.Else, scope, output);
            case ForNode f:
                return ExecuteFor(f, scope, output);
            case SetNode s:
                Assign(s.Target, Eval(s.Value, scope), scope);
                return Flow.Normal;
            case SetBlockNode sb:
                var captured = new StringBuilder();
                Execute(sb.Body, scope, captured);
                scope.Vars[sb.Name] = captured.ToString();
                return Flow.Normal;
            case MacroNode m:
                scope.Vars[m.Name] = MakeMacro(m, scope);
                return Flow.Normal;
            case BreakNode:
                return Flow.Break;
            case ContinueNode:
                return Flow.Continue;
            case GenerationNode g:
                return Execute(g.Body, scope, output);
            default:
                throw ChatTemplateException.At(_src, node.Offset, $"unsupported construct {node.GetType().Name}");
        }
    }

    private Flow ExecuteFor(ForNode f, Scope scope, StringBuilder output)
    {
        var source = Eval(f.Iterable, scope);
        List<object?> items;
        try
        {
            items = JinjaValue.Iterate(source);
        }
        catch (JinjaRuntimeException e)
        {
            throw ChatTemplateException.At(_src, f.Iterable.Offset, e.Message);
        }
        if (f.Filter is not null)
        {
            var kept = new List<object?>();
            foreach (var item in items)
            {
                var probe = new Scope(scope);
                Bind(f, item, probe);
                if (JinjaValue.IsTruthy(Eval(f.Filter, probe)))
                    kept.Add(item);
            }
            items = kept;
        }
        if (items.Count == 0)
            return Execute(f.Else, scope, output);

        for (int i = 0; i < items.Count; i++)
        {
            var loopScope = new Scope(scope);
            Bind(f, items[i], loopScope);
            if (f.UsesLoop) loopScope.Vars["loop"] = LoopObject(items, i);
            if (Execute(f.Body, loopScope, output) == Flow.Break)
                break;
        }
        return Flow.Normal;
    }

    private void Bind(ForNode f, object? item, Scope scope)
    {
        if (f.Targets.Count == 1)
        {
            scope.Vars[f.Targets[0]] = item;
            return;
        }
        if (item is not List<object?> tuple || tuple.Count != f.Targets.Count)
            throw ChatTemplateException.At(_src, f.Offset, $"cannot unpack {JinjaValue.TypeName(item)} into {f.Targets.Count} loop variables");
        for (int k = 0; k < tuple.Count; k++) scope.Vars[f.Targets[k]] = tuple[k];
    }

    private static JinjaMap LoopObject(List<object?> items, int i)
    {
        int n = items.Count;
        var loop = new JinjaMap
        {
            ["index0"] = (long)i,
            ["index"] = (long)(i + 1),
            ["revindex0"] = (long)(n - i - 1),
            ["revindex"] = (long)(n - i),
            ["first"] = i == 0,
            ["last"] = i == n - 1,
            ["length"] = (long)n,
            ["previtem"] = i > 0 ? items[i - 1] : JinjaUndefined.Value,
            ["nextitem"] = i < n - 1 ? items[i + 1] : JinjaUndefined.Value,
        };
        loop["cycle"] = (JinjaCallable)((args, _) => args.Count == 0
            ? throw new JinjaRuntimeException("loop.cycle needs at least one argument")
            : args[i % args.Count]);
        return loop;
    }

    private void Assign(JinjaExpr target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameExpr n:
                scope.Vars[n.Name] = value;
                break;
            case AttributeExpr { Target: NameExpr owner } a:
                if (!scope.TryGet(owner.Name, out var ns) || ns is not JinjaNamespace space)
                    throw ChatTemplateException.At(_src, a.Offset, $"cannot set attribute '{a.Name}' on '{owner.Name}': only namespace() objects can be assigned to");
                space[a.Name] = value;
                break;
            case TupleExpr t:
                if (value is not List<object?> list || list.Count != t.Items.Count)
                    throw ChatTemplateException.At(_src, t.Offset, $"cannot unpack {JinjaValue.TypeName(value)} into {t.Items.Count} names");
                for (int i = 0; i < list.Count; i++) Assign(t.Items[i], list[i], scope);
                break;
            default:
                throw ChatTemplateException.At(_src, target.Offset, "unsupported assignment target");
        }
    }

    private JinjaCallable MakeMacro(MacroNode m, Scope definedIn) => (args, kwargs) =>
    {
        var scope = new Scope(definedIn);
        if (args.Count > m.Parameters.Count)
            throw new JinjaRuntimeException($"macro '{m.Name}' takes {m.Parameters.Count} arguments but got {args.Count}");
        for (int i = 0; i < m.Parameters.Count; i++)
        {
            var (name, def) = m.Parameters[i];
            scope.Vars[name] = i < args.Count ? args[i]
                : kwargs.TryGetValue(name, out var kv) ? kv
                : def is not null ? Eval(def, definedIn)
                : new JinjaUndefined($"macro parameter '{name}'");
        }
        if (++_macroDepth > MaxMacroDepth)
            throw new JinjaRuntimeException($"macro '{m.Name}' nests deeper than {MaxMacroDepth} calls");
        try
        {
            var sb = new StringBuilder();
            Execute(m.Body, scope, sb);
            return sb.ToString();
        }
        finally
        {
            _macroDepth--;
        }
    };
}
