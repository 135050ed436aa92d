package codegen

import (
	"fmt"
	"sort"

	"github.com/cilium/ebpf/asm"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/target"
)

// maxStack is the BPF stack limit.
const maxStack = 512

var temps = [...]asm.Register{asm.R7, asm.R8, asm.R9}

// gen compiles one attach point of one probe.
type gen struct {
	emitter
	prog  *Program
	info  *lang.Info
	probe *lang.ProbeInfo
	ap    *lang.AttachPoint
	maps  map[string]*MapDef
	src   *lang.Source
	opts  Options

	usesCtx  bool
	stack    int // bytes in use below the frame pointer
	maxDepth int
	vars     map[string]int16
	busy     [len(temps)]bool
	exit     label
	loops    []loopLabels
	keyAddr  fpAddr
	err      error
}

type loopLabels struct{ brk, cont label }

// fail records the first code generation error (with its script position).
func (g *gen) fail(n lang.Spanned, format string, args ...any) {
	if g.err == nil {
		g.err = lang.Errorf(g.src, n, format, args...)
	}
}

func (g *gen) compile() (asm.Instructions, error) {
	g.exit = g.newLabel()
	// Slot 0 is reserved for saving the context; dropped below if unused.
	g.emit(asm.Mov.Reg(asm.R6, asm.R1))
	if g.info.CallsExit && g.ap.Kind != "BEGIN" && g.ap.Kind != "END" {
		// Once exit() has been called, probes that still fire before
		// they are detached change nothing, as in bpftrace.
		g.emit(asm.LoadMapValue(asm.R0, 0, uint32(8*CounterExit)).WithReference(CountersMap),
			asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord))
		g.jump(asm.JNE.Imm(asm.R0, 0, ""), g.exit)
	}

	g.vars = map[string]int16{}
	names := make([]string, 0, len(g.probe.Vars))
	for n := range g.probe.Vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := g.probe.Vars[n]
		off := g.alloc(t.StorageSize())
		g.vars[n] = off
		// A variable may be read on a path that never assigned it; the
		// verifier only accepts initialised stack, and bpftrace reads 0.
		g.zero(off, t.StorageSize())
	}

	p := g.probe.Probe
	if p.Pred != nil {
		done := g.at(g.src, p.Pred)
		g.jumpIfFalse(p.Pred, g.exit)
		done()
	}
	g.block(p.Body)
	g.mark(g.exit)
	g.emit(asm.Mov.Imm(asm.R0, 0), asm.Return())

	if g.usesCtx && g.ctxStaysInR1() {
		// Every context read comes before R1 is first overwritten: read
		// it from R1 and drop the save.
		for i := range g.insns {
			if g.insns[i].Src == asm.R6 {
				g.insns[i].Src = asm.R1
			}
		}
		g.usesCtx = false
	}
	if !g.usesCtx {
		g.insns = g.insns[1:]
		for l, t := range g.targets {
			g.targets[l] = t - 1
		}
		for i := range g.fixups {
			g.fixups[i].at--
		}
	}
	// cilium/ebpf turns source notes into BTF line info, and the kernel
	// wants line info to start at the first instruction: give it the
	// probe's header.
	if g.insns[0].Source() == nil {
		g.insns[0] = g.insns[0].WithSource(SourceNote{Src: g.src, Span: g.ap.Spec.Span})
	}
	if g.err != nil {
		return nil, g.err
	}
	if g.maxDepth > maxStack {
		return nil, lang.Errorf(g.src, p, "probe needs %d bytes of BPF stack, more than the kernel's %d; use fewer or shorter strings (BPFTRACE_STRLEN)", g.maxDepth, maxStack)
	}
	if err := g.resolve(); err != nil {
		return nil, lang.Errorf(g.src, p, "%v", err)
	}
	return g.insns, nil
}

// ctxStaysInR1 reports whether the program's reads of R6 (the saved
// context) all happen in straight-line code at the start, before anything
// writes R1 or calls a helper, and R6 is only ever read as a source.
func (g *gen) ctxStaysInR1() bool {
	last := -1
	for i, ins := range g.insns[1:] {
		if ins.Dst == asm.R6 && !ins.OpCode.Class().IsStore() {
			return false
		}
		if ins.Src == asm.R6 {
			last = i + 1
		}
	}
	for _, f := range g.fixups {
		if f.at <= last || g.targets[f.to] <= last {
			return false
		}
	}
	for _, ins := range g.insns[1 : last+1] {
		if ins.IsBuiltinCall() || ins.Dst == asm.R1 && !ins.OpCode.Class().IsStore() && !ins.OpCode.Class().IsJump() {
			return false
		}
	}
	return true
}

// ctx returns the register holding the probe context.
func (g *gen) ctx() asm.Register {
	g.usesCtx = true
	return asm.R6
}

