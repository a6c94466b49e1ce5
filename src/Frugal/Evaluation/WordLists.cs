namespace Frugal.Evaluation;

/// <summary>The vocabulary the corpus draws from: simple English words a child's story would use.</summary>
public static class WordLists
{
    public static readonly string[] Names =
    [
        "Anna", "Ben", "Lily", "Tom", "Mia", "Sam", "Lucy", "Max", "Ella", "Jack", "Sara", "Leo", "Emma", "Noah",
        "Zoe", "Finn", "Ruby", "Owen", "Nora", "Eli", "Ivy", "Jake", "Amy", "Dan", "Kate", "Luke", "Rosa", "Paul",
        "Tina", "Hugo", "Lena", "Omar", "Jade", "Carl", "Maya", "Ray", "Gina", "Theo", "Nina", "Adam", "Beth", "Otto",
        "Alice", "Oscar", "Daisy", "Felix", "Grace", "Henry", "Clara", "Peter", "Molly", "Simon", "Hannah", "Victor",
        "Julia", "Martin", "Sophie", "Kevin", "Laura", "Ryan",
    ];

    public static readonly string[] Animals =
    [
        "dog", "cat", "bird", "fox", "rabbit", "bear", "mouse", "duck", "frog", "horse", "cow", "pig", "sheep", "goat",
        "owl", "lion", "tiger", "monkey", "turtle", "fish", "deer", "wolf", "squirrel", "hen", "puppy", "kitten",
        "elephant", "zebra", "snail", "bee",
    ];

    public static readonly string[] Adjectives =
    [
        "big", "small", "happy", "sad", "little", "kind", "brave", "shy", "funny", "old", "young", "quick", "slow",
        "quiet", "loud", "clever", "gentle", "busy", "sleepy", "hungry", "tired", "friendly", "curious", "proud",
        "silly", "lucky", "careful", "bright", "soft", "warm",
    ];

    public static readonly string[] Colors = ["red", "blue", "green", "yellow", "pink", "white", "black", "brown", "orange", "purple", "gray", "gold"];

    public static readonly string[] Objects =
    [
        "ball", "box", "hat", "book", "kite", "cake", "apple", "boat", "drum", "cup", "shoe", "key", "bag", "toy",
        "stick", "leaf", "flower", "stone", "shell", "map", "coat", "bell", "lamp", "chair", "basket", "rope",
        "candle", "blanket", "feather", "cookie", "pencil", "spoon", "ring", "star", "clock", "bucket",
    ];

    public static readonly string[] Places =
    [
        "the park", "the forest", "the garden", "the house", "the school", "the river", "the beach", "the farm",
        "the town", "the hill", "the lake", "the shop", "the field", "the barn", "the kitchen", "the yard",
        "the woods", "the cave", "the village", "the market",
    ];

    public static readonly string[] Foods = ["bread", "soup", "milk", "honey", "rice", "cheese", "carrots", "berries", "pie", "jam", "eggs", "corn"];

    public static readonly string[] Feelings = ["happy", "sad", "scared", "excited", "proud", "surprised", "calm", "glad", "angry", "worried"];

    public static readonly string[] Weather = ["sunny", "rainy", "windy", "cold", "warm", "cloudy", "snowy", "bright"];

    public static readonly string[] Actions =
    [
        "ran", "jumped", "danced", "sang", "played", "laughed", "walked", "smiled", "waved", "rested", "looked around",
        "climbed a tree", "sat down", "clapped",
    ];

    public static readonly string[] Numbers = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

    /// <summary>Every single word above: the items of lists to copy.</summary>
    public static readonly string[] ListItems =
        [.. Animals, .. Colors, .. Objects, .. Foods, .. Numbers, .. Adjectives.Take(12)];
}
