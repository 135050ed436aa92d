package codegen

import (
	"encoding/binary"
	"strings"

	"github.com/cilium/ebpf/asm"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/target"
)

// intInto evaluates the integer expression e into register dst.
func (g *gen) intInto(e lang.Expr, dst asm.Register) {
	switch e := e.(type) {
	case *lang.IntLit:
		g.loadConst(dst, int64(e.Value))
	case *lang.PositionalExpr:
		g.loadConst(dst, g.constInt(e))
	case *lang.SizeofExpr:
		g.loadConst(dst, g.sizeof(e))
	case *lang.IdentExpr:
		if v, ok := g.info.Consts[e]; ok {
			g.loadConst(dst, v)
			return
		}
		b := builtinVars[e.Name]
		if b == nil || b.intInto == nil {
			g.fail(e, "%s is not an integer here", e.Name)
			return
		}
		b.intInto(g, e, dst)
	case *lang.VarExpr:
		g.emit(asm.LoadMem(dst, asm.RFP, g.vars[e.Name], asm.DWord))
	case *lang.MapExpr:
		g.mapReadInt(g.maps[e.Name], e, dst)
	case *lang.CallExpr:
		f := funcs[e.Name]
		if f == nil || f.intInto == nil {
			g.fail(e, "%s() has no integer value", e.Name)
			return
		}
		f.intInto(g, e, dst)
	case *lang.BinaryExpr:
		switch e.Op {
		case "==", "!=", "<", "<=", ">", ">=", "&&", "||":
			g.boolInto(e, dst)
			return
		}
		g.intInto(e.X, dst)
		t := g.typeOf(e)
		scale := g.info.Scales[e]
		if scale > 1 && g.typeOf(e.Y).Ptr {
			g.emit(asm.Mul.Imm(dst, int32(scale))) // n + p
			scale = 1
		}
		g.binaryOp(e, dst, t.Signed, scale)
	case *lang.UnaryExpr:
		switch e.Op {
		case "!":
			g.boolInto(e, dst)
		case "-":
			g.intInto(e.X, dst)
			g.emit(asm.Neg.Imm(dst, 0))
		case "~":
			g.intInto(e.X, dst)
			g.emit(asm.Xor.Imm(dst, -1))
		case "*":
			g.deref(e, dst)
		default:
			g.fail(e, "operator %s is not supported here", e.Op)
		}
	case *lang.TernaryExpr:
		lElse, lEnd := g.newLabel(), g.newLabel()
		g.jumpIfFalse(e.Cond, lElse)
		g.intInto(e.Then, dst)
		g.ja(lEnd)
		g.mark(lElse)
		g.intInto(e.Else, dst)
		g.mark(lEnd)
	case *lang.CastExpr:
		g.intInto(e.X, dst)
		g.truncate(dst, g.typeOf(e))
	case *lang.FieldExpr:
		g.fieldInt(e, dst)
	case *lang.IncDecExpr:
		g.incDec(e, dst)
	case *lang.IndexExpr:
		g.arrayElem(e, dst)
	default:
		g.fail(e, "cannot compile %s as an integer", e)
	}
}

func (g *gen) loadConst(dst asm.Register, v int64) {
	if v >= -1<<31 && v < 1<<31 {
		g.emit(asm.Mov.Imm(dst, int32(v)))
	} else {
		g.emit(asm.LoadImm(dst, v, asm.DWord))
	}
}

// truncate narrows dst to t's size, sign- or zero-extending back to 64 bits.
func (g *gen) truncate(dst asm.Register, t *lang.Type) {
	if t.Size >= 8 {
		return
	}
	bits := int32(64 - 8*t.Size)
	if t.Signed {
		g.emit(asm.LSh.Imm(dst, bits), asm.ArSh.Imm(dst, bits))
		return
	}
	if t.Size == 4 {
		g.emit(asm.Mov.Reg32(dst, dst))
		return
	}
	g.emit(asm.And.Imm(dst, int32(1)<<(8*t.Size)-1))
}

