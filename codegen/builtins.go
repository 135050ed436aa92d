package codegen

import (
	"fmt"
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/target"
)

// This file holds the code generation of every builtin variable and
// function, keyed by the same names as lang/builtins.go, which holds their
// type rules.

type builtinVarGen struct {
	intInto func(g *gen, id *lang.IdentExpr, dst asm.Register)
	memInto func(g *gen, id *lang.IdentExpr, off int16, size int)
}

// x86-64 struct pt_regs offsets of the argument and return registers.
var ptregsArg = [...]int16{112, 104, 96, 88, 72, 64} // di si dx cx r8 r9

// syscallArg are the pt_regs offsets of a syscall's arguments: the fourth
// is in r10, not cx.
var syscallArg = [...]int16{112, 104, 96, 56, 72, 64} // di si dx r10 r8 r9

const ptregsAX = 80

var builtinVars = map[string]*builtinVarGen{
	"pid": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		g.emit(asm.FnGetCurrentPidTgid.Call(), asm.Mov.Reg(dst, asm.R0), asm.RSh.Imm(dst, 32))
	}},
	"tid": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		g.emit(asm.FnGetCurrentPidTgid.Call(), asm.Mov.Reg32(dst, asm.R0))
	}},
	"uid": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		g.emit(asm.FnGetCurrentUidGid.Call(), asm.Mov.Reg32(dst, asm.R0))
	}},
	"gid": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		g.emit(asm.FnGetCurrentUidGid.Call(), asm.Mov.Reg(dst, asm.R0), asm.RSh.Imm(dst, 32))
	}},
	"nsecs": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		g.emit(asm.FnKtimeGetNs.Call(), asm.Mov.Reg(dst, asm.R0))
	}},
	"cpu": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		g.emit(asm.FnGetSmpProcessorId.Call(), asm.Mov.Reg(dst, asm.R0))
	}},
	"cpid": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		g.emit(asm.LoadImm(dst, 0, asm.DWord).WithReference(CommandPIDVar))
	}},
	"numaid": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		g.emit(asm.FnGetNumaNodeId.Call(), asm.Mov.Reg(dst, asm.R0))
	}},
	"curtask": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		g.emit(asm.FnGetCurrentTask.Call(), asm.Mov.Reg(dst, asm.R0))
	}},
	"rand": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		g.emit(asm.FnGetPrandomU32.Call(), asm.Mov.Reg(dst, asm.R0))
	}},
	"cgroup": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		g.emit(asm.FnGetCurrentCgroupId.Call(), asm.Mov.Reg(dst, asm.R0))
	}},
	"elapsed": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		// nsecs minus the start time, which the runtime stores in the
		// "start" slot of the lost map's neighbour before attaching.
		g.emit(asm.FnKtimeGetNs.Call(), asm.Mov.Reg(dst, asm.R0))
		g.emit(asm.LoadImm(asm.R1, 0, asm.DWord).WithReference(StartTimeVar))
		g.emit(asm.Sub.Reg(dst, asm.R1))
	}},
	"kstack": {memInto: func(g *gen, _ *lang.IdentExpr, off int16, size int) { g.stackID(false, off) }},
	"ustack": {memInto: func(g *gen, _ *lang.IdentExpr, off int16, size int) { g.stackID(true, off) }},
	"username": {memInto: func(g *gen, _ *lang.IdentExpr, off int16, size int) {
		g.emit(asm.FnGetCurrentUidGid.Call(), asm.Mov.Reg32(asm.R0, asm.R0), asm.StoreMem(asm.RFP, off, asm.R0, asm.DWord))
	}},
	"comm": {memInto: func(g *gen, _ *lang.IdentExpr, off int16, size int) {
		if !g.has(target.ZeroPaddedComm) {
			// The helper leaves the bytes after the NUL as they were:
			// zero them, or a comm key carries stack garbage.
			g.zero(off, 16)
		}
		g.addr(asm.R1, off)
		g.emit(asm.Mov.Imm(asm.R2, 16), asm.FnGetCurrentComm.Call())
		g.zero(off+16, size-16)
	}},
	"probe": {memInto: func(g *gen, _ *lang.IdentExpr, off int16, size int) {
		g.storeBytes(off, size, []byte(g.ap.Name))
	}},
	"func": {memInto: func(g *gen, _ *lang.IdentExpr, off int16, size int) {
		name := g.ap.Func
		if name == "" {
			name = g.ap.Event
		}
		g.storeBytes(off, size, []byte(name))
	}},
	"retval": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		if g.ap.Proto != nil {
			// fexit: the return value follows the arguments.
			g.emit(asm.LoadMem(dst, g.ctx(), int16(8*len(g.ap.Proto.Params)), asm.DWord))
			return
		}
		if g.ap.Kind == "tracepoint" {
			f := g.ap.Format.Field("ret")
			g.emit(asm.LoadMem(dst, g.ctx(), int16(f.Offset), asm.DWord))
			return
		}
		g.emit(asm.LoadMem(dst, g.ctx(), ptregsAX, asm.DWord))
	}},
}