// ---- stack ----

// alloc reserves size bytes (rounded up to 8) of stack and returns the
// offset from the frame pointer.
func (g *gen) alloc(size int) int16 {
	g.stack += (size + 7) &^ 7
	if g.stack > g.maxDepth {
		g.maxDepth = g.stack
	}
	if g.stack > 32767 {
		g.stack = 32767
	}
	return int16(-g.stack)
}

// zero clears size bytes (rounded up to 8) at off.
func (g *gen) zero(off int16, size int) {
	for i := 0; i < size; i += 8 {
		g.emit(storeImm(asm.RFP, off+int16(i), 0))
	}
}

// addr sets reg to the address fp+off.
func (g *gen) addr(reg asm.Register, off int16) {
	if g.keyAddr.ok && g.keyAddr.off == off && reg != g.keyAddr.reg {
		g.emit(asm.Mov.Reg(reg, g.keyAddr.reg))
		return
	}
	g.emit(asm.Mov.Reg(reg, asm.RFP), asm.Add.Imm(reg, int32(off)))
}

// fpAddr is a callee-saved register known to hold fp+off (see withKey).
type fpAddr struct {
	reg asm.Register
	off int16
	ok  bool
}

// ---- registers ----

func (g *gen) tryTemp() (asm.Register, bool) {
	for i, b := range g.busy {
		if !b {
			g.busy[i] = true
			return temps[i], true
		}
	}
	return 0, false
}

func (g *gen) release(r asm.Register) {
	for i, t := range temps {
		if t == r {
			g.busy[i] = false
		}
	}
}

// withTemp runs f with a temporary register. When all are taken, R9 is saved
// on the stack around f: its owner is not running while f runs.
func (g *gen) withTemp(f func(r asm.Register)) {
	if r, ok := g.tryTemp(); ok {
		f(r)
		g.release(r)
		return
	}
	slot := g.alloc(8)
	g.emit(asm.StoreMem(asm.RFP, slot, asm.R9, asm.DWord))
	f(asm.R9)
	g.emit(asm.LoadMem(asm.R9, asm.RFP, slot, asm.DWord))
}

// ---- statements ----

func (g *gen) block(b *lang.Block) {
	for _, s := range b.Stmts {
		g.stmt(s)
		if leaves(s) {
			// What follows can never run, and the verifier rejects
			// unreachable instructions: bpftrace drops it too.
			return
		}
	}
}

// leaves reports whether statement s always leaves its block: exit(),
// return, break and continue.
func leaves(s lang.Stmt) bool {
	switch s := s.(type) {
	case *lang.JumpStmt:
		return true
	case *lang.ExprStmt:
		call, ok := s.X.(*lang.CallExpr)
		return ok && call.Name == "exit"
	}
	return false
}

func (g *gen) stmt(s lang.Stmt) {
	// Buffers for one statement are freed when it ends.
	mark := g.stack
	defer func() { g.stack = mark }()
	done := g.at(g.src, s)
	defer done()

	switch s := s.(type) {
	case *lang.Block:
		g.block(s)
	case *lang.ExprStmt:
		g.exprStmt(s.X)
	case *lang.AssignStmt:
		g.assign(s)
	case *lang.IfStmt:
		lElse, lEnd := g.newLabel(), g.newLabel()
		g.jumpIfFalse(s.Cond, lElse)
		g.block(s.Then)
		if s.Else != nil {
			g.ja(lEnd)
		}
		g.mark(lElse)
		if s.Else != nil {
			g.stmt(s.Else)
		}
		g.mark(lEnd)
	case *lang.WhileStmt:
		lCond, lEnd := g.newLabel(), g.newLabel()
		g.mark(lCond)
		g.jumpIfFalse(s.Cond, lEnd)
		g.loops = append(g.loops, loopLabels{brk: lEnd, cont: lCond})
		g.block(s.Body)
		g.loops = g.loops[:len(g.loops)-1]
		g.ja(lCond)
		g.mark(lEnd)
	case *lang.UnrollStmt:
		n := g.constInt(s.Count)
		for i := int64(0); i < n; i++ {
			g.block(s.Body)
		}
	case *lang.JumpStmt:
		switch s.Keyword {
		case "return":
			g.ja(g.exit)
		case "break":
			g.ja(g.loops[len(g.loops)-1].brk)
		case "continue":
			g.ja(g.loops[len(g.loops)-1].cont)
		}
	default:
		g.fail(s, "cannot compile statement %s", s)
	}
}

