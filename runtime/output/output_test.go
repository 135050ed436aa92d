package output

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// specText is the example of SPEC.md's "Output (text)" section.
const specText = `Attaching 1 probe...


@a: 7

@c: 1
@c2[1]: 1
@h: 
(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[0]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[2, 4)                 0 |                                                    |
[4, 8)                 0 |                                                    |
[8, 16)                0 |                                                    |
[16, 32)               0 |                                                    |
[32, 64)               0 |                                                    |
[64, 128)              0 |                                                    |
[128, 256)             0 |                                                    |
[256, 512)             0 |                                                    |
[512, 1K)              0 |                                                    |
[1K, 2K)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

@l: 
(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[0, 10)                0 |                                                    |
[10, 20)               0 |                                                    |
[20, 30)               0 |                                                    |
[30, 40)               0 |                                                    |
[40, 50)               0 |                                                    |
[50, 60)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[60, 70)               0 |                                                    |
[70, 80)               0 |                                                    |
[80, 90)               0 |                                                    |
[90, 100)              0 |                                                    |
[100, ...)             1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|

@mn: 3
@mx: 9
@neg: -5
@s: 5
@st: count 2, average 15, total 30

@str[a]: x
@t[1, k]: (2, v)
`

func specMaps() []*Map {
	// deliberately not in name order
	return []*Map{
		{Name: "@t", Keyed: true, Entries: []Entry{{Key: key(Int(1), Str("k")), Value: Tuple(Int(2), Str("v"))}}},
		{Name: "@c", Agg: AggCount, Entries: []Entry{{Value: Uint(1)}}},
		{Name: "@c2", Agg: AggCount, Keyed: true, Entries: []Entry{{Key: ints(1), Value: Uint(1)}}},
		{Name: "@s", Agg: AggSum, Entries: []Entry{{Value: Int(5)}}},
		{Name: "@a", Agg: AggAvg, Entries: []Entry{{Count: 1, Total: 7}}},
		{Name: "@mn", Agg: AggMin, Entries: []Entry{{Value: Int(3)}}},
		{Name: "@mx", Agg: AggMax, Entries: []Entry{{Value: Int(9)}}},
		{Name: "@st", Agg: AggStats, Entries: []Entry{{Count: 2, Total: 30}}},
		{Name: "@h", Agg: AggHist, Entries: []Entry{{Buckets: hist(-1, 0, 1, 1024)}}},
		{Name: "@l", Agg: AggLhist, Lhist: LhistParams{0, 100, 10}, Entries: []Entry{{Buckets: lhist(0, 100, 10, -5, 55, 500)}}},
		{Name: "@str", Keyed: true, Entries: []Entry{{Key: key(Str("a")), Value: Str("x")}}},
		{Name: "@neg", Entries: []Entry{{Value: Int(-5)}}},
	}
}

func TestSpecExample(t *testing.T) {
	f := func(p Printer) {
		p.AttachedProbes(1)
		p.PrintMapsAtExit(specMaps())
	}
	require.Equal(t, specText, render(t, false, f))
	checkGolden(t, "spec", f)
}