// loadSX loads a signed integer narrower than 64 bits, sign-extended: one
// sign-extending load where the kernel has them (Linux 6.6), else a plain
// load whose value is shifted up and arithmetically back down.
func (g *gen) loadSX(dst, src asm.Register, off int16, size asm.Size) {
	if g.has(target.SignExtendLoad) {
		g.emit(asm.LoadMemSX(dst, src, off, size))
		return
	}
	bits := int32(64 - 8*size.Sizeof())
	g.emit(asm.LoadMem(dst, src, off, size), asm.LSh.Imm(dst, bits), asm.ArSh.Imm(dst, bits))
}

var aluOps = map[string]asm.ALUOp{
	"+": asm.Add, "-": asm.Sub, "*": asm.Mul, "/": asm.Div, "%": asm.Mod,
	"&": asm.And, "|": asm.Or, "^": asm.Xor, "<<": asm.LSh, ">>": asm.RSh,
}

// binaryOp computes dst = dst op e.Y for an arithmetic operator; dst already
// holds the left operand. A scale above 1 multiplies e.Y first (pointer
// arithmetic: p + n).
func (g *gen) binaryOp(e *lang.BinaryExpr, dst asm.Register, signed bool, scale int64) {
	op, ok := aluOps[e.Op]
	if !ok {
		g.fail(e, "operator %s is not supported here", e.Op)
		return
	}
	if (e.Op == "/" || e.Op == "%") && isZero(e.Y) {
		g.fail(e.Y, "division by zero")
		return
	}
	// A constant 0 divisor that got past the checker (a positional
	// parameter not given: $N reads 0) goes through a register: the
	// verifier rejects an immediate 0 divisor, while at run time BPF
	// defines x/0 == 0 and x%0 == x.
	if c, ok := g.isConst(e.Y); ok && (c != 0 || e.Op != "/" && e.Op != "%") && (scale <= 1 || int64(c)*scale == int64(int32(int64(c)*scale))) {
		if scale > 1 {
			c = int32(int64(c) * scale)
		}
		g.emit(op.Imm(dst, c))
		return
	}
	if r, ok := g.tryTemp(); ok {
		g.intInto(e.Y, r)
		if scale > 1 {
			g.emit(asm.Mul.Imm(r, int32(scale)))
		}
		g.guardDivisor(e.Op, r)
		g.emit(op.Reg(dst, r))
		g.release(r)
		return
	}
	// Out of temporaries: park the left operand on the stack.
	slot := g.alloc(8)
	g.emit(asm.StoreMem(asm.RFP, slot, dst, asm.DWord))
	g.intInto(e.Y, dst)
	if scale > 1 {
		g.emit(asm.Mul.Imm(dst, int32(scale)))
	}
	g.guardDivisor(e.Op, dst)
	g.emit(asm.LoadMem(asm.R1, asm.RFP, slot, asm.DWord), op.Reg(asm.R1, dst), asm.Mov.Reg(dst, asm.R1))
}

// guardDivisor is a no-op: BPF defines x/0 == 0 and x%0 == x, which matches
// bpftrace's behaviour of not faulting.
func (g *gen) guardDivisor(op string, r asm.Register) {}

func isZero(e lang.Expr) bool {
	l, ok := e.(*lang.IntLit)
	return ok && l.Value == 0
}

// boolInto materialises a condition as 0 or 1.
func (g *gen) boolInto(e lang.Expr, dst asm.Register) {
	lTrue, lEnd := g.newLabel(), g.newLabel()
	g.jumpIfTrue(e, lTrue)
	g.emit(asm.Mov.Imm(dst, 0))
	g.ja(lEnd)
	g.mark(lTrue)
	g.emit(asm.Mov.Imm(dst, 1))
	g.mark(lEnd)
}

var cmpOps = map[string][2]asm.JumpOp{
	// unsigned, signed
	"==": {asm.JEq, asm.JEq},
	"!=": {asm.JNE, asm.JNE},
	"<":  {asm.JLT, asm.JSLT},
	"<=": {asm.JLE, asm.JSLE},
	">":  {asm.JGT, asm.JSGT},
	">=": {asm.JGE, asm.JSGE},
}