func (g *gen) exprStmt(e lang.Expr) {
	switch e := e.(type) {
	case *lang.CallExpr:
		if f := funcs[e.Name]; f != nil && f.stmt != nil {
			f.stmt(g, e)
			return
		}
	case *lang.IncDecExpr:
		g.withTemp(func(r asm.Register) { g.intInto(e, r) })
		return
	case *lang.TernaryExpr:
		if t := g.info.Types[e]; t == nil {
			// A statement: c ? printf("a") : printf("b").
			lElse, lEnd := g.newLabel(), g.newLabel()
			g.jumpIfFalse(e.Cond, lElse)
			g.exprStmt(e.Then)
			g.ja(lEnd)
			g.mark(lElse)
			g.exprStmt(e.Else)
			g.mark(lEnd)
			return
		}
	}
	t := g.typeOf(e)
	if t.Kind == lang.KindInt {
		g.withTemp(func(r asm.Register) { g.intInto(e, r) })
	}
	// Any other value as a statement (probe; comm;) has no effect.
}

func (g *gen) assign(s *lang.AssignStmt) {
	switch t := s.Target.(type) {
	case *lang.VarExpr:
		off := g.vars[t.Name]
		vt := g.probe.Vars[t.Name]
		if vt.Kind != lang.KindInt {
			g.memInto(s.Value, off, vt.StorageSize())
			return
		}
		g.withTemp(func(r asm.Register) {
			if s.Op == "=" {
				g.intInto(s.Value, r)
			} else {
				g.emit(asm.LoadMem(r, asm.RFP, off, asm.DWord))
				g.compound(s.Op, r, s.Value, g.info.Scales[s])
			}
			// A variable narrower than 64 bits holds its value truncated
			// (and sign- or zero-extended) to its width.
			if at := g.typeOf(s.Value); vt.Size < 8 && !vt.Ptr && (s.Op != "=" || at.Size > vt.Size || at.Signed != vt.Signed) {
				g.truncate(r, vt)
			}
			g.emit(asm.StoreMem(asm.RFP, off, r, asm.DWord))
		})
	case *lang.MapExpr:
		md := g.maps[t.Name]
		if call, ok := s.Value.(*lang.CallExpr); ok && md.Value.Kind.IsAgg() {
			g.aggregate(md, t, call)
			return
		}
		if s.Op != "=" {
			// @x[k] op= v: read, combine, write back.
			g.withTemp(func(r asm.Register) {
				g.mapReadInt(md, t, r)
				g.compound(s.Op, r, s.Value, g.info.Scales[s])
				g.mapStoreInt(md, t, r)
			})
			return
		}
		if md.Value.Kind == lang.KindInt {
			g.withTemp(func(r asm.Register) {
				g.intInto(s.Value, r)
				g.mapStoreInt(md, t, r)
			})
			return
		}
		key := g.mapKey(md, t.Keys)
		val := g.alloc(md.ValueSize)
		g.memInto(s.Value, val, md.ValueSize)
		g.mapUpdate(md, key, val)
	}
}

// compound applies `r op= value` for the compound assignment operators.
func (g *gen) compound(op string, r asm.Register, value lang.Expr, scale int64) {
	bin := &lang.BinaryExpr{Op: op[:len(op)-1], Y: value, Span: value.NodeSpan()}
	g.binaryOp(bin, r, g.typeOf(value).Signed, scale)
}

// ---- helpers shared by expressions ----

func (g *gen) typeOf(e lang.Expr) *lang.Type {
	if t := g.info.Types[e]; t != nil {
		return t
	}
	return lang.TypeInt64
}

func (g *gen) constInt(e lang.Expr) int64 {
	switch e := e.(type) {
	case *lang.IntLit:
		return int64(e.Value)
	case *lang.UnaryExpr:
		if e.Op == "-" {
			return -g.constInt(e.X)
		}
	case *lang.PositionalExpr:
		if e.Count {
			return int64(len(g.info.Args))
		}
		var v int64
		if e.N <= len(g.info.Args) {
			fmt.Sscan(g.info.Args[e.N-1], &v)
		}
		return v
	}
	return 0
}

// isConst reports whether e is a constant that fits an instruction immediate.
func (g *gen) isConst(e lang.Expr) (int32, bool) {
	switch e := e.(type) {
	case *lang.IntLit:
		if int64(e.Value) >= -1<<31 && int64(e.Value) < 1<<31 {
			return int32(e.Value), true
		}
	case *lang.IdentExpr:
		if v, ok := g.info.Consts[e]; ok && v >= -1<<31 && v < 1<<31 {
			return int32(v), true
		}
	case *lang.PositionalExpr:
		if g.typeOf(e).Kind == lang.KindInt {
			v := g.constInt(e)
			if v >= -1<<31 && v < 1<<31 {
				return int32(v), true
			}
		}
	}
	return 0, false
}

// has reports whether the kernel the program is for has feature f. A
// program checked without a target gets the code every kernel accepts.
func (g *gen) has(f target.Feature) bool {
	return g.info.Target != nil && g.info.Target.Has(f)
}