func init() {
	for i := 0; i < 10; i++ {
		n := i
		builtinVars["arg"+string(rune('0'+n))] = &builtinVarGen{intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
			switch {
			case g.ap.USDT != nil:
				g.usdtArg(g.ap.USDT.Args[n], dst)
			case g.ap.Kind == "tracepoint": // kprobe:sys_X fallback: the syscall's argument slots
				g.emit(asm.LoadMem(dst, g.ctx(), int16(16+8*n), asm.DWord))
			case g.ap.Kind == "rawtracepoint":
				g.emit(asm.LoadMem(dst, g.ctx(), int16(8*n), asm.DWord))
			case g.ap.SyscallWrapper && n < 6:
				// The wrapper's first argument points at the user's
				// registers; the syscall's arguments are there.
				slot := g.alloc(8)
				g.emit(storeImm(asm.RFP, slot, 0))
				g.addr(asm.R1, slot)
				g.emit(asm.Mov.Imm(asm.R2, 8), asm.LoadMem(asm.R3, g.ctx(), ptregsArg[0], asm.DWord),
					asm.Add.Imm(asm.R3, int32(syscallArg[n])),
					asm.FnProbeReadKernel.Call(),
					asm.LoadMem(dst, asm.RFP, slot, asm.DWord))
			case n < 6: // pt_regs
				g.emit(asm.LoadMem(dst, g.ctx(), ptregsArg[n], asm.DWord))
			default:
				// x86-64 passes the 7th argument on and after the return
				// address: at sp + 8*(n-5) on function entry.
				slot := g.alloc(8)
				g.emit(storeImm(asm.RFP, slot, 0))
				g.addr(asm.R1, slot)
				g.emit(asm.Mov.Imm(asm.R2, 8), asm.LoadMem(asm.R3, g.ctx(), ptregsSP, asm.DWord),
					asm.Add.Imm(asm.R3, int32(8*(n-5))),
					readHelper(g.ap.Kind == "uprobe" || g.ap.Kind == "uretprobe").Call(),
					asm.LoadMem(dst, asm.RFP, slot, asm.DWord))
			}
		}}
	}
}

const ptregsSP = 152

func init() {
	for i := 0; i < 10; i++ {
		n := i
		builtinVars[fmt.Sprintf("sarg%d", n)] = &builtinVarGen{intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
			// At function entry sp points at the return address; the
			// stack arguments follow it.
			slot := g.alloc(8)
			g.emit(storeImm(asm.RFP, slot, 0))
			g.addr(asm.R1, slot)
			g.emit(asm.Mov.Imm(asm.R2, 8), asm.LoadMem(asm.R3, g.ctx(), ptregsSP, asm.DWord),
				asm.Add.Imm(asm.R3, int32(8*(n+1))),
				readHelper(g.ap.Kind == "uprobe").Call(),
				asm.LoadMem(dst, asm.RFP, slot, asm.DWord))
		}}
	}
}

// StartTimeVar is the name of the constant the runtime patches with the
// monotonic time at start-up (for elapsed).
const StartTimeVar = "gotrace_start_ns"

