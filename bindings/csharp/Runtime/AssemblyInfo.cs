using System.Runtime.CompilerServices;

// The Mono test suite (Tests~/Mono) checks internals: the P/Invoke layer against the header and
// the GCHandle counters.
[assembly: InternalsVisibleTo("Xo.Tracker.Tests")]