func TestSort(t *testing.T) {
	checkGolden(t, "sort", func(p Printer) {
		p.AttachedProbes(1)
		p.PrintMapsAtExit([]*Map{
			{Name: "@", Entries: []Entry{{Value: Int(3)}}},
			{Name: "@a", Agg: AggAvg, Keyed: true, Entries: []Entry{
				{Key: ints(1), Count: 1, Total: 10}, {Key: ints(2), Count: 2, Total: -7}, {Key: ints(3), Count: 1, Total: 5}}},
			{Name: "@c", Agg: AggCount, Keyed: true, Entries: []Entry{
				{Key: ints(1), Value: Uint(2)}, {Key: ints(2), Value: Uint(3)}, {Key: ints(3), Value: Uint(1)}}},
			{Name: "@e", Keyed: true, Entries: []Entry{{Key: ints(1, 2, 3), Value: Int(7)}}},
			{Name: "@i", Keyed: true, Entries: []Entry{
				{Key: ints(-1), Value: Int(5)}, {Key: ints(1), Value: Int(-3)}, {Key: ints(2), Value: Int(7)}}},
			{Name: "@k", Keyed: true, Entries: []Entry{
				{Key: key(Str("b"), Int(2)), Value: Str("v1")}, {Key: key(Str("a"), Int(3)), Value: Str("v2")},
				{Key: key(Str("b"), Int(1)), Value: Str("v3")}, {Key: key(Str("a"), Int(-1)), Value: Str("v4")}}},
			{Name: "@mn", Agg: AggMin, Keyed: true, Entries: []Entry{
				{Key: ints(1), Value: Int(-5)}, {Key: ints(2), Value: Int(7)}, {Key: ints(3), Value: Int(-100)}}},
			{Name: "@mx", Agg: AggMax, Keyed: true, Entries: []Entry{
				{Key: ints(1), Value: Int(50)}, {Key: ints(3), Value: Int(1)}}},
			{Name: "@s", Agg: AggSum, Keyed: true, Entries: []Entry{
				{Key: key(Str("a")), Value: Int(10)}, {Key: key(Str("b")), Value: Int(-5)}, {Key: key(Str("c")), Value: Int(-20)}}},
			{Name: "@st", Agg: AggStats, Keyed: true, Entries: []Entry{
				{Key: ints(1), Count: 1, Total: 10}, {Key: ints(2), Count: 2, Total: -7}, {Key: ints(3), Count: 1, Total: 5}}},
			{Name: "@str", Keyed: true, Entries: []Entry{
				{Key: ints(2), Value: Str("b")}, {Key: ints(-1), Value: Str("x")}, {Key: ints(1), Value: Str("a")}}},
			{Name: "@u", Keyed: true, Entries: []Entry{
				{Key: key(Uint(math.MaxUint64)), Value: Uint(math.MaxUint64)}, {Key: key(Uint(5)), Value: Uint(1)}}},
			{Name: "@y", Keyed: true, Entries: []Entry{
				{Key: key(Int(-1), Uint(math.MaxUint32)), Value: Int(-1)}}},
		})
	})
}

func TestEmptyMapsAtExit(t *testing.T) {
	checkGolden(t, "empty", func(p Printer) {
		p.AttachedProbes(1)
		p.PrintMapsAtExit([]*Map{
			{Name: "@x", Keyed: true},
			{Name: "@y", Agg: AggCount, Entries: []Entry{{Value: Uint(0)}}},
			{Name: "@z", Agg: AggCount, Keyed: true},
			{Name: "@h", Agg: AggHist},
			{Name: "@a", Agg: AggAvg},
			{Name: "@w", Keyed: true, Entries: []Entry{{Key: ints(1), Value: Int(0)}}},
			{Name: "@v", Agg: AggCount, Entries: []Entry{{Value: Uint(0)}}},
			{Name: "@hz", Agg: AggHist, Entries: []Entry{{Buckets: hist()}}},
			{Name: "@az", Agg: AggAvg, Keyed: true, Entries: []Entry{{Key: ints(1)}}},
			{Name: "@st", Agg: AggStats},
			{Name: "@l", Agg: AggLhist, Keyed: true, Lhist: LhistParams{0, 10, 1}, Entries: []Entry{{Key: ints(1), Buckets: lhist(0, 10, 1)}}},
		})
	})
}

