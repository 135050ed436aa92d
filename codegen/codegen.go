// Package codegen compiles a checked gotrace program into eBPF.
//
// Each attach point of each probe becomes one BPF program, emitted as
// github.com/cilium/ebpf/asm instructions. Alongside the programs, codegen
// describes everything user space needs to print what the programs produce:
// the maps (with key and value types), the printf formats and the layout of
// every ring-buffer event. The runtime package loads and attaches what this
// package builds; codegen itself never touches the kernel.
//
// Register conventions inside a program:
//
//	R1-R5  helper arguments, clobbered by every call
//	R0     helper results, clobbered by every call
//	R6     the probe context (saved from R1 at entry when the program uses it)
//	R7-R9  expression temporaries that survive helper calls
//	R10    frame pointer; scratch variables and buffers live below it
package codegen

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/gotrace/gotrace/lang"
	"golang.org/x/sys/unix"
)

// Program is a compiled script: BPF programs plus what the runtime needs to
// load them and print their output.
type Program struct {
	Info   *lang.Info
	Probes []*ProbeProgram
	Maps   []*MapDef // user maps, in name order
	// Printfs are indexed by the event index of EventPrintf records.
	Printfs []*PrintfDef
	// Values are the types of print(value) calls, by event index.
	Values []*lang.Type
	// TimeFormats are the strftime formats of time() and strftime().
	TimeFormats []string
	// JoinSeps are the separators of join() calls.
	JoinSeps []string
	// StrLen is the size of one join() string.
	StrLen int
	// HelperSites are the checked helper calls (with Options.HelperErrors).
	HelperSites []HelperSite
	// Spec holds every map and program, ready for ebpf.NewCollection.
	Spec *ebpf.CollectionSpec

	events eventBudget // what the programs send through the ring buffer
}

// eventBudget is what a program's events need of the ring buffer.
type eventBudget struct {
	fromProbes bool // a probe other than BEGIN and END sends events (exit() aside)
	unbounded  bool // BEGIN or END sends events in a loop
	bytes      int  // ring buffer bytes BEGIN and END can fill, at most
}

// smallRingbuf is the ring buffer of scripts whose only events come from
// BEGIN and END, a bounded number (and exit() from anywhere): the kernel
// allocates and clears the default megabyte, over a millisecond of
// start-up here, for events that would use a few hundred bytes of it.
const smallRingbuf = 64 << 10

// ringbufSize is the ring buffer the events need, at most def.
func (b eventBudget) ringbufSize(def uint32) uint32 {
	if b.fromProbes || b.unbounded || b.bytes > smallRingbuf/2 {
		return def
	}
	return min(def, smallRingbuf)
}

// ProbeProgram is the BPF program for one attach point.
type ProbeProgram struct {
	Attach *lang.AttachPoint
	Name   string // the program's name in Spec.Programs
	Spec   *ebpf.ProgramSpec
}

// MapDef describes a user map (@name).
type MapDef struct {
	Name   string     // "@x"
	Kernel string     // name in Spec.Maps
	Key    *lang.Type // nil: no keys; the BPF key is then a u64 zero
	Value  *lang.Type // the language type: count(), int, string...
	PerCPU bool
	// Bucketed maps (hist, lhist) append a u64 bucket index to the key.
	Bucketed bool
	// KeySize and ValueSize are the BPF sizes.
	KeySize, ValueSize int
}

// PrintfDef is a printf call site: its format and the layout of its arguments
// in the event record (after the 8-byte header).
type PrintfDef struct {
	Format string
	Args   *lang.Type // a tuple
	Span   lang.Span
}

// Event records start with an 8-byte header: a little-endian uint32
// EventKind and a uint32 index (which printf, which map...).
type EventKind uint32

const (
	EventPrintf EventKind = 1 + iota
	EventExit
	EventPrintMap   // index: map; then top and div as u64
	EventClearMap   // index: map
	EventZeroMap    // index: map
	EventPrintValue // index: Values entry; then the value
	EventTime       // index: TimeFormats entry
	EventJoin       // index: JoinSeps entry; then up to JoinArgs strings
	EventCat        // index: Printfs entry (the path format); then its arguments
	EventSystem     // index: Printfs entry (the command format); then its arguments
	EventHelperErr  // index: HelperSites entry; then the helper's negative result
)

// HelperSite is a helper call whose failures -k reports.
type HelperSite struct {
	Helper string // e.g. "probe_read_user_str"
	Src    *lang.Source
	Span   lang.Span
}