// CommandPIDVar is the constant the runtime patches with the process id of
// the -c command (cpid).
const CommandPIDVar = "gotrace_cpid"

type funcGen struct {
	stmt    func(g *gen, call *lang.CallExpr)
	intInto func(g *gen, call *lang.CallExpr, dst asm.Register)
	memInto func(g *gen, call *lang.CallExpr, off int16, size int)
}

var funcs map[string]*funcGen

func init() {
	funcs = map[string]*funcGen{
		"printf": {stmt: genPrintf},
		"exit":   {stmt: genExit},
		"str":    {memInto: genStr},
		"delete": {stmt: genDelete},
		"clear":  {stmt: func(g *gen, call *lang.CallExpr) { g.mapEvent(call, EventClearMap) }},
		"zero":   {stmt: func(g *gen, call *lang.CallExpr) { g.mapEvent(call, EventZeroMap) }},
		"print":  {stmt: genPrint},
		"kstack": {memInto: func(g *gen, _ *lang.CallExpr, off int16, _ int) { g.stackID(false, off) }},
		"ustack": {memInto: func(g *gen, _ *lang.CallExpr, off int16, _ int) { g.stackID(true, off) }},
		"ksym": {memInto: func(g *gen, c *lang.CallExpr, off int16, _ int) {
			g.memInto(c.Args[0], off, 8)
		}},
		"usym": {memInto: func(g *gen, c *lang.CallExpr, off int16, _ int) {
			g.memInto(c.Args[0], off, 8)
			g.emit(asm.FnGetCurrentPidTgid.Call(), asm.RSh.Imm(asm.R0, 32), asm.StoreMem(asm.RFP, off+8, asm.R0, asm.DWord))
		}},
		"kaddr":    {intInto: genKaddr},
		"uaddr":    {intInto: genUaddr},
		"reg":      {intInto: genReg},
		"ntop":     {memInto: genNtop},
		"strftime": {memInto: genStrftime},
		"buf":      {memInto: genBuf},
		"time":     {stmt: genTime},
		"join":     {stmt: genJoin},
		"cat":      {stmt: func(g *gen, c *lang.CallExpr) { g.formatted(c, EventCat) }},
		"system":   {stmt: func(g *gen, c *lang.CallExpr) { g.formatted(c, EventSystem) }},
		"signal":   {stmt: genSignal},
		"bswap": {intInto: func(g *gen, c *lang.CallExpr, dst asm.Register) {
			g.intInto(c.Args[0], dst)
			size := map[int]asm.Size{1: asm.Byte, 2: asm.Half, 4: asm.Word, 8: asm.DWord}[g.typeOf(c).Size]
			if size != asm.Byte {
				g.emit(asm.HostTo(asm.BE, dst, size))
			} else {
				g.truncate(dst, g.typeOf(c)) // unsigned, as bpftrace: bswap((int8)-1) is 255
			}
		}},
	}
	// Aggregations are compiled by (*gen).aggregate when assigned to a map.
	for _, n := range []string{"count", "sum", "avg", "min", "max", "stats", "hist", "lhist"} {
		funcs[n] = &funcGen{}
	}
}

// genPrintf sends the arguments to user space, which formats them: an
// event header (EventPrintf, printf index) followed by the arguments laid out
// as a tuple.
func genPrintf(g *gen, call *lang.CallExpr) { g.formatted(call, EventPrintf) }

// formatted sends a format's arguments to user space in an event of the
// given kind (printf, cat, system all format the same way).
func (g *gen) formatted(call *lang.CallExpr, kind EventKind) {
	format := call.Args[0].(*lang.StrLit).Value
	args := call.Args[1:]
	elems := make([]*lang.Type, len(args))
	for i, a := range args {
		t := *g.typeOf(a)
		if t.Kind == lang.KindInt {
			t.Size = 8
		}
		elems[i] = &t
	}
	layout := lang.TupleType(elems)
	idx := len(g.prog.Printfs)
	// Each attach point compiles the same call; register it once.
	for i, p := range g.prog.Printfs {
		if p.Span == call.Span {
			idx = i
		}
	}
	if idx == len(g.prog.Printfs) {
		g.prog.Printfs = append(g.prog.Printfs, &PrintfDef{Format: format, Args: layout, Span: call.Span})
	}
	size := 8 + layout.Size
	off := g.alloc(size)
	g.storeHeader(off, kind, idx)
	for i, a := range args {
		g.memInto(a, off+8+int16(layout.Offsets[i]), elems[i].StorageSize())
	}
	g.output(off, size)
}