func TestPrintTopDiv(t *testing.T) {
	c := &Map{Name: "@c", Agg: AggSum, Keyed: true, Entries: []Entry{
		{Key: ints(1), Value: Int(100)}, {Key: ints(2), Value: Int(250)}, {Key: ints(3), Value: Int(-70)}, {Key: ints(4), Value: Int(30)}}}
	a := &Map{Name: "@a", Agg: AggAvg, Keyed: true, Entries: []Entry{
		{Key: ints(1), Count: 1, Total: 100}, {Key: ints(2), Count: 1, Total: 250}, {Key: ints(3), Count: 1, Total: -70}}}
	st := &Map{Name: "@st", Agg: AggStats, Keyed: true, Entries: a.Entries}
	h := &Map{Name: "@h", Agg: AggHist, Keyed: true, Entries: []Entry{
		{Key: ints(1), Buckets: hist(5)}, {Key: ints(2), Buckets: hist(5, 100)}, {Key: ints(3), Buckets: hist(1, 1, 1)}}}
	l := &Map{Name: "@l", Agg: AggLhist, Keyed: true, Lhist: LhistParams{0, 10, 1}, Entries: []Entry{
		{Key: ints(1), Buckets: lhist(0, 10, 1, 5)}, {Key: ints(2), Buckets: lhist(0, 10, 1, 5, 7, 7)}}}
	s := &Map{Name: "@s", Keyed: true, Entries: []Entry{
		{Key: ints(1), Value: Str("a")}, {Key: ints(2), Value: Str("b")}, {Key: ints(3), Value: Str("c")}}}
	mn := &Map{Name: "@mn", Agg: AggMin, Keyed: true, Entries: []Entry{
		{Key: ints(1), Value: Int(-7)}, {Key: ints(2), Value: Int(9)}}}
	n := &Map{Name: "@n", Agg: AggCount, Keyed: true, Entries: []Entry{
		{Key: ints(1), Value: Uint(1)}, {Key: ints(2), Value: Uint(2)}}}
	checkGolden(t, "topdiv", func(p Printer) {
		p.AttachedProbes(1)
		p.PrintMap(c, 2, 10)
		p.PrintMap(a, 2, 10)
		p.PrintMap(st, 2, 10)
		p.PrintMap(h, 2, 2)
		p.PrintMap(l, 1, 2)
		p.PrintMap(s, 2, 10)
		p.PrintMap(mn, 1, 2)
		p.PrintMap(c, 0, 3)
		p.PrintMap(c, 10, 0)
		p.PrintMap(n, 1, 2)
		p.PrintMap(h, 0, 0)
		p.PrintMap(st, 0, 0)
		var cleared []*Map
		for _, m := range []*Map{c, a, st, h, l, s, mn, n} {
			e := *m
			e.Entries = nil
			cleared = append(cleared, &e)
		}
		p.PrintMapsAtExit(cleared)
	})
}

func TestHist(t *testing.T) {
	checkGolden(t, "hist", func(p Printer) {
		p.AttachedProbes(1)
		p.PrintMapsAtExit([]*Map{
			{Name: "@a", Agg: AggHist, Entries: []Entry{{Buckets: hist(-100)}}},
			{Name: "@b", Agg: AggHist, Entries: []Entry{{Buckets: hist(0)}}},
			{Name: "@c", Agg: AggHist, Entries: []Entry{{Buckets: hist(1)}}},
			{Name: "@d", Agg: AggHist, Entries: []Entry{{Buckets: hist(2)}}},
			{Name: "@e", Agg: AggHist, Entries: []Entry{{Buckets: hist(1<<40, 1<<50+5)}}},
			{Name: "@f", Agg: AggHist, Entries: []Entry{{Buckets: hist(math.MaxInt64)}}},
			{Name: "@g", Agg: AggHist, Entries: []Entry{{Buckets: hist(1<<20, 1<<30, 1<<30)}}},
			{Name: "@i", Agg: AggHist, Entries: []Entry{{Buckets: hist(3, 3, 3, 5, 5, 100, -1, -2, -3, -4, -5, -6, -7)}}},
			{Name: "@j", Agg: AggHist, Keyed: true, Entries: []Entry{
				{Key: ints(1), Buckets: hist(2000)}, {Key: ints(2), Buckets: hist(40000, 40000)}, {Key: ints(3), Buckets: hist(3)}}},
		})
	})
}