// JoinArgs is how many argv strings join() reads.
const JoinArgs = 16

// Names of the internal maps.
const (
	RingbufMap = "events"
	StackMap   = "stacks" // stack traces for kstack/ustack, created when used
	// CountersMap is one array value of u64 counters that programs add to
	// through a direct pointer (3 instructions, no lookup): CounterLost
	// counts events the ring buffer refused, CounterExit exit() calls, and
	// CounterDropped+i the updates of Maps[i] refused because the map was
	// full. All are rare, so sharing one cache line costs nothing on the
	// hot path, and user space can poll them.
	CountersMap = "counters"
)

// Slots of the counters map.
const (
	CounterLost    = 0
	CounterExit    = 1
	CounterDropped = 2
)

// Options tune code generation.
type Options struct {
	RingbufSize uint32 // bytes, a power of two multiple of the page size
	MapKeys     uint32 // max entries of user maps (BPFTRACE_MAP_KEYS)
	// HelperErrors makes every memory read report its failures to user
	// space (bpftrace's -k): it costs a few instructions per read.
	HelperErrors bool
}

// DefaultMapKeys is how many keys a map holds when Options.MapKeys is 0
// (bpftrace's BPFTRACE_MAP_KEYS_MAX default).
const DefaultMapKeys = 4096

// CompileSource runs the whole front end on a script: parse, check with
// env (its Target is the machine compiled for), and compile.
func CompileSource(src *lang.Source, env *lang.Env, opts ...Options) (*Program, error) {
	prog, err := lang.Parse(src)
	if err != nil {
		return nil, err
	}
	info, err := lang.Check(prog, src, env)
	if err != nil {
		return nil, err
	}
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	return Compile(info, o)
}

// Compile generates BPF for every attach point of a checked program.
func Compile(info *lang.Info, opts Options) (*Program, error) {
	sizeRingbuf := opts.RingbufSize == 0 // by the events, at most 1 MiB
	if sizeRingbuf {
		opts.RingbufSize = 1 << 20
	}
	if opts.MapKeys == 0 {
		opts.MapKeys = DefaultMapKeys
	}
	p := &Program{
		Info: info,
		Spec: &ebpf.CollectionSpec{Maps: map[string]*ebpf.MapSpec{}, Programs: map[string]*ebpf.ProgramSpec{}},
	}
	p.Spec.Maps[RingbufMap] = &ebpf.MapSpec{Name: RingbufMap, Type: ebpf.RingBuf, MaxEntries: opts.RingbufSize}

	p.Spec.Maps[CountersMap] = &ebpf.MapSpec{Name: CountersMap, Type: ebpf.Array, KeySize: 4,
		ValueSize: uint32(8 * (CounterDropped + len(info.Maps))), MaxEntries: 1}
	maps := map[string]*MapDef{}
	for _, name := range info.MapNames() {
		md := newMapDef(info.Maps[name], opts.MapKeys)
		maps[name] = md
		p.Maps = append(p.Maps, md)
		p.Spec.Maps[md.Kernel] = md.spec(opts.MapKeys)
	}

	for pi, probe := range info.Probes {
		for ai, ap := range probe.Attach {
			name := programName(ap, pi, ai)
			g := &gen{prog: p, info: info, probe: probe, ap: ap, maps: maps, src: info.Src, opts: opts}
			insns, err := g.compile()
			if err != nil {
				return nil, err
			}
			spec := &ebpf.ProgramSpec{
				Name:         name,
				Type:         programType(ap),
				Instructions: insns,
				License:      "GPL",
			}
			switch ap.Kind {
			case "fentry":
				spec.AttachType, spec.AttachTo = ebpf.AttachTraceFEntry, ap.Func
			case "fexit":
				spec.AttachType, spec.AttachTo = ebpf.AttachTraceFExit, ap.Func
			}
			p.Spec.Programs[name] = spec
			p.Probes = append(p.Probes, &ProbeProgram{Attach: ap, Name: name, Spec: spec})
		}
	}
	if sizeRingbuf {
		p.Spec.Maps[RingbufMap].MaxEntries = p.events.ringbufSize(opts.RingbufSize)
	}
	preallocPerfEventMaps(p.Spec)
	return p, nil
}