func genExit(g *gen, call *lang.CallExpr) {
	off := g.alloc(8)
	g.storeHeader(off, EventExit, 0)
	g.send(off, 8) // not noted: a lost exit event is caught by the counter
	// Also raise the exit counter, which user space polls: a full ring
	// buffer may have dropped the event.
	g.addCounter(CounterExit)
	g.ja(g.exit)
}

func (g *gen) storeHeader(off int16, kind EventKind, idx int) {
	g.emit(asm.LoadImm(asm.R1, int64(kind)|int64(idx)<<32, asm.DWord),
		asm.StoreMem(asm.RFP, off, asm.R1, asm.DWord))
}

// output copies size bytes at fp+off into the ring buffer. When the buffer
// is full the event is counted in the lost map, so the user hears about it.
func (g *gen) output(off int16, size int) {
	g.noteEvent(size)
	g.send(off, size)
}

// send is output without noting the event for the ring buffer's size.
func (g *gen) send(off int16, size int) {
	g.loadMap(asm.R1, RingbufMap)
	g.addr(asm.R2, off)
	g.emit(asm.Mov.Imm(asm.R3, int32(size)), asm.Mov.Imm(asm.R4, 0), asm.FnRingbufOutput.Call())
	lOK := g.newLabel()
	g.jump(asm.JEq.Imm(asm.R0, 0, ""), lOK)
	g.countLost()
	g.mark(lOK)
}

// noteEvent records an event of size bytes for sizing the ring buffer.
func (g *gen) noteEvent(size int) {
	ev := &g.prog.events
	switch {
	case g.ap.Kind != "BEGIN" && g.ap.Kind != "END":
		ev.fromProbes = true
	case len(g.loops) > 0:
		ev.unbounded = true
	default:
		ev.bytes += 8 + (size+7)&^7 // a record's header, then its data
	}
}

// countLost adds one to the lost-events counter.
func (g *gen) countLost() { g.addCounter(CounterLost) }

// genStr reads a NUL-terminated string from kernel or user memory.
func genStr(g *gen, call *lang.CallExpr, off int16, size int) {
	if p, ok := call.Args[0].(*lang.PositionalExpr); ok && !p.Count {
		// str($1) is the parameter's text, even when it looks like a number.
		v := ""
		if p.N <= len(g.info.Args) {
			v = g.info.Args[p.N-1]
		}
		g.storeBytes(off, size, []byte(v))
		return
	}
	if g.typeOf(call.Args[0]).Kind == lang.KindString {
		g.memInto(call.Args[0], off, size)
		return
	}
	n := g.typeOf(call).Size
	g.zero(off, size)
	g.withTemp(func(p asm.Register) {
		p = g.intIntoArg3(call.Args[0], p)
		g.addr(asm.R1, off)
		g.emit(asm.Mov.Imm(asm.R2, int32(n)))
		g.movR3(p)
		// bpf_probe_read_str reads kernel and user addresses alike on
		// architectures with separate address spaces checks (x86-64), as
		// bpftrace does; tracepoint pointers are usually user pointers.
		g.readCall(asm.FnProbeReadStr, call)
	})
}

func genDelete(g *gen, call *lang.CallExpr) {
	m := call.Args[0].(*lang.MapExpr)
	md := g.maps[m.Name]
	key := g.mapKey(md, m.Keys)
	g.loadMap(asm.R1, md.Kernel)
	g.addr(asm.R2, key)
	g.emit(asm.FnMapDeleteElem.Call())
	if g.opts.HelperErrors {
		g.helperResult("map_delete_elem", call)
	}
}