func TestLhist(t *testing.T) {
	lh := func(name string, lo, hi, step int64, values ...int64) *Map {
		return &Map{Name: name, Agg: AggLhist, Lhist: LhistParams{lo, hi, step}, Entries: []Entry{{Buckets: lhist(lo, hi, step, values...)}}}
	}
	checkGolden(t, "lhist", func(p Printer) {
		p.AttachedProbes(1)
		p.PrintMapsAtExit([]*Map{
			lh("@a", 0, 4096, 1024, 1500, 5000),
			lh("@b", 0, 4194304, 1048576, 3000000, -1),
			lh("@d", 1024, 3072, 512, 2048),
			lh("@e", 10, 20, 3, 15, 100, 17),
			lh("@g", 0, 10, 1, 5),
			lh("@h", 0, 10, 1, 10),
			lh("@i", 0, 10, 1, 9),
			{Name: "@k", Agg: AggLhist, Keyed: true, Lhist: LhistParams{0, 5, 1}, Entries: []Entry{
				{Key: ints(1), Buckets: lhist(0, 5, 1, 3)}, {Key: ints(2), Buckets: lhist(0, 5, 1, 1, 2)}}},
			lh("@m", 0, 100, 1, 7, 7, 7, 8, 8, 10, 11, 11, 11, 11, 11, 11, 11),
		})
	})
}

func TestValues(t *testing.T) {
	checkGolden(t, "values", func(p Printer) {
		p.AttachedProbes(1)
		p.PrintValue(Tuple(Int(1), Tuple(Int(2), Str("a"))))
		p.PrintValue(Int(-5))
		p.PrintValue(Uint(math.MaxUint32))
		p.PrintValue(Str("x\n"))
		p.PrintValue(Uint(math.MaxUint64))
		p.PrintValue(Int(-1))
		p.PrintValue(Buf([]byte("a\x02")))
		p.PrintValue(Tuple(Int(1), Str("a"), Uint(math.MaxUint64), Int(-2)))
		p.PrintMapsAtExit([]*Map{
			{Name: "@b", Keyed: true, Entries: []Entry{{Key: key(Str("z")), Value: Tuple(Int(3), Tuple(Int(4), Str("w")), Int(-1))}}},
			{Name: "@d", Entries: []Entry{{Value: Tuple(Int(1), Int(-2), Str("s"))}}},
			{Name: "@e", Keyed: true, Entries: []Entry{{Key: ints(1, 2, 3), Value: Int(7)}}},
			{Name: "@t", Entries: []Entry{{Value: Tuple(Int(1), Uint(16))}}},
			{Name: "@p", Entries: []Entry{{Value: Uint(4096)}}},
			{Name: "@q", Keyed: true, Entries: []Entry{{Key: key(Ptr(16)), Value: Int(1)}}},
			{Name: "@c", Entries: []Entry{{Value: Int(-3)}}},
			{Name: "@u8", Entries: []Entry{{Value: Uint(200)}}},
			{Name: "@bf", Entries: []Entry{{Value: Buf([]byte("ab\x01c\"\\\xff"))}}},
			{Name: "@pr", Entries: []Entry{{Value: Str("BEGIN")}}},
			{Name: "@tm", Entries: []Entry{{Value: Raw("T")}}},
		})
	})
}

