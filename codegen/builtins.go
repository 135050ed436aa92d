package codegen

import (
	"github.com/cilium/ebpf/asm"
	"github.com/gotrace/gotrace/lang"
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
	"username": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		g.emit(asm.FnGetCurrentUidGid.Call(), asm.Mov.Reg32(dst, asm.R0))
	}},
	"nsecs": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		g.emit(asm.FnKtimeGetNs.Call(), asm.Mov.Reg(dst, asm.R0))
	}},
	"cpu": {intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
		g.emit(asm.FnGetSmpProcessorId.Call(), asm.Mov.Reg(dst, asm.R0))
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
	"comm": {memInto: func(g *gen, _ *lang.IdentExpr, off int16, size int) {
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
		if g.ap.Kind == "tracepoint" {
			f := g.ap.Format.Field("ret")
			g.emit(asm.LoadMem(dst, g.ctx(), int16(f.Offset), asm.DWord))
			return
		}
		g.emit(asm.LoadMem(dst, g.ctx(), ptregsAX, asm.DWord))
	}},
}

func init() {
	for i := 0; i < 6; i++ {
		n := i
		builtinVars["arg"+string(rune('0'+n))] = &builtinVarGen{intInto: func(g *gen, _ *lang.IdentExpr, dst asm.Register) {
			switch g.ap.Kind {
			case "tracepoint": // kprobe:sys_X fallback: the syscall's argument slots
				g.emit(asm.LoadMem(dst, g.ctx(), int16(16+8*n), asm.DWord))
			case "rawtracepoint":
				g.emit(asm.LoadMem(dst, g.ctx(), int16(8*n), asm.DWord))
			default: // pt_regs
				g.emit(asm.LoadMem(dst, g.ctx(), ptregsArg[n], asm.DWord))
			}
		}}
	}
}

// StartTimeVar is the name of the constant the runtime patches with the
// monotonic time at start-up (for elapsed).
const StartTimeVar = "gotrace_start_ns"

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
	}
	// Aggregations are compiled by (*gen).aggregate when assigned to a map.
	for _, n := range []string{"count", "sum", "avg", "min", "max", "stats", "hist", "lhist"} {
		funcs[n] = &funcGen{}
	}
}

// genPrintf sends the arguments to user space, which formats them: an
// event header (EventPrintf, printf index) followed by the arguments laid out
// as a tuple.
func genPrintf(g *gen, call *lang.CallExpr) {
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
	g.storeHeader(off, EventPrintf, idx)
	for i, a := range args {
		g.memInto(a, off+8+int16(layout.Offsets[i]), elems[i].StorageSize())
	}
	g.output(off, size)
}

func genExit(g *gen, call *lang.CallExpr) {
	off := g.alloc(8)
	g.storeHeader(off, EventExit, 0)
	g.output(off, 8)
	g.ja(g.exit)
}

func (g *gen) storeHeader(off int16, kind EventKind, idx int) {
	g.emit(asm.LoadImm(asm.R1, int64(kind)|int64(idx)<<32, asm.DWord),
		asm.StoreMem(asm.RFP, off, asm.R1, asm.DWord))
}

// output copies size bytes at fp+off into the ring buffer. When the buffer
// is full the event is counted in the lost map, so the user hears about it.
func (g *gen) output(off int16, size int) {
	g.loadMap(asm.R1, RingbufMap)
	g.addr(asm.R2, off)
	g.emit(asm.Mov.Imm(asm.R3, int32(size)), asm.Mov.Imm(asm.R4, 0), asm.FnRingbufOutput.Call())
	lOK := g.newLabel()
	g.jump(asm.JEq.Imm(asm.R0, 0, ""), lOK)
	key := g.alloc(8)
	g.emit(storeImm(asm.RFP, key, 0))
	g.loadMap(asm.R1, LostMap)
	g.addr(asm.R2, key)
	g.emit(asm.FnMapLookupElem.Call())
	g.jump(asm.JEq.Imm(asm.R0, 0, ""), lOK)
	g.emit(asm.Mov.Imm(asm.R1, 1), asm.StoreXAdd(asm.R0, asm.R1, asm.DWord))
	g.mark(lOK)
}

// genStr reads a NUL-terminated string from kernel or user memory.
func genStr(g *gen, call *lang.CallExpr, off int16, size int) {
	if g.typeOf(call.Args[0]).Kind == lang.KindString {
		g.memInto(call.Args[0], off, size)
		return
	}
	n := g.typeOf(call).Size
	g.zero(off, size)
	g.withTemp(func(p asm.Register) {
		g.intInto(call.Args[0], p)
		g.addr(asm.R1, off)
		g.emit(asm.Mov.Imm(asm.R2, int32(n)), asm.Mov.Reg(asm.R3, p))
		// bpf_probe_read_str reads kernel and user addresses alike on
		// architectures with separate address spaces checks (x86-64), as
		// bpftrace does; tracepoint pointers are usually user pointers.
		g.emit(asm.FnProbeReadStr.Call())
	})
}

func genDelete(g *gen, call *lang.CallExpr) {
	m := call.Args[0].(*lang.MapExpr)
	md := g.maps[m.Name]
	key := g.mapKey(md, m.Keys)
	g.loadMap(asm.R1, md.Kernel)
	g.addr(asm.R2, key)
	g.emit(asm.FnMapDeleteElem.Call())
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