// mapIndex is the position of a map in Program.Maps (the event index).
func (g *gen) mapIndex(name string) int {
	for i, md := range g.prog.Maps {
		if md.Name == name {
			return i
		}
	}
	return -1
}

// mapEvent asks user space to act on a whole map (clear, zero). Like
// bpftrace, it happens asynchronously, when the event is read.
func (g *gen) mapEvent(call *lang.CallExpr, kind EventKind) {
	m := call.Args[0].(*lang.MapExpr)
	off := g.alloc(8)
	g.storeHeader(off, kind, g.mapIndex(m.Name))
	g.output(off, 8)
}

func genPrint(g *gen, call *lang.CallExpr) {
	if m, ok := call.Args[0].(*lang.MapExpr); ok && len(m.Keys) == 0 && g.maps[m.Name] != nil {
		off := g.alloc(24)
		g.storeHeader(off, EventPrintMap, g.mapIndex(m.Name))
		for i := 0; i < 2; i++ {
			if i+1 < len(call.Args) {
				g.memInto(call.Args[i+1], off+8+int16(8*i), 8)
			} else {
				g.emit(storeImm(asm.RFP, off+8+int16(8*i), 0))
			}
		}
		g.output(off, 24)
		return
	}
	t := *g.typeOf(call.Args[0])
	if t.Kind == lang.KindInt {
		t.Size = 8
	}
	idx := len(g.prog.Values)
	g.prog.Values = append(g.prog.Values, &t)
	size := 8 + t.StorageSize()
	off := g.alloc(size)
	g.storeHeader(off, EventPrintValue, idx)
	g.memInto(call.Args[0], off+8, t.StorageSize())
	g.output(off, size)
}

// stack stores a stack id (and for user stacks the pid) at fp+off:
// the low 32 bits hold bpf_get_stackid's result, the high 32 bits the pid.
func (g *gen) stackID(user bool, off int16) {
	g.needStackMap()
	flags := int32(0)
	if user {
		flags = 1 << 8 // BPF_F_USER_STACK
	}
	g.emit(asm.Mov.Reg(asm.R1, g.ctx()))
	g.loadMap(asm.R2, StackMap)
	g.emit(asm.Mov.Imm(asm.R3, flags), asm.FnGetStackid.Call(),
		asm.StoreMem(asm.RFP, off, asm.R0, asm.Word))
	if user {
		g.emit(asm.FnGetCurrentPidTgid.Call(), asm.RSh.Imm(asm.R0, 32), asm.StoreMem(asm.RFP, off+4, asm.R0, asm.Word))
	} else {
		g.emit(asm.StoreImm(asm.RFP, off+4, 0, asm.Word))
	}
}

// MaxStackDepth is how many frames a stack trace keeps.
const MaxStackDepth = 127

func (g *gen) needStackMap() {
	if _, ok := g.prog.Spec.Maps[StackMap]; !ok {
		g.prog.Spec.Maps[StackMap] = &ebpf.MapSpec{Name: StackMap, Type: ebpf.StackTrace,
			KeySize: 4, ValueSize: 8 * MaxStackDepth, MaxEntries: 4096}
	}
}

func genKaddr(g *gen, call *lang.CallExpr, dst asm.Register) {
	addr, ok := g.info.Addrs[call][""]
	if !ok {
		g.fail(call, "internal error: kaddr() was not resolved by the checker")
		return
	}
	g.loadConst(dst, int64(addr))
}

func genUaddr(g *gen, call *lang.CallExpr, dst asm.Register) {
	addr, ok := g.info.Addrs[call][g.ap.Path]
	if !ok {
		g.fail(call, "internal error: uaddr() was not resolved by the checker for %s", g.ap.Path)
		return
	}
	g.loadConst(dst, int64(addr))
}

func genReg(g *gen, call *lang.CallExpr, dst asm.Register) {
	off := lang.PtRegs[call.Args[0].(*lang.StrLit).Value]
	g.emit(asm.LoadMem(dst, g.ctx(), int16(off), asm.DWord))
}