func TestRawKeyOrderTies(t *testing.T) {
	checkGolden(t, "ties", func(p Printer) {
		one := hist(1)
		p.AttachedProbes(1)
		p.PrintMapsAtExit([]*Map{
			{Name: "@h", Agg: AggHist, Keyed: true, Entries: []Entry{
				{Key: ints(1), Buckets: one}, {Key: ints(256), Buckets: one}, {Key: ints(2), Buckets: one},
				{Key: ints(-1), Buckets: one}, {Key: ints(512), Buckets: one}}},
			{Name: "@a", Agg: AggAvg, Keyed: true, Entries: []Entry{
				{Key: ints(1), Count: 1, Total: 1}, {Key: ints(256), Count: 1, Total: 1},
				{Key: ints(2), Count: 1, Total: 1}, {Key: ints(-1), Count: 1, Total: 1}}},
			{Name: "@s", Agg: AggStats, Keyed: true, Entries: []Entry{
				{Key: key(Str("b")), Count: 1, Total: 1}, {Key: key(Str("a")), Count: 1, Total: 1},
				{Key: key(Str("ab")), Count: 1, Total: 1}, {Key: key(Str("")), Count: 1, Total: 1}}},
			{Name: "@m", Agg: AggAvg, Keyed: true, Entries: []Entry{
				{Key: key(Str("b"), Int(1)), Count: 1, Total: 2}, {Key: key(Str("a"), Int(2)), Count: 1, Total: 2},
				{Key: key(Str("a"), Int(1)), Count: 1, Total: 2}}},
		})
	})
}

func TestEscape(t *testing.T) {
	checkGolden(t, "escape", func(p Printer) {
		p.AttachedProbes(1)
		p.Printf("é\t\x01\x7f\"\\/\n")
		s, err := Sprintf("%s|%d\n", []Value{Str("q\x02\""), Int(5)})
		require.NoError(t, err)
		p.Printf(s)
		p.PrintMapsAtExit([]*Map{
			{Name: "@k", Keyed: true, Entries: []Entry{{Key: key(Str("q\"\\\n")), Value: Str("v\"\t\r")}}},
			{Name: "@u", Keyed: true, Entries: []Entry{{Key: key(Str("é")), Value: Str("\x01\x1f\x7f")}}},
			{Name: "@n", Keyed: true, Entries: []Entry{{Key: key(Str("a,b")), Value: Int(1)}}},
		})
	})
}

func TestMessages(t *testing.T) {
	checkGolden(t, "messages", func(p Printer) {
		p.AttachedProbes(1)
		p.Time("T|")
		p.Time("%\n")
		p.Cat("Linux\n")
		p.Printf("x\n")
		p.Cat("Linux\n")
		p.PrintMapsAtExit(nil)
	})
}

// Join and system() need a traced command and --unsafe; expected output
// from
//
//	bpftrace [-f json] --unsafe -e 'tracepoint:syscalls:sys_enter_execve { join(args->argv); join(args->argv, ","); }
//	  BEGIN { system("echo sys"); }' -c '/bin/sh /tmp/cmd.sh'
//
// with cmd.sh running `/bin/echo a "b c" "" d`: join stops at the empty
// argument.
func TestJoinSystem(t *testing.T) {
	f := func(p Printer) {
		p.AttachedProbes(2)
		p.System("sys\n")
		argv := []string{"/bin/echo", "a", "b c", "", "d"}
		p.Join(JoinArgs(argv, " "))
		p.Join(JoinArgs(argv, ","))
		p.PrintMapsAtExit(nil)
	}
	require.Equal(t, "Attaching 2 probes...\nsys\n/bin/echo a b c\n/bin/echo,a,b c\n\n\n", render(t, false, f))
	require.Equal(t, `{"type": "attached_probes", "data": {"probes": 2}}
{"type": "syscall", "data": "sys\n"}
{"type": "join", "data": "/bin/echo a b c"}
{"type": "join", "data": "/bin/echo,a,b c"}


`, render(t, true, f))
}

// Lost events could not be provoked; the expected text follows bpftrace
// 0.17's TextOutput::lost_events and JsonOutput::lost_events.
func TestLostAndProbes(t *testing.T) {
	f := func(p Printer) {
		p.AttachedProbes(0)
		p.AttachedProbes(1)
		p.AttachedProbes(3)
		p.Lost(7)
	}
	require.Equal(t, "Attaching 0 probes...\nAttaching 1 probe...\nAttaching 3 probes...\nLost 7 events\n", render(t, false, f))
	require.Equal(t, `{"type": "attached_probes", "data": {"probes": 0}}
{"type": "attached_probes", "data": {"probes": 1}}
{"type": "attached_probes", "data": {"probes": 3}}
{"type": "lost_events", "data": {"events": 7}}
`, render(t, true, f))
}