var negated = map[string]string{"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}

// jumpIfFalse jumps to l when the condition e is false.
func (g *gen) jumpIfFalse(e lang.Expr, l label) {
	switch e := e.(type) {
	case *lang.BinaryExpr:
		switch e.Op {
		case "&&":
			g.jumpIfFalse(e.X, l)
			g.jumpIfFalse(e.Y, l)
			return
		case "||":
			lTrue := g.newLabel()
			g.jumpIfTrue(e.X, lTrue)
			g.jumpIfFalse(e.Y, l)
			g.mark(lTrue)
			return
		}
		if _, ok := cmpOps[e.Op]; ok {
			g.compare(e, negated[e.Op], l)
			return
		}
	case *lang.UnaryExpr:
		if e.Op == "!" {
			g.jumpIfTrue(e.X, l)
			return
		}
	}
	g.withTemp(func(r asm.Register) {
		g.intInto(e, r)
		g.jump(asm.JEq.Imm(r, 0, ""), l)
	})
}

// jumpIfTrue jumps to l when the condition e is true.
func (g *gen) jumpIfTrue(e lang.Expr, l label) {
	switch e := e.(type) {
	case *lang.BinaryExpr:
		switch e.Op {
		case "&&":
			lFalse := g.newLabel()
			g.jumpIfFalse(e.X, lFalse)
			g.jumpIfTrue(e.Y, l)
			g.mark(lFalse)
			return
		case "||":
			g.jumpIfTrue(e.X, l)
			g.jumpIfTrue(e.Y, l)
			return
		}
		if _, ok := cmpOps[e.Op]; ok {
			g.compare(e, e.Op, l)
			return
		}
	case *lang.UnaryExpr:
		if e.Op == "!" {
			g.jumpIfFalse(e.X, l)
			return
		}
	}
	g.withTemp(func(r asm.Register) {
		g.intInto(e, r)
		g.jump(asm.JNE.Imm(r, 0, ""), l)
	})
}

// compare jumps to l when `e.X op e.Y` holds (op may be e.Op or its negation).
func (g *gen) compare(e *lang.BinaryExpr, op string, l label) {
	if g.typeOf(e.X).Kind == lang.KindString {
		g.stringCompare(e, op == "==", l)
		return
	}
	signed := g.typeOf(e.X).Signed || g.typeOf(e.Y).Signed
	jop := cmpOps[op][0]
	if signed {
		jop = cmpOps[op][1]
	}
	g.withTemp(func(a asm.Register) {
		g.intInto(e.X, a)
		if c, ok := g.isConst(e.Y); ok {
			g.jump(jop.Imm(a, c, ""), l)
			return
		}
		if b, ok := g.tryTemp(); ok {
			g.intInto(e.Y, b)
			g.jump(jop.Reg(a, b, ""), l)
			g.release(b)
			return
		}
		slot := g.alloc(8)
		g.emit(asm.StoreMem(asm.RFP, slot, a, asm.DWord))
		g.intInto(e.Y, a)
		g.emit(asm.LoadMem(asm.R1, asm.RFP, slot, asm.DWord))
		g.jump(jop.Reg(asm.R1, a, ""), l)
	})
}

// stringCompare jumps to l when the strings are equal (eq) or differ (!eq).
// Bytes are compared up to and including the first NUL.
func (g *gen) stringCompare(e *lang.BinaryExpr, eq bool, l label) {
	lEqual, lDiffer := g.newLabel(), g.newLabel()
	x, y := e.X, e.Y
	if _, ok := x.(*lang.StrLit); ok {
		x, y = y, x
	}
	xoff := g.memRef(x)
	if lit, ok := y.(*lang.StrLit); ok {
		// Against a literal: one load and one compare per byte.
		n := len(lit.Value) + 1
		if n > g.typeOf(x).Size {
			n = g.typeOf(x).Size
		}
		for i := 0; i < n; i++ {
			var c byte
			if i < len(lit.Value) {
				c = lit.Value[i]
			}
			g.emit(asm.LoadMem(asm.R1, asm.RFP, xoff+int16(i), asm.Byte))
			g.jump(asm.JNE.Imm(asm.R1, int32(c), ""), lDiffer)
		}
	} else {
		yoff := g.memRef(y)
		n := min(g.typeOf(x).Size, g.typeOf(y).Size)
		for i := 0; i < n; i++ {
			g.emit(asm.LoadMem(asm.R1, asm.RFP, xoff+int16(i), asm.Byte),
				asm.LoadMem(asm.R2, asm.RFP, yoff+int16(i), asm.Byte))
			g.jump(asm.JNE.Reg(asm.R1, asm.R2, ""), lDiffer)
			g.jump(asm.JEq.Imm(asm.R1, 0, ""), lEqual)
		}
	}
	g.mark(lEqual)
	if eq {
		g.ja(l)
		g.mark(lDiffer)
	} else {
		lEnd := g.newLabel()
		g.ja(lEnd)
		g.mark(lDiffer)
		g.ja(l)
		g.mark(lEnd)
	}
}

// ---- values in memory: strings and tuples ----

// memRef returns the stack offset of e's value, evaluating it into a new
// buffer unless it already lives on the stack (a variable).
func (g *gen) memRef(e lang.Expr) int16 {
	if v, ok := e.(*lang.VarExpr); ok {
		return g.vars[v.Name]
	}
	size := g.typeOf(e).StorageSize()
	off := g.alloc(size)
	g.memInto(e, off, size)
	return off
}

// memInto writes e's value into the size-byte buffer at fp+off, padding with
// zeros. size is a multiple of 8.
func (g *gen) memInto(e lang.Expr, off int16, size int) {
	t := g.typeOf(e)
	if t.Kind == lang.KindInt {
		g.withTemp(func(r asm.Register) {
			g.intInto(e, r)
			g.emit(asm.StoreMem(asm.RFP, off, r, asm.DWord))
		})
		return
	}
	switch e := e.(type) {
	case *lang.StrLit:
		g.storeBytes(off, size, []byte(e.Value))
	case *lang.PositionalExpr:
		v := ""
		if e.N <= len(g.info.Args) {
			v = g.info.Args[e.N-1]
		}
		g.storeBytes(off, size, []byte(v))
	case *lang.IdentExpr:
		b := builtinVars[e.Name]
		if b == nil || b.memInto == nil {
			g.fail(e, "%s is not a string", e.Name)
			return
		}
		b.memInto(g, e, off, size)
	case *lang.VarExpr:
		g.copyStack(off, g.vars[e.Name], size, g.probe.Vars[e.Name].StorageSize())
	case *lang.CallExpr:
		f := funcs[e.Name]
		if f == nil || f.memInto == nil {
			g.fail(e, "%s() cannot be used as a value here", e.Name)
			return
		}
		f.memInto(g, e, off, size)
	case *lang.MapExpr:
		md := g.maps[e.Name]
		key := g.mapKey(md, e.Keys)
		g.mapLookup(md, key)
		lNull, lEnd := g.newLabel(), g.newLabel()
		g.jump(asm.JEq.Imm(asm.R0, 0, ""), lNull)
		n := min(size, md.ValueSize)
		for i := 0; i < n; i += 8 {
			g.emit(asm.LoadMem(asm.R1, asm.R0, int16(i), asm.DWord),
				asm.StoreMem(asm.RFP, off+int16(i), asm.R1, asm.DWord))
		}
		g.zero(off+int16(n), size-n)
		g.ja(lEnd)
		g.mark(lNull)
		g.zero(off, size)
		g.mark(lEnd)
	case *lang.TupleExpr:
		for i, el := range e.Elems {
			et := t.Elems[i]
			g.memInto(el, off+int16(t.Offsets[i]), et.StorageSize())
		}
		if t.Size < size {
			g.zero(off+int16(t.Size), size-t.Size)
		}
	case *lang.TernaryExpr:
		lElse, lEnd := g.newLabel(), g.newLabel()
		g.jumpIfFalse(e.Cond, lElse)
		g.memInto(e.Then, off, size)
		g.ja(lEnd)
		g.mark(lElse)
		g.memInto(e.Else, off, size)
		g.mark(lEnd)
	case *lang.FieldExpr:
		g.fieldMem(e, off, size)
	default:
		g.fail(e, "cannot compile %s as a value", e)
	}
}

// storeBytes writes data, zero-padded to size bytes, at fp+off.
func (g *gen) storeBytes(off int16, size int, data []byte) {
	buf := make([]byte, (size+7)&^7)
	copy(buf, data)
	if len(data) >= len(buf) && len(buf) > 0 {
		buf[len(buf)-1] = 0 // always NUL-terminated
	}
	for i := 0; i < len(buf); i += 8 {
		v := int64(binary.LittleEndian.Uint64(buf[i:]))
		if v >= -1<<31 && v < 1<<31 {
			g.emit(storeImm(asm.RFP, off+int16(i), v))
			continue
		}
		g.emit(asm.LoadImm(asm.R1, v, asm.DWord), asm.StoreMem(asm.RFP, off+int16(i), asm.R1, asm.DWord))
	}
}

// copyStack copies src (srcSize bytes) to dst (dstSize bytes), zero-padding.
func (g *gen) copyStack(dst, src int16, dstSize, srcSize int) {
	if dst == src {
		return
	}
	n := min(dstSize, srcSize)
	for i := 0; i < n; i += 8 {
		g.emit(asm.LoadMem(asm.R1, asm.RFP, src+int16(i), asm.DWord),
			asm.StoreMem(asm.RFP, dst+int16(i), asm.R1, asm.DWord))
	}
	g.zero(dst+int16(n), dstSize-n)
}

// ---- fields ----

// fieldInt loads an integer field: args->field or tuple.N.
func (g *gen) fieldInt(e *lang.FieldExpr, dst asm.Register) {
	xt := g.typeOf(e.X)
	switch xt.Kind {
	case lang.KindCtx:
		t := g.typeOf(e)
		if g.ap.Proto != nil {
			// fentry/fexit: the context is an array of u64 arguments.
			g.emit(asm.LoadMem(dst, g.ctx(), int16(8*lang.ParamIndex(g.ap.Proto, e.Field)), asm.DWord))
			g.truncate(dst, t)
			return
		}
		f := g.ap.Format.Field(e.Field)
		// t.Size may be narrower than the field: syscall tracepoints
		// store an int argument in 8 bytes (little-endian: the low half first).
		size := map[int]asm.Size{1: asm.Byte, 2: asm.Half, 4: asm.Word, 8: asm.DWord}[t.Size]
		if t.Signed && t.Size < 8 {
			g.loadSX(dst, g.ctx(), int16(f.Offset), size)
		} else {
			g.emit(asm.LoadMem(dst, g.ctx(), int16(f.Offset), size))
		}
	case lang.KindTuple:
		off := g.memRef(e.X)
		i := tupleIndex(e.Field)
		g.emit(asm.LoadMem(dst, asm.RFP, off+int16(xt.Offsets[i]), asm.DWord))
	case lang.KindInt, lang.KindRecord:
		g.kernelField(e, dst)
	default:
		g.fail(e, "cannot read field %s", e.Field)
	}
}

// kernelField reads ptr->field or record.field of a kernel type. A field
// that is itself a struct is not read: its value is its address, so chains
// like curtask->mm->... only read the pointers they follow.
func (g *gen) kernelField(e *lang.FieldExpr, dst asm.Register) {
	m := g.info.Fields[e]
	t := g.typeOf(e)
	g.intInto(e.X, dst) // the pointer, or the record's address
	if t.Kind == lang.KindRecord {
		if m.Offset != 0 {
			g.emit(asm.Add.Imm(dst, int32(m.Offset)))
		}
		return
	}
	size := t.Size
	if t.Ptr {
		size = 8
	}
	slot := g.alloc(8)
	g.emit(storeImm(asm.RFP, slot, 0))
	g.addr(asm.R1, slot)
	g.emit(asm.Mov.Imm(asm.R2, int32(size)), asm.Mov.Reg(asm.R3, dst), asm.Add.Imm(asm.R3, int32(m.Offset)))
	g.readCall(readHelper(g.typeOf(e.X).User), e)
	width := map[int]asm.Size{1: asm.Byte, 2: asm.Half, 4: asm.Word, 8: asm.DWord}[size]
	switch {
	case m.BitfieldSize > 0:
		g.emit(asm.LoadMem(dst, asm.RFP, slot, width))
		if m.BitOffset > 0 {
			g.emit(asm.RSh.Imm(dst, int32(m.BitOffset)))
		}
		if m.BitfieldSize < 32 {
			g.emit(asm.And.Imm(dst, int32(1)<<m.BitfieldSize-1))
		}
	case t.Signed && size < 8:
		g.loadSX(dst, asm.RFP, slot, width)
	default:
		g.emit(asm.LoadMem(dst, asm.RFP, slot, width))
	}
}

// readCall emits a memory-reading helper call made for node at. With
// Options.HelperErrors, a failure sends an event naming the call site.
func (g *gen) readCall(fn asm.BuiltinFunc, at lang.Spanned) {
	g.emit(fn.Call())
	if !g.opts.HelperErrors {
		return
	}
	g.helperResult(helperName(fn), at)
}

// helperResult reports a helper call that returned an error (R0 < 0) to
// user space, which prints it at the script position at (-k).
func (g *gen) helperResult(helper string, at lang.Spanned) {
	lOK := g.newLabel()
	g.jump(asm.JSGE.Imm(asm.R0, 0, ""), lOK)
	g.helperError(helper, at)
	g.mark(lOK)
}

// helperError sends the helper-error event for a call at at, with R0 as
// its result. It clobbers R0-R5.
func (g *gen) helperError(helper string, at lang.Spanned) {
	idx := len(g.prog.HelperSites)
	g.prog.HelperSites = append(g.prog.HelperSites, HelperSite{Helper: helper, Src: g.src, Span: at.NodeSpan()})
	off := g.alloc(16)
	g.emit(asm.StoreMem(asm.RFP, off+8, asm.R0, asm.DWord))
	g.storeHeader(off, EventHelperErr, idx)
	g.output(off, 16)
}

func helperName(fn asm.BuiltinFunc) string {
	switch fn {
	case asm.FnProbeRead:
		return "probe_read"
	case asm.FnProbeReadStr:
		return "probe_read_str"
	case asm.FnProbeReadUser:
		return "probe_read_user"
	case asm.FnProbeReadKernel:
		return "probe_read_kernel"
	case asm.FnProbeReadUserStr:
		return "probe_read_user_str"
	case asm.FnProbeReadKernelStr:
		return "probe_read_kernel_str"
	}
	return fn.String()
}

// readHelper picks the probe-read helper for kernel or user memory.
func readHelper(user bool) asm.BuiltinFunc {
	if user {
		return asm.FnProbeReadUser
	}
	return asm.FnProbeReadKernel
}

// fieldMem writes a string-valued field into fp+off.
func (g *gen) fieldMem(e *lang.FieldExpr, off int16, size int) {
	xt := g.typeOf(e.X)
	switch xt.Kind {
	case lang.KindCtx:
		f := g.ap.Format.Field(e.Field)
		g.zero(off, size)
		if f.DataLoc {
			// The u32 at the field holds (length << 16 | offset) of the
			// string inside the record.
			g.emit(asm.LoadMem(asm.R3, g.ctx(), int16(f.Offset), asm.Word),
				asm.And.Imm(asm.R3, 0xffff),
				asm.Add.Reg(asm.R3, g.ctx()))
			g.addr(asm.R1, off)
			g.emit(asm.Mov.Imm(asm.R2, int32(size)))
			g.readCall(asm.FnProbeReadKernelStr, e)
			return
		}
		n := min(f.ArrayLen, size)
		g.addr(asm.R1, off)
		g.emit(asm.Mov.Imm(asm.R2, int32(n)), asm.Mov.Reg(asm.R3, g.ctx()), asm.Add.Imm(asm.R3, int32(f.Offset)))
		g.readCall(asm.FnProbeReadKernel, e)
	case lang.KindTuple:
		src := g.memRef(e.X)
		i := tupleIndex(e.Field)
		g.copyStack(off, src+int16(xt.Offsets[i]), size, xt.Elems[i].StorageSize())
	case lang.KindInt, lang.KindRecord:
		// A char array member: copy its bytes (NUL-padded in the kernel).
		m := g.info.Fields[e]
		n := min(g.typeOf(e).Size, size)
		g.zero(off, size)
		g.withTemp(func(r asm.Register) {
			g.intInto(e.X, r)
			g.addr(asm.R1, off)
			g.emit(asm.Mov.Imm(asm.R2, int32(n)), asm.Mov.Reg(asm.R3, r), asm.Add.Imm(asm.R3, int32(m.Offset)))
			g.readCall(readHelper(xt.User), e)
		})
	default:
		g.fail(e, "cannot read field %s", e.Field)
	}
}

func tupleIndex(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func (g *gen) sizeof(e *lang.SizeofExpr) int64 {
	if e.X != nil {
		t := g.typeOf(e.X)
		if t.Kind == lang.KindInt {
			return int64(t.Size)
		}
		return int64(t.Size)
	}
	if e.Type.Pointers > 0 {
		return 8
	}
	if n, ok := g.info.Sizes[e]; ok && strings.ContainsAny(e.Type.Name, " ") {
		return n
	}
	switch e.Type.Name {
	case "int8", "uint8", "u8", "s8", "char", "bool":
		return 1
	case "int16", "uint16", "u16", "s16", "short":
		return 2
	case "int32", "uint32", "u32", "s32", "int", "unsigned int":
		return 4
	}
	return 8
}

// incDec implements ++/-- on variables and map entries; dst gets the value
// of the expression (new value for prefix, old for postfix).
func (g *gen) incDec(e *lang.IncDecExpr, dst asm.Register) {
	delta := int32(1)
	if e.Op == "--" {
		delta = -1
	}
	switch x := e.X.(type) {
	case *lang.VarExpr:
		off := g.vars[x.Name]
		g.emit(asm.LoadMem(dst, asm.RFP, off, asm.DWord), asm.Add.Imm(dst, delta),
			asm.StoreMem(asm.RFP, off, dst, asm.DWord))
	case *lang.MapExpr:
		md := g.maps[x.Name]
		g.mapReadInt(md, x, dst)
		g.emit(asm.Add.Imm(dst, delta))
		g.mapStoreInt(md, x, dst)
	}
	if !e.Prefix {
		g.emit(asm.Add.Imm(dst, -delta))
	}
}

// arrayElem loads args->array[i]. A constant index is a direct load from
// the record; a computed one is bounds-checked and read with
// bpf_probe_read_kernel, since the verifier refuses variable context offsets.
func (g *gen) arrayElem(e *lang.IndexExpr, dst asm.Register) {
	if scale, ok := g.info.Scales[e]; ok {
		g.pointerElem(e, scale, dst)
		return
	}
	fe := e.X.(*lang.FieldExpr)
	f := g.ap.Format.Field(fe.Field)
	t := g.typeOf(e)
	size := map[int]asm.Size{1: asm.Byte, 2: asm.Half, 4: asm.Word, 8: asm.DWord}[t.Size]
	if i, ok := g.isConst(e.Index); ok {
		off := int16(f.Offset + int(i)*t.Size)
		if t.Signed && t.Size < 8 {
			g.loadSX(dst, g.ctx(), off, size)
		} else {
			g.emit(asm.LoadMem(dst, g.ctx(), off, size))
		}
		return
	}
	slot := g.alloc(8)
	g.emit(storeImm(asm.RFP, slot, 0))
	g.intInto(e.Index, dst)
	lOut := g.newLabel()
	g.jump(asm.JGE.Imm(dst, int32(f.ArrayLen), ""), lOut)
	g.emit(asm.Mul.Imm(dst, int32(t.Size)), asm.Add.Imm(dst, int32(f.Offset)),
		asm.Mov.Reg(asm.R3, g.ctx()), asm.Add.Reg(asm.R3, dst))
	g.addr(asm.R1, slot)
	g.emit(asm.Mov.Imm(asm.R2, int32(t.Size)))
	g.readCall(asm.FnProbeReadKernel, e)
	g.mark(lOut)
	if t.Signed && t.Size < 8 {
		g.loadSX(dst, asm.RFP, slot, size)
	} else {
		g.emit(asm.LoadMem(dst, asm.RFP, slot, size))
	}
}

// deref reads *p from kernel (or user) memory.
// pointerElem reads p[i], the element at p + i*scale.
func (g *gen) pointerElem(e *lang.IndexExpr, scale int64, dst asm.Register) {
	t := g.typeOf(e)
	size := t.Size
	if t.Ptr || size == 0 {
		size = 8
	}
	g.intInto(e.X, dst)
	if i, ok := g.isConst(e.Index); ok {
		g.emit(asm.Add.Imm(dst, int32(int64(i)*scale)))
	} else {
		g.withTemp(func(r asm.Register) {
			g.intInto(e.Index, r)
			g.emit(asm.Mul.Imm(r, int32(scale)), asm.Add.Reg(dst, r))
		})
	}
	slot := g.alloc(8)
	g.emit(storeImm(asm.RFP, slot, 0))
	g.addr(asm.R1, slot)
	g.emit(asm.Mov.Imm(asm.R2, int32(size)), asm.Mov.Reg(asm.R3, dst))
	g.readCall(readHelper(g.typeOf(e.X).User), e)
	width := map[int]asm.Size{1: asm.Byte, 2: asm.Half, 4: asm.Word, 8: asm.DWord}[size]
	if t.Signed && size < 8 {
		g.loadSX(dst, asm.RFP, slot, width)
	} else {
		g.emit(asm.LoadMem(dst, asm.RFP, slot, width))
	}
}

func (g *gen) deref(e *lang.UnaryExpr, dst asm.Register) {
	t := g.typeOf(e)
	size := t.Size
	if t.Ptr || size == 0 {
		size = 8
	}
	p := g.intIntoArg3(e.X, dst)
	slot := g.alloc(8)
	g.emit(storeImm(asm.RFP, slot, 0))
	g.addr(asm.R1, slot)
	g.emit(asm.Mov.Imm(asm.R2, int32(size)))
	g.movR3(p)
	g.readCall(readHelper(g.typeOf(e.X).User), e)
	width := map[int]asm.Size{1: asm.Byte, 2: asm.Half, 4: asm.Word, 8: asm.DWord}[size]
	if t.Signed && size < 8 {
		g.loadSX(dst, asm.RFP, slot, width)
	} else {
		g.emit(asm.LoadMem(dst, asm.RFP, slot, width))
	}
}

// intIntoArg3 compiles e into r for a helper's third argument, to be
// copied to R3 once R1 and R2 are set, and returns where the value is.
// When e is a single load or move (a context field, a constant) it goes
// straight into R3 instead: nothing between it and the call touches R3,
// and the copy is saved. The caller copies with movR3, which knows.
func (g *gen) intIntoArg3(e lang.Expr, r asm.Register) asm.Register {
	start := len(g.insns)
	g.intInto(e, r)
	if len(g.insns) != start+1 {
		return r
	}
	in := &g.insns[start]
	switch in.OpCode.Class() {
	case asm.LdXClass, asm.LdClass:
	case asm.ALU64Class:
		if in.OpCode.ALUOp() != asm.Mov {
			return r
		}
	default:
		return r
	}
	if in.Dst != r || in.Src == r {
		return r
	}
	in.Dst = asm.R3
	return asm.R3
}

// movR3 copies p, from intIntoArg3, to R3 unless it is there already.
func (g *gen) movR3(p asm.Register) {
	if p != asm.R3 {
		g.emit(asm.Mov.Reg(asm.R3, p))
	}
}
