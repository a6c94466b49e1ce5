namespace Frugal.Evaluation;

/// <summary>The command-line and JSON names of the task families ("arithmetic", "recall", "copy", "copy-long", "chain").</summary>
public static class TaskNames
{
    private static readonly (string Name, EvalTask Task)[] All =
    [
        ("arithmetic", EvalTask.Arithmetic),
        ("recall", EvalTask.Recall),
        ("copy", EvalTask.Copy),
        ("copy-long", EvalTask.CopyLong),
        ("chain", EvalTask.Chain),
    ];

    public static IEnumerable<string> Names => All.Select(t => t.Name);

    public static string Name(EvalTask task) =>
        Array.Find(All, t => t.Task == task).Name ?? throw new ArgumentOutOfRangeException(nameof(task), task, "unknown task");

    public static bool TryParse(string name, out EvalTask task)
    {
        foreach (var t in All)
        {
            if (string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                task = t.Task;
                return true;
            }
        }
        task = default;
        return false;
    }
}