// Entries printed by `bpftrace testdata/stacks.bt` (stacks.txt) and by
// `bpftrace -f json testdata/stacks.bt` (stacks.json, another run).
func TestStacks(t *testing.T) {
	text := render(t, false, func(p Printer) {
		p.AttachedProbes(2)
		p.PrintMapsAtExit([]*Map{
			{Name: "@", Agg: AggCount, Keyed: true, Entries: []Entry{
				{Key: key(Stack("__get_user_8+20", "__rseq_handle_notify_resume+124")), Value: Uint(1)},
				{Key: key(Stack("pvm_safe_halt_hc+21", "default_idle+5")), Value: Uint(94)},
				{Key: key(Stack()), Value: Uint(4)},
			}},
			{Name: "@k", Keyed: true, Entries: []Entry{
				{Key: ints(8), Value: Sym("pvm_safe_halt_hc")},
				{Key: ints(7), Value: Sym("pvm_safe_halt_hc")},
			}},
			{Name: "@s", Agg: AggCount, Keyed: true, Entries: []Entry{
				{Key: key(Stack("pvm_safe_halt_hc+21"), Int(7)), Value: Uint(94)},
				{Key: key(Stack("__get_user_8+20"), Int(7)), Value: Uint(1)},
				{Key: key(Stack(), Int(7)), Value: Uint(4)},
			}},
			{Name: "@t", Entries: []Entry{{Value: Tuple(Int(1), Stack("pvm_safe_halt_hc+21"))}}},
			{Name: "@v", Keyed: true, Entries: []Entry{
				{Key: ints(7), Value: Stack("pvm_safe_halt_hc+21", "default_idle+5")},
				{Key: ints(8), Value: Value{Kind: KindStack, StackPerf: true}},
			}},
			{Name: "@w", Agg: AggCount, Keyed: true, Entries: []Entry{
				{Key: key(Stack()), Value: Uint(94)},
				{Key: key(Stack("0x7fca974df353")), Value: Uint(1)},
				{Key: key(Stack("0x7fd7a6848180")), Value: Uint(1)},
				{Key: key(Stack("epoll_wait+19")), Value: Uint(1)},
				{Key: key(Stack("runtime.mallocgcTiny+214")), Value: Uint(1)},
				{Key: key(Stack("github.com/gotrace/gotrace/lang.Check+0")), Value: Uint(1)},
			}},
		})
	})
	require.Equal(t, golden(t, "stacks.txt"), text)

	json := render(t, true, func(p Printer) {
		p.AttachedProbes(2)
		p.PrintMapsAtExit([]*Map{
			{Name: "@", Agg: AggCount, Keyed: true, Entries: []Entry{
				{Key: key(Stack("pvm_safe_halt_hc+21", "default_idle+5")), Value: Uint(98)},
				{Key: key(Stack("pvm_irq_enable+25", "__raw_callee_save_pvm_irq_enable+17")), Value: Uint(1)},
			}},
			{Name: "@k", Keyed: true, Entries: []Entry{
				{Key: ints(7), Value: Sym("pvm_safe_halt_hc")},
				{Key: ints(8), Value: Sym("pvm_safe_halt_hc")},
			}},
			{Name: "@s", Agg: AggCount, Keyed: true, Entries: []Entry{
				{Key: key(Stack("pvm_irq_enable+25"), Int(7)), Value: Uint(1)},
				{Key: key(Stack("pvm_safe_halt_hc+21"), Int(7)), Value: Uint(98)},
			}},
			{Name: "@t", Entries: []Entry{{Value: Tuple(Int(1), Stack("pvm_safe_halt_hc+21"))}}},
			{Name: "@v", Keyed: true, Entries: []Entry{
				{Key: ints(7), Value: Stack("pvm_safe_halt_hc+21", "default_idle+5")},
				{Key: ints(8), Value: Stack()},
			}},
			{Name: "@w", Agg: AggCount, Keyed: true, Entries: []Entry{
				{Key: key(Stack()), Value: Uint(98)},
				{Key: key(Stack("0x7fddb40a684f")), Value: Uint(1)},
			}},
		})
	})
	require.Equal(t, golden(t, "stacks.json"), json)
}