// preallocPerfEventMaps preallocates the hash maps perf_event programs
// (profile, interval, software, hardware) use: kernels before 6.1 refuse
// them any other ("perf_event programs can only use preallocated hash
// map", which failed profile:hz:99 { @[kstack] = count(); } on 5.10), as
// they can run in NMI context. bpftrace preallocates every map.
func preallocPerfEventMaps(spec *ebpf.CollectionSpec) {
	for _, prog := range spec.Programs {
		if prog.Type != ebpf.PerfEvent {
			continue
		}
		for _, ins := range prog.Instructions {
			if m, ok := spec.Maps[ins.Reference()]; ok && ins.IsLoadFromMap() && m.Flags&unix.BPF_F_NO_PREALLOC != 0 {
				m.Flags &^= unix.BPF_F_NO_PREALLOC
			}
		}
	}
}

// programType is the BPF program type for an attach point.
func programType(ap *lang.AttachPoint) ebpf.ProgramType {
	switch ap.Kind {
	case "tracepoint":
		return ebpf.TracePoint
	case "kprobe", "kretprobe", "uprobe", "uretprobe", "usdt":
		return ebpf.Kprobe
	case "interval", "profile", "software", "hardware":
		return ebpf.PerfEvent
	case "fentry", "fexit":
		return ebpf.Tracing
	}
	// BEGIN and END are raw tracepoint programs run with BPF_PROG_TEST_RUN.
	return ebpf.RawTracepoint
}

// programName makes a unique kernel-safe program name (at most 15 bytes).
func programName(ap *lang.AttachPoint, probe, attach int) string {
	base := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, ap.Kind)
	name := fmt.Sprintf("%s_%d_%d", base, probe, attach)
	if len(name) > 15 {
		name = fmt.Sprintf("p_%d_%d", probe, attach)
	}
	return name
}

func newMapDef(mi *lang.MapInfo, maxEntries uint32) *MapDef {
	md := &MapDef{Name: mi.Name, Key: mi.Key, Value: mi.Value}
	md.Kernel = kernelMapName(mi.Name)
	md.KeySize = 8
	if mi.Key != nil {
		md.KeySize = mi.Key.StorageSize()
	}
	switch mi.Value.Kind {
	case lang.KindCount, lang.KindSum:
		md.PerCPU, md.ValueSize = true, 8
	case lang.KindMin, lang.KindMax, lang.KindAvg, lang.KindStats:
		// min/max: value and a "set" flag; avg/stats: count and total.
		md.PerCPU, md.ValueSize = true, 16
	case lang.KindHist, lang.KindLhist:
		md.PerCPU, md.ValueSize, md.Bucketed = true, 8, true
		if mi.Key == nil {
			md.KeySize = 0
		}
		md.KeySize += 8
	default:
		md.ValueSize = mi.Value.StorageSize()
	}
	return md
}

// BucketCount is how many hist() buckets a key can have: negative, zero and
// one per power of two up to 2^63.
const BucketCount = 66

func (md *MapDef) spec(maxEntries uint32) *ebpf.MapSpec {
	t := ebpf.Hash
	if md.PerCPU {
		t = ebpf.PerCPUHash
	}
	// Entries are allocated as keys arrive (BPF_F_NO_PREALLOC), not when
	// the map is created: preallocating 4096 entries for every CPU made
	// creating each map take 1-2 ms of the start-up (bpftrace pays it).
	// The limit still holds: an insert beyond it fails, and is counted.
	return &ebpf.MapSpec{Name: md.Kernel, Type: t, KeySize: uint32(md.KeySize),
		ValueSize: uint32(md.ValueSize), MaxEntries: maxEntries, Flags: unix.BPF_F_NO_PREALLOC}
}

// kernelMapName turns "@name" into a kernel-safe map name. The kernel keeps
// 15 bytes; longer names are cut and given a hash suffix to stay unique.
func kernelMapName(name string) string {
	s := "AT_" + strings.TrimPrefix(name, "@")
	if len(s) <= 15 {
		return s
	}
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	return fmt.Sprintf("%s_%04x", s[:10], h&0xffff)
}

// Listing renders every program's instructions with their source notes, for
// `gotrace -d` and the golden tests.
func (p *Program) Listing() string {
	var b strings.Builder
	for _, pp := range p.Probes {
		fmt.Fprintf(&b, "%s (%s, %d instructions):\n", pp.Attach.Name, pp.Spec.Type, len(pp.Spec.Instructions))
		fmt.Fprintf(&b, "%v", pp.Spec.Instructions)
	}
	return b.String()
}