// genNtop lays out [family u64][address, 16 bytes].
func genNtop(g *gen, call *lang.CallExpr, off int16, size int) {
	addr := call.Args[len(call.Args)-1]
	at := g.typeOf(addr)
	g.zero(off, 24)
	if len(call.Args) == 2 {
		g.memInto(call.Args[0], off, 8)
	} else {
		family := int64(2) // AF_INET
		if at.Kind == lang.KindString && at.Size == 16 {
			family = 10 // AF_INET6
		}
		g.emit(storeImm(asm.RFP, off, family))
	}
	if at.Kind == lang.KindInt {
		g.withTemp(func(r asm.Register) {
			g.intInto(addr, r)
			g.emit(asm.StoreMem(asm.RFP, off+8, r, asm.Word))
		})
		return
	}
	g.memInto(addr, off+8, 16)
}

func genStrftime(g *gen, call *lang.CallExpr, off int16, size int) {
	idx := g.timeFormat(call.Args[0].(*lang.StrLit).Value)
	g.memInto(call.Args[1], off, 8)
	g.emit(storeImm(asm.RFP, off+8, int64(idx)))
}

func (g *gen) timeFormat(f string) int {
	for i, have := range g.prog.TimeFormats {
		if have == f {
			return i
		}
	}
	g.prog.TimeFormats = append(g.prog.TimeFormats, f)
	return len(g.prog.TimeFormats) - 1
}

// genBuf lays out [length u64][bytes].
func genBuf(g *gen, call *lang.CallExpr, off int16, size int) {
	n := g.typeOf(call).Size
	g.zero(off, 8+((n+7)&^7))
	g.emit(storeImm(asm.RFP, off, int64(n)))
	if g.typeOf(call.Args[0]).Kind == lang.KindString {
		g.memInto(call.Args[0], off+8, (n+7)&^7)
		return
	}
	dynamic := false
	if len(call.Args) == 2 {
		_, isConst := g.isConst(call.Args[1])
		dynamic = !isConst
	}
	g.withTemp(func(p asm.Register) {
		if !dynamic {
			p = g.intIntoArg3(call.Args[0], p)
			g.addr(asm.R1, off+8)
			g.emit(asm.Mov.Imm(asm.R2, int32(n)))
			g.movR3(p)
			g.readCall(asm.FnProbeRead, call)
			return
		}
		g.intInto(call.Args[0], p)
		// A run-time length, clamped to the buffer: 1..n.
		g.withTemp(func(l asm.Register) {
			g.intInto(call.Args[1], l)
			lOK, lSmall := g.newLabel(), g.newLabel()
			g.jump(asm.JLE.Imm(l, int32(n), ""), lOK)
			g.emit(asm.Mov.Imm(l, int32(n)))
			g.mark(lOK)
			g.jump(asm.JGE.Imm(l, 1, ""), lSmall)
			g.emit(asm.Mov.Imm(l, 1))
			g.mark(lSmall)
			g.emit(asm.StoreMem(asm.RFP, off, l, asm.DWord))
			g.addr(asm.R1, off+8)
			g.emit(asm.Mov.Reg(asm.R2, l), asm.Mov.Reg(asm.R3, p))
			g.readCall(asm.FnProbeRead, call)
		})
	})
}

func genTime(g *gen, call *lang.CallExpr) {
	f := "%H:%M:%S\n"
	if len(call.Args) == 1 {
		f = call.Args[0].(*lang.StrLit).Value
	}
	off := g.alloc(8)
	g.storeHeader(off, EventTime, g.timeFormat(f))
	g.output(off, 8)
}