// testdata/perfstack.bt: kstack(perf) in printf, as a key and as a value.
func TestPerfStack(t *testing.T) {
	st := Value{Kind: KindStack, StackPerf: true, Frames: []string{
		"ffffffff8225fd65 pvm_safe_halt_hc+21", "ffffffff82261975 default_idle+5"}}
	checkGolden(t, "perfstack", func(p Printer) {
		p.AttachedProbes(1)
		s, err := Sprintf("<%s>\n", []Value{st})
		require.NoError(t, err)
		p.Printf(s)
		p.PrintMapsAtExit([]*Map{
			{Name: "@v", Entries: []Entry{{Value: st}}},
			{Name: "@", Agg: AggCount, Keyed: true, Entries: []Entry{{Key: key(st), Value: Uint(1)}}},
		})
	})
}

func TestPrintEmptyMapMidRun(t *testing.T) {
	// bpftrace -e 'BEGIN { @x[1] = 1; delete(@x[1]); @h = hist(1); clear(@h); @a = avg(1); clear(@a);
	//   printf("A\n"); print(@x); printf("B\n"); print(@h); printf("C\n"); print(@a); printf("D\n");
	//   clear(@x); clear(@h); clear(@a); exit(); }'
	x := &Map{Name: "@x", Keyed: true}
	h := &Map{Name: "@h", Agg: AggHist}
	a := &Map{Name: "@a", Agg: AggAvg}
	f := func(p Printer) {
		p.AttachedProbes(1)
		p.Printf("A\n")
		p.PrintMap(x, 0, 0)
		p.Printf("B\n")
		p.PrintMap(h, 0, 0)
		p.Printf("C\n")
		p.PrintMap(a, 0, 0)
		p.Printf("D\n")
		p.PrintMapsAtExit([]*Map{x, h, a})
	}
	require.Equal(t, "Attaching 1 probe...\nA\n\nB\n\nC\n\n\nD\n\n\n\n\n\n\n", render(t, false, f))
	require.Equal(t, `{"type": "attached_probes", "data": {"probes": 1}}
{"type": "printf", "data": "A\n"}
{"type": "printf", "data": "B\n"}
{"type": "printf", "data": "C\n"}
{"type": "printf", "data": "D\n"}


`, render(t, true, f))
}

// testdata/bars.bt: bar lengths are int(float32(count)/float32(max)*52).
func TestHistBars(t *testing.T) {
	var a []int64
	for i := int64(1); i <= 60; i++ {
		for j := int64(0); j < i; j++ {
			a = append(a, i)
		}
	}
	var b []int64
	for v, n := range []int{100, 33, 67, 99, 1} {
		for k := 0; k < n; k++ {
			b = append(b, int64(v))
		}
	}
	checkGolden(t, "bars", func(p Printer) {
		p.AttachedProbes(1)
		p.PrintMapsAtExit([]*Map{
			{Name: "@a", Agg: AggLhist, Lhist: LhistParams{0, 64, 1}, Entries: []Entry{{Buckets: lhist(0, 64, 1, a...)}}},
			{Name: "@b", Agg: AggLhist, Lhist: LhistParams{0, 10, 1}, Entries: []Entry{{Buckets: lhist(0, 10, 1, b...)}}},
		})
	})
}
