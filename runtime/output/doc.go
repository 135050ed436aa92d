// Package output formats everything gotrace prints, byte for byte like
// bpftrace 0.17, in its two output formats: text (the default) and JSON
// (newline-delimited, `-f json`).
//
// The package works on values the runtime has already read and decoded
// from BPF maps and ring-buffer events; it never looks at raw bytes and
// imports nothing from the rest of gotrace.
//
// # Values
//
// A [Value] is one decoded bpftrace value:
//
//	KindInt    integers and pointers used as values (Int holds the 64-bit
//	           pattern, sign- or zero-extended from the source type;
//	           Signed says how to print it)
//	KindStr    strings and everything bpftrace quotes in JSON: str(), comm,
//	           username, probe, cgroup paths, strerror ... (Str, cut at the
//	           first NUL)
//	KindSym    ksym(), usym(), ntop() results: printed like KindStr, but a
//	           map whose values are symbols prints its entries without a
//	           separating newline (a bpftrace 0.17 quirk)
//	KindBuf    buf(): raw bytes in Str, printed with non-printable bytes as \xNN
//	KindStack  kstack/ustack: Frames are the symbolized frames, innermost
//	           first ("do_sys_open+12", or "0x7f..." when unresolved);
//	           StackPerf selects the perf stack mode, where each Frame is
//	           "ffffffff8225fd65 pvm_safe_halt_hc+21" and is printed after a tab
//	KindTuple  tuples (Elems)
//	KindRaw    preformatted text that JSON leaves unquoted, like bpftrace:
//	           strftime() results, macaddr(); also pointer-typed map keys
//	           (use [Ptr], which renders "0x10")
//	KindNone   nothing (prints as an empty string)
//
// Use the constructors [Int], [Uint], [Str], [Sym], [Buf], [Stack],
// [Tuple], [Ptr] and [Raw].
//
// # Maps
//
// A [Map] holds one BPF map's decoded content, already merged across CPUs:
// plain value maps use [Entry].Value, count/sum/min/max also use Value
// (KindInt; count is unsigned), avg and stats use Count and Total, hist
// and lhist use Buckets.
//
// Hist buckets are laid out as the BPF side produces them: index 0 counts
// negative values, 1 counts zero, index k >= 2 counts [2^(k-2), 2^(k-1)).
// Lhist buckets: index 0 is (..., Min), index i in 1..n is
// [Min+(i-1)*Step, Min+i*Step), index n+1 is [Max, ...), n = (Max-Min)/Step.
// Trailing zero buckets are fine.
//
// Entries may come in any order: the printers sort them like bpftrace
// (count/sum/min/max/integer maps ascending by value; avg and stats by
// average; hist and lhist by the sum of their buckets; other maps by key).
//
// # Printers
//
// [NewText] and [NewJSON] return a [Printer]. Every call writes whole
// lines in a single Write; a Printer is safe for concurrent use. Flush
// reports the first write error.
//
//	AttachedProbes(n)       "Attaching 3 probes..."
//	Printf(text)            printf() output (format it with Sprintf)
//	Time/Cat/System(text)   time(), cat(), system() output, printed as is
//	Join(text)              join() output (see JoinArgs); text adds a newline
//	PrintValue(v)           print(value)
//	PrintMap(m, top, div)   print(@m[, top[, div]]); top <= 0 prints all,
//	                        div <= 1 does not divide
//	PrintMapsAtExit(maps)   the end-of-run dump: two newlines, then every
//	                        map sorted by name
//	Lost(n)                 "Lost N events"
//
// The runtime should hand PrintMapsAtExit every user map, empty ones too:
// bpftrace 0.17 prints an empty line for an empty map in text mode (two
// for avg/stats maps) and skips it in JSON mode.
//
// # printf
//
// [Sprintf] implements bpftrace 0.17's printf: the format is cut into
// pieces at the specifiers bpftrace recognizes (%[-][width][.prec] then
// one of s, c, r, rx, or [hh|h|l|ll|j|z|t] with d u o x X p; no %i, no
// '+', ' ', '#' or '*'), and each piece, together with the text before
// it, goes through C printf semantics with the argument as a 64-bit
// register. So without a length modifier %d/%u/%x/%o see the low 32 bits,
// %hd the low 16, %hhd the low 8, and %c the low byte; %p prints (nil)
// for zero. "%%" becomes "%" only before a specifier: after the last
// specifier the text is copied verbatim ("100%%" prints "100%%").
// [ValidateFormat] reproduces the checks and messages of the semantic
// analyser ("printf: Too many arguments for format string (2 supplied,
// 1 expected)"); pass KindInt for pointers.
//
// # bpftrace 0.17 behaviours reproduced here
//
//   - The end-of-run dump starts with "\n\n" in JSON mode too.
//   - Text: a plain map ends with "\n", avg and stats maps with "\n\n",
//     hist/lhist entries are "@h[k]: \n" + rows, separated by an empty
//     line, and the map ends with one more "\n"; empty maps print just
//     those newlines. JSON skips empty maps.
//   - print(@m, top, div): stats maps ignore both top and div; lhist maps
//     ignore div; hist maps divide the counts but draw the bars from the
//     undivided ones; avg divides the average.
//   - Integer map keys print as signed 64-bit numbers, whatever their
//     type ((uint64)-1 shows "-1"); values follow Value.Signed.
//   - Ordering: count/sum/min/max/integer maps by value (signed or
//     unsigned), ties by key here (bpftrace leaves them in hash order);
//     other plain maps by key (integers as unsigned, so -1 sorts last;
//     strings bytewise; stacks and symbols keep the input order); avg and
//     stats by average, hist and lhist by total count, ties in raw key
//     byte order (little-endian integers: 256 before 1 before 2).
//   - Stacks print as "\n" + one indented line per frame (4 spaces in
//     keys, 8 elsewhere, a tab in perf mode); an unreadable stack prints
//     nothing ("@[]: 4").
//   - Hist labels use K, M, G, T; the JSON bounds of buckets past 2^30
//     are computed in 32-bit int, so [2G, 4G) is {"min": -2147483648,
//     "max": 0}. Lhist labels use K or M only when the bound is a
//     multiple of 1024 or 1048576 ("[2K, 2560)").
//   - JSON escapes bytes >= 0x80 as \uffffffXX (a signed char printed in
//     hex) and leaves strftime() results unquoted (KindRaw).
package output