// genJoin reads up to JoinArgs strings of a NULL-terminated pointer array
// straight into a reserved ring-buffer record (it is larger than the stack).
func genJoin(g *gen, call *lang.CallExpr) {
	sep := " "
	if len(call.Args) == 2 {
		sep = call.Args[1].(*lang.StrLit).Value
	}
	idx := len(g.prog.JoinSeps)
	g.prog.JoinSeps = append(g.prog.JoinSeps, sep)
	strLen := JoinArgSize
	g.prog.StrLen = strLen
	size := 8 + JoinArgs*strLen
	g.withTemp(func(argv asm.Register) {
		g.intInto(call.Args[0], argv)
		g.withTemp(func(rec asm.Register) {
			lDone := g.newLabel()
			g.noteEvent(size)
			g.loadMap(asm.R1, RingbufMap)
			g.emit(asm.Mov.Imm(asm.R2, int32(size)), asm.Mov.Imm(asm.R3, 0), asm.FnRingbufReserve.Call(),
				asm.Mov.Reg(rec, asm.R0))
			lFull := g.newLabel()
			g.jump(asm.JEq.Imm(rec, 0, ""), lFull)
			g.emit(asm.LoadImm(asm.R1, int64(EventJoin)|int64(idx)<<32, asm.DWord), asm.StoreMem(rec, 0, asm.R1, asm.DWord))
			// The record is not zeroed: empty every slot, so user space
			// stops at the first string that was not read.
			for i := 0; i < JoinArgs; i++ {
				g.emit(asm.StoreImm(rec, int16(8+i*strLen), 0, asm.Byte))
			}
			ptr := g.alloc(8)
			lEnd := g.newLabel()
			for i := 0; i < JoinArgs; i++ {
				// ptr = argv[i]; the strings stay empty from the first NULL on.
				g.addr(asm.R1, ptr)
				g.emit(asm.Mov.Imm(asm.R2, 8), asm.Mov.Reg(asm.R3, argv), asm.Add.Imm(asm.R3, int32(8*i)),
					asm.FnProbeRead.Call(), asm.LoadMem(asm.R3, asm.RFP, ptr, asm.DWord))
				g.jump(asm.JNE.Imm(asm.R0, 0, ""), lEnd)
				g.jump(asm.JEq.Imm(asm.R3, 0, ""), lEnd)
				g.emit(asm.Mov.Reg(asm.R1, rec), asm.Add.Imm(asm.R1, int32(8+i*strLen)), asm.Mov.Imm(asm.R2, int32(strLen)),
					asm.FnProbeReadStr.Call())
			}
			g.mark(lEnd)
			g.emit(asm.Mov.Reg(asm.R1, rec), asm.Mov.Imm(asm.R2, 0), asm.FnRingbufSubmit.Call())
			g.ja(lDone)
			g.mark(lFull)
			g.countLost()
			g.mark(lDone)
		})
	})
}

func genSignal(g *gen, call *lang.CallExpr) {
	if lit, ok := call.Args[0].(*lang.StrLit); ok {
		g.emit(asm.Mov.Imm(asm.R1, int32(lang.SignalNumber(lit.Value))))
	} else {
		g.withTemp(func(r asm.Register) {
			g.intInto(call.Args[0], r)
			g.emit(asm.Mov.Reg(asm.R1, r))
		})
	}
	g.emit(asm.FnSendSignal.Call())
}

// usdtArg reads a USDT argument where its note says it is: a register of
// the probed process, memory at a register plus an offset, or a constant.
func (g *gen) usdtArg(a lang.USDTArg, dst asm.Register) {
	switch a.Kind {
	case lang.USDTImmediate:
		g.loadConst(dst, a.Value)
		return
	case lang.USDTRegister:
		g.emit(asm.LoadMem(dst, g.ctx(), int16(a.Reg), asm.DWord))
	case lang.USDTMemory:
		slot := g.alloc(8)
		g.emit(storeImm(asm.RFP, slot, 0))
		g.addr(asm.R1, slot)
		g.emit(asm.Mov.Imm(asm.R2, int32(a.Size)), asm.LoadMem(asm.R3, g.ctx(), int16(a.Reg), asm.DWord),
			asm.Add.Imm(asm.R3, int32(a.Offset)))
		g.readCall(asm.FnProbeReadUser, g.ap.Spec)
		g.emit(asm.LoadMem(dst, asm.RFP, slot, asm.DWord))
	}
	if a.Size < 8 {
		g.truncate(dst, lang.IntType(a.Size, a.Signed))
	}
}
