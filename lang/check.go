package lang

import (
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/target"
)

// Env is what the checker needs to know about the world outside the script:
// the machine it compiles for (Target) and the user's settings. The checker
// reads nothing else: the command line reads the environment and the
// machine, tests pass a recorded target.
type Env struct {
	// Target answers every question about the machine: tracepoints,
	// kernel types, symbols, binaries, features. A nil Target knows
	// nothing: scripts that need the machine fail to check.
	Target target.Target
	StrLen int      // string capacity in bytes (BPFTRACE_STRLEN, default 64)
	Args   []string // positional parameters $1..$N
	Unsafe bool     // --unsafe: allow system() and signal()
	PID    int      // -p PID: uprobe library names resolve in this process's maps
	// Command is set when a command is run and traced (-c): cpid is its
	// process id.
	Command bool
}

// DefaultStrLen is the capacity of strings when Env.StrLen is 0.
const DefaultStrLen = 64

func (e *Env) strLen() int {
	if e.StrLen > 0 {
		return e.StrLen
	}
	return DefaultStrLen
}

func (e *Env) target() target.Target {
	if e.Target == nil {
		return target.None{}
	}
	return e.Target
}

// Info is what the checker learned: the type of every expression, every
// map's key and value types, and each probe's attach points and variables.
type Info struct {
	Src *Source
	// Target is the machine the program was checked for. Code generation
	// asks it about features (sign-extending loads, comm padding) and
	// nothing else.
	Target target.Target
	Types  map[Expr]*Type
	// Fields are the kernel struct members that FieldExprs on kernel
	// types resolved to.
	Fields map[*FieldExpr]Member
	// Consts are identifiers that name kernel constants (AF_INET, enums).
	Consts map[*IdentExpr]int64
	// Addrs are the addresses kaddr() and uaddr() calls resolved to:
	// kaddr's under the key "", uaddr's under the path of each binary the
	// probe attaches to.
	Addrs map[*CallExpr]map[string]uint64
	// Sizes are sizeof() of kernel types, from BTF.
	Sizes map[*SizeofExpr]int64
	// Scales are pointer arithmetic's: p + n moves p by n times the size
	// of what it points to. Keyed by the BinaryExpr, or by the AssignStmt
	// of a compound p += n.
	Scales map[Node]int64
	Maps   map[string]*MapInfo
	Probes []*ProbeInfo
	// Args are the positional parameters $1..$N.
	Args []string
	// StrLen is the capacity of strings read by str() (BPFTRACE_STRLEN).
	StrLen int
	// CallsExit is set when the script calls exit(): every probe then
	// stops counting as soon as one has called it.
	CallsExit bool
}

// MapInfo is a map's shape, fixed by its first use.
type MapInfo struct {
	Name  string
	Key   *Type // nil for a map without keys (@x)
	Value *Type
	First Span // where the value type was fixed
}

// MapNames returns the map names in sorted order (the order they print in).
func (in *Info) MapNames() []string {
	names := make([]string, 0, len(in.Maps))
	for n := range in.Maps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ProbeInfo is a checked probe.
type ProbeInfo struct {
	Probe  *Probe
	Attach []*AttachPoint
	Vars   map[string]*Type
}

type checker struct {
	src   *Source
	env   *Env
	info  *Info
	probe *ProbeInfo
	errs  ErrorList
	quiet bool // first pass: only learn map types
	// emptyWildcards are kprobe wildcards that matched nothing, in probes
	// left with no attach point (see dropEmptyWildcards).
	emptyWildcards []*AttachPoint
	// formatArg is the format literal of the call being checked.
	formatArg *StrLit
	loops     int // while nesting depth
	// failed holds the $variables and @maps whose assigned value had an
	// error, so reading them later does not add a second error.
	failed map[string]bool
}

// Check resolves and type-checks prog. On failure the error is an ErrorList.
func Check(prog *Program, src *Source, env *Env) (*Info, error) {
	if env == nil {
		env = &Env{}
	}
	c := &checker{src: src, env: env, info: &Info{Src: src, Target: env.target(), Maps: map[string]*MapInfo{}, Args: env.Args, StrLen: env.strLen()}}
	// Attach points first: they decide what args/retval mean.
	for _, p := range prog.Probes {
		pi := &ProbeInfo{Probe: p}
		for _, s := range p.Specs {
			pi.Attach = append(pi.Attach, c.expandSpec(s)...)
		}
		pi.Attach = c.dropMissing(pi.Attach) // probes.go
		for _, ap := range pi.Attach {
			if (ap.Kind == "fentry" || ap.Kind == "fexit") && !ap.Wildcard && ap.Proto == nil {
				proto, err := c.kernelFuncProto(ap.Func)
				if err != nil {
					c.errorf(ap.Spec, "%v", err)
					continue
				}
				ap.Proto = proto
			}
		}
		c.info.Probes = append(c.info.Probes, pi)
	}
	c.dropEmptyWildcards() // probes.go
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	// Two passes: the first learns map types from assignments anywhere in
	// the script (a map may be read in a probe before the one that writes
	// it), the second checks everything and reports errors.
	for pass := 0; pass < 2; pass++ {
		c.quiet = pass == 0
		c.info.Types = map[Expr]*Type{}
		c.info.Fields = map[*FieldExpr]Member{}
		c.info.Consts = map[*IdentExpr]int64{}
		c.info.Addrs = map[*CallExpr]map[string]uint64{}
		c.info.Sizes = map[*SizeofExpr]int64{}
		c.info.Scales = map[Node]int64{}
		c.errs = nil
		c.failed = map[string]bool{}
		for _, pi := range c.info.Probes {
			c.probe = pi
			pi.Vars = map[string]*Type{}
			if pi.Probe.Pred != nil {
				if t := c.expr(pi.Probe.Pred); t != nil && t.Kind != KindInt {
					c.errorf(pi.Probe.Pred, "predicate must be an integer condition, got %s", t)
				}
			}
			c.block(pi.Probe.Body)
		}
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return c.info, nil
}

func (c *checker) errorf(n Spanned, format string, args ...any) {
	if c.quiet {
		return
	}
	c.errs = append(c.errs, Errorf(c.src, n, format, args...))
}

func (c *checker) block(b *Block) {
	for _, s := range b.Stmts {
		c.stmt(s)
	}
}

func (c *checker) stmt(s Stmt) {
	switch s := s.(type) {
	case *Block:
		c.block(s)
	case *ExprStmt:
		if call, ok := s.X.(*CallExpr); ok {
			if f := Funcs[call.Name]; f != nil && f.Agg {
				c.errorf(call, "%s() must be assigned to a map, e.g. @x = %s", call.Name, call)
				return
			}
		}
		if id, ok := s.X.(*IdentExpr); ok && BuiltinVars[id.Name] == nil {
			if kw := misspeltKeyword(id.Name); kw != "" && Funcs[id.Name] == nil {
				c.errorf(id, "unknown keyword '%s' — did you mean '%s'?", id.Name, kw)
				return
			}
			c.expr(id) // unknown builtin, or a function without ()
			return
		}
		if t, ok := s.X.(*TernaryExpr); ok {
			// c ? printf("a") : printf("b"); runs one of its branches.
			c.cond(t.Cond, "?:")
			c.stmt(&ExprStmt{X: t.Then, Span: t.Then.NodeSpan()})
			c.stmt(&ExprStmt{X: t.Else, Span: t.Else.NodeSpan()})
			return
		}
		// An expression with no effect (1; probe;) is allowed, as in
		// bpftrace: it compiles to nothing, or to its evaluation.
		t := c.expr(s.X)
		// A function that only makes a value (str, buf, ksym...) does
		// nothing as a statement.
		if call, ok := s.X.(*CallExpr); ok && t != nil && t.Kind != KindNone && t.Kind != KindInt {
			c.errorf(call, "the value of %s() is not used; assign it or print it, e.g. print(%s)", call.Name, call)
		}
	case *AssignStmt:
		c.assign(s)
	case *IfStmt:
		c.cond(s.Cond, "if")
		c.block(s.Then)
		if s.Else != nil {
			c.stmt(s.Else)
		}
	case *WhileStmt:
		c.cond(s.Cond, "while")
		c.loops++
		c.block(s.Body)
		c.loops--
	case *UnrollStmt:
		n, ok := c.constInt(s.Count)
		switch {
		case !ok:
			c.errorf(s.Count, "unroll count must be an integer literal from 1 to 100 (the loop is unrolled when compiling)")
		case n < 1:
			c.errorf(s.Count, "unroll minimum value is 1, got %d", n)
		case n > 100:
			c.errorf(s.Count, "unroll maximum value is 100, got %d", n)
		}
		c.block(s.Body)
	case *JumpStmt:
		if s.Keyword != "return" && c.loops == 0 {
			c.errorf(s, "%s outside of a while loop", s.Keyword)
		}
	}
}

func (c *checker) cond(e Expr, what string) {
	if t := c.expr(e); t != nil && t.Kind != KindInt {
		c.errorf(e, "%s condition must be an integer, got %s", what, t)
	}
}

func (c *checker) assign(s *AssignStmt) {
	call, _ := s.Value.(*CallExpr)
	if call != nil && Funcs[call.Name] != nil && Funcs[call.Name].Agg {
		m, ok := s.Target.(*MapExpr)
		if !ok {
			c.errorf(s.Target, "%s() can only be assigned to a map, e.g. @x = %s", call.Name, call)
			return
		}
		if s.Op != "=" {
			c.errorf(s, "use = to assign %s(), not %s", call.Name, s.Op)
			return
		}
		vt := c.expr(call)
		if vt == nil {
			c.failed[m.Name] = true
		}
		c.mapUse(m, vt, call)
		return
	}
	vt := c.expr(s.Value)
	if vt == nil || vt.Kind == KindNone || vt.Kind == KindCtx {
		// The error is reported once, here: later reads of the target
		// must not add "used before it is assigned".
		switch t := s.Target.(type) {
		case *VarExpr:
			c.failed[t.String()] = true
		case *MapExpr:
			c.failed[t.Name] = true
		}
	}
	if vt == nil {
		return
	}
	if vt.Kind == KindNone {
		c.errorf(s.Value, "%s has no value to assign", s.Value)
		return
	}
	if vt.Kind == KindCtx {
		c.errorf(s.Value, "args cannot be stored; store one of its fields instead, e.g. args->%s", c.someField())
		return
	}
	if v, ok := c.constInt(s.Value); ok && v == 0 && (s.Op == "/=" || s.Op == "%=") {
		c.errorf(s.Value, "division by zero: the divisor is always 0")
		return
	}
	if s.Op != "=" && vt.Kind != KindInt {
		c.errorf(s.Value, "%s needs an integer, got %s", s.Op, vt)
		return
	}
	switch t := s.Target.(type) {
	case *VarExpr:
		old := c.probe.Vars[t.Name]
		if s.Op != "=" {
			if old == nil {
				c.errorf(t, "variable $%s is used before it is assigned", t.Name)
				return
			}
			if old.Kind != KindInt {
				c.errorf(t, "%s needs an integer variable, $%s is %s", s.Op, t.Name, old)
				return
			}
			if old.Ptr && (s.Op == "+=" || s.Op == "-=") {
				c.info.Scales[s] = pointeeSize(old)
			}
			c.info.Types[t] = old
			return
		}
		if old != nil && !old.Equal(vt) {
			c.errorf(s.Value, "type mismatch: $%s is %s, cannot assign %s", t.Name, old, vt)
			return
		}
		if old == nil || (vt.Kind == KindString && vt.Size > old.Size) {
			// An integer variable keeps the width of its first value, as
			// in bpftrace (sizeof((uint16)x) is 2, and so is sizeof of a
			// variable holding it): bswap() swaps that many bytes, and
			// later values are truncated to it when stored.
			nt := *vt
			c.probe.Vars[t.Name] = &nt
		}
		c.info.Types[t] = c.probe.Vars[t.Name]
	case *MapExpr:
		if s.Op != "=" {
			mi := c.info.Maps[t.Name]
			if mi != nil && mi.Value.Kind != KindInt {
				c.errorf(t, "%s needs an integer map, %s holds %s", s.Op, t.Name, mi.Value)
				return
			}
		}
		nt := *vt
		if nt.Kind == KindInt {
			nt.Size = 8
		}
		c.mapUse(t, &nt, s.Value)
	default:
		c.errorf(s.Target, "cannot assign to %s; assign to a $variable or an @map", s.Target)
	}
}

// mapUse records that map m holds values of type vt (set by node at).
func (c *checker) mapUse(m *MapExpr, vt *Type, at Spanned) {
	kt := c.mapKey(m)
	if vt == nil || (len(m.Keys) > 0 && kt == nil) {
		return
	}
	mi := c.info.Maps[m.Name]
	if mi == nil {
		c.info.Maps[m.Name] = &MapInfo{Name: m.Name, Key: kt, Value: vt, First: at.NodeSpan()}
		c.info.Types[m] = vt
		return
	}
	if !mi.Value.Equal(vt) {
		if vt.Kind == KindLhist && mi.Value.Kind == KindLhist {
			c.errorf(at, "map %s is lhist(x, %d, %d, %d) at %s but lhist(x, %d, %d, %d) here: every lhist() of a map needs the same min, max and step",
				m.Name, mi.Value.LhistMin, mi.Value.LhistMax, mi.Value.LhistStep, c.src.Position(mi.First.Start), vt.LhistMin, vt.LhistMax, vt.LhistStep)
			return
		}
		c.errorf(at, "map %s used as %s here but as %s at %s", m.Name, vt, mi.Value, c.src.Position(mi.First.Start))
		return
	}
	mi.Value = widest(mi.Value, vt)
	c.info.Types[m] = mi.Value
}

// mapKey types the keys of m and checks them against earlier uses.
func (c *checker) mapKey(m *MapExpr) *Type {
	var kt *Type
	switch len(m.Keys) {
	case 0:
	case 1:
		kt = c.keyType(m.Keys[0])
	default:
		elems := make([]*Type, len(m.Keys))
		for i, k := range m.Keys {
			if elems[i] = c.keyType(k); elems[i] == nil {
				return nil
			}
		}
		kt = TupleType(elems)
	}
	if kt == nil && len(m.Keys) > 0 {
		return nil
	}
	if mi := c.info.Maps[m.Name]; mi != nil {
		switch {
		case (mi.Key == nil) != (kt == nil):
			if kt == nil {
				c.errorf(m, "map %s needs a key here, e.g. %s[...]", m.Name, m.Name)
			} else {
				c.errorf(m, "map %s has no keys elsewhere (first used at %s)", m.Name, c.src.Position(mi.First.Start))
			}
			return nil
		case kt != nil && !mi.Key.Equal(kt):
			c.errorf(m, "map %s key is %s here but %s at %s", m.Name, kt, mi.Key, c.src.Position(mi.First.Start))
			return nil
		case kt != nil:
			mi.Key = widest(mi.Key, kt)
		}
	}
	return kt
}

func (c *checker) keyType(e Expr) *Type {
	t := c.expr(e)
	if t == nil {
		return nil
	}
	switch t.Kind {
	case KindInt:
		nt := *t
		nt.Size = 8
		return &nt
	case KindString, KindTuple, KindStack, KindKsym, KindUsym, KindUsername, KindInet, KindTimestamp, KindBuf:
		return t
	}
	c.errorf(e, "%s cannot be a map key", t)
	return nil
}

// expr types e, records the type and returns it (nil after an error).
func (c *checker) expr(e Expr) *Type {
	t := c.exprType(e)
	if t != nil {
		c.info.Types[e] = t
	}
	return t
}

func (c *checker) exprType(e Expr) *Type {
	switch e := e.(type) {
	case *IntLit:
		return TypeInt64
	case *StrLit:
		// Format strings are never stored in BPF memory, so they may be
		// longer than a string value.
		if len(e.Value)+1 > c.env.strLen() && c.env.strLen() < 200 && !c.isFormat(e) {
			c.errorf(e, "String is too long (over %d bytes): %s", c.env.strLen(), e.Value)
			return nil
		}
		return StringType(len(e.Value) + 1)
	case *PositionalExpr:
		if e.Count {
			return TypeInt64
		}
		if v := c.positional(e.N); v != "" {
			if _, err := strconv.ParseInt(v, 0, 64); err != nil {
				return StringType(len(v) + 1)
			}
		}
		return TypeInt64
	case *IdentExpr:
		b := BuiltinVars[e.Name]
		if b == nil && Funcs[e.Name] != nil {
			c.errorf(e, "%s is a function: call it with parentheses, e.g. %s(%s)", e.Name, e.Name, exampleArgs(Funcs[e.Name]))
			return nil
		}
		if b == nil {
			if v, ok := c.kernelConstant(e.Name); ok {
				c.info.Consts[e] = v
				return TypeInt64
			}
			c.errorf(e, "unknown builtin '%s'%s", e.Name, didYouMean(e.Name, builtinNames()))
			return nil
		}
		return b.Type(c, e)
	case *VarExpr:
		t := c.probe.Vars[e.Name]
		if t == nil && !c.failed[e.String()] {
			c.errorf(e, "variable $%s is used before it is assigned", e.Name)
		}
		return t
	case *MapExpr:
		kt := c.mapKey(e)
		if kt == nil && len(e.Keys) > 0 {
			return nil
		}
		mi := c.info.Maps[e.Name]
		if mi == nil && c.quiet {
			// First pass: the map may be assigned later in the script
			// (@x = @x + 1 reads it before any assignment is seen).
			return TypeInt64
		}
		if mi == nil {
			if !c.failed[e.Name] {
				c.errorf(e, "map %s is read but never assigned", e.Name)
			}
			return nil
		}
		switch mi.Value.Kind {
		case KindCount, KindSum, KindMin, KindMax, KindAvg:
			return TypeInt64
		case KindStats, KindHist, KindLhist:
			c.errorf(e, "map %s holds %s and cannot be used as a value; print(%s) prints it", e.Name, mi.Value, e.Name)
			return nil
		}
		return mi.Value
	case *CallExpr:
		return c.call(e)
	case *BinaryExpr:
		return c.binary(e)
	case *UnaryExpr:
		t := c.expr(e.X)
		if t == nil {
			return nil
		}
		if t.Kind != KindInt {
			c.errorf(e, "operator %s needs an integer, got %s", e.Op, t)
			return nil
		}
		switch e.Op {
		case "!":
			return TypeInt64
		case "-":
			return TypeInt64
		case "~":
			return &Type{Kind: KindInt, Size: 8, Signed: t.Signed}
		}
		if e.Op == "*" {
			// *p reads kernel memory: the pointee's type when the pointer
			// has one from BTF, else 8 bytes.
			if t.Ptr && t.BTF != nil {
				pt, err := fromBTF(t.BTF, t.User)
				if err != nil || pt.Kind == KindRecord {
					c.errorf(e, "cannot dereference %s here; read one of its fields with ->", t)
					return nil
				}
				return pt
			}
			return TypeInt64
		}
		c.errorf(e, "taking the address of %s is not supported", e.X)
		return nil
	case *IncDecExpr:
		switch x := e.X.(type) {
		case *VarExpr:
			t := c.expr(x)
			if t != nil && t.Kind != KindInt {
				c.errorf(e, "%s needs an integer variable", e.Op)
				return nil
			}
			return t
		case *MapExpr:
			if mi := c.info.Maps[x.Name]; mi == nil {
				c.mapUse(x, TypeInt64, e)
			}
			t := c.expr(x)
			if t != nil && t.Kind != KindInt {
				c.errorf(e, "%s needs an integer map", e.Op)
				return nil
			}
			return TypeInt64
		}
		c.errorf(e, "%s applies to $variables and @maps only", e.Op)
		return nil
	case *TernaryExpr:
		c.cond(e.Cond, "?:")
		a, b := c.expr(e.Then), c.expr(e.Else)
		if a == nil || b == nil {
			return nil
		}
		if !a.Equal(b) {
			c.errorf(e, "both branches of ?: must have the same type, got %s and %s", a, b)
			return nil
		}
		if a.Kind == KindString && b.Size > a.Size {
			return b
		}
		if a.Kind == KindInt {
			return TypeInt64
		}
		return a
	case *FieldExpr:
		return c.field(e)
	case *TupleExpr:
		elems := make([]*Type, len(e.Elems))
		for i, x := range e.Elems {
			t := c.expr(x)
			if t == nil {
				return nil
			}
			switch t.Kind {
			case KindInt, KindString, KindTuple, KindTimestamp, KindKsym, KindUsym, KindUsername, KindInet, KindBuf, KindStack:
			default:
				c.errorf(x, "%s cannot be a tuple element", t)
				return nil
			}
			if t.Kind == KindInt {
				nt := *t
				nt.Size = 8
				t = &nt
			}
			elems[i] = t
		}
		return TupleType(elems)
	case *CastExpr:
		t := c.expr(e.X)
		if t == nil {
			return nil
		}
		if e.Type.Pointers > 0 {
			if t.Kind != KindInt {
				c.errorf(e.X, "cannot cast %s to %s", t, e.Type)
				return nil
			}
			pt := c.pointerCast(e.Type)
			if pt != nil && t.User {
				// A user pointer stays one whatever it is cast to.
				pt.User = true
			}
			return pt
		}
		size, signed, ok := intTypeName(e.Type)
		if !ok {
			c.errorf(e.Type, "cast to %s is not supported; integer casts are (uint8), (int32), ..., pointer casts (struct task_struct *)", e.Type)
			return nil
		}
		if t.Kind != KindInt {
			c.errorf(e.X, "cannot cast %s to %s", t, e.Type)
			return nil
		}
		return IntType(size, signed)
	case *SizeofExpr:
		if e.Type != nil {
			if _, _, ok := intTypeName(e.Type); ok {
				return TypeUint64
			}
			bt, err := c.btfNamed(e.Type.Name)
			if err != nil {
				c.errorf(e.Type, "%v", err)
				return nil
			}
			if n, err := btf.Sizeof(bt); err == nil {
				c.info.Sizes[e] = int64(n)
			}
			return TypeUint64
		}
		if c.expr(e.X) == nil {
			return nil
		}
		return TypeUint64
	case *IndexExpr:
		return c.index(e)
	}
	c.errorf(e, "unsupported expression %s", e)
	return nil
}

// isFormat reports whether lit is the format of printf, system or cat.
func (c *checker) isFormat(lit *StrLit) bool {
	return c.formatArg == lit
}

func (c *checker) positional(n int) string {
	if n >= 1 && n <= len(c.env.Args) {
		return c.env.Args[n-1]
	}
	return ""
}

func (c *checker) call(e *CallExpr) *Type {
	f := Funcs[e.Name]
	if f == nil && BuiltinVars[e.Name] != nil {
		c.errorf(e, "%s is a builtin variable, not a function: write %s without parentheses", e.Name, e.Name)
		return nil
	}
	if f == nil {
		c.errorf(e, "unknown function '%s'%s", e.Name, didYouMean(e.Name, funcNames()))
		return nil
	}
	if len(e.Args) < f.MinArgs || len(e.Args) > f.MaxArgs {
		switch {
		case f.MinArgs == f.MaxArgs:
			c.errorf(e, "%s() takes %d argument(s), %d given", e.Name, f.MinArgs, len(e.Args))
		default:
			c.errorf(e, "%s() takes %d to %d arguments, %d given", e.Name, f.MinArgs, f.MaxArgs, len(e.Args))
		}
		return nil
	}
	if e.Name == "printf" || e.Name == "system" || e.Name == "cat" {
		if lit, ok := e.Args[0].(*StrLit); ok {
			c.formatArg = lit
		}
	}
	args := make([]*Type, len(e.Args))
	for i, a := range e.Args {
		if f.RawArgs {
			break // the function types its own arguments
		}
		if args[i] = c.expr(a); args[i] == nil {
			return nil
		}
	}
	return f.Type(c, e, args)
}

func (c *checker) binary(e *BinaryExpr) *Type {
	a, b := c.expr(e.X), c.expr(e.Y)
	if a == nil || b == nil {
		return nil
	}
	for _, x := range []Expr{e.X, e.Y} {
		if call, ok := x.(*CallExpr); ok && Funcs[call.Name] != nil && Funcs[call.Name].Agg {
			c.errorf(call, "%s() cannot be used in an expression: assign it directly to a map, e.g. @x = %s", call.Name, call)
			return nil
		}
	}
	if v, ok := c.constInt(e.Y); ok && v == 0 && (e.Op == "/" || e.Op == "%") {
		c.errorf(e.Y, "division by zero: the divisor is always 0")
		return nil
	}
	switch e.Op {
	case "==", "!=":
		if a.Kind == KindString && b.Kind == KindString {
			return TypeInt64
		}
	case "&&", "||":
		if a.Kind == KindInt && b.Kind == KindInt {
			return TypeInt64
		}
	}
	if a.Kind != KindInt || b.Kind != KindInt {
		c.errorf(e, "type mismatch for '%s': comparing %s with %s", e.Op, a, b)
		return nil
	}
	switch e.Op {
	case "==", "!=", "<", "<=", ">", ">=":
		return TypeInt64
	}
	if (e.Op == "+" || e.Op == "-") && (a.Ptr || b.Ptr) {
		// Pointer arithmetic, as in C: p + n is n elements further on.
		if a.Ptr && b.Ptr || b.Ptr && e.Op == "-" {
			c.errorf(e, "The %s operator can not be used on expressions of types %s, %s", e.Op, a, b)
			return nil
		}
		p := a
		if b.Ptr {
			p = b
		}
		c.info.Scales[e] = pointeeSize(p)
		pt := *p
		return &pt
	}
	if !a.Signed && !b.Signed {
		return TypeUint64
	}
	return TypeInt64
}

func (c *checker) field(e *FieldExpr) *Type {
	t := c.expr(e.X)
	if t == nil {
		return nil
	}
	switch t.Kind {
	case KindCtx:
		// args->name and, as today's bpftrace writes it, args.name.
		var ft *Type
		for _, ap := range c.probe.Attach {
			if ap.Proto != nil {
				t := c.paramType(e, ap)
				if t == nil {
					return nil
				}
				if ft != nil && !ft.Equal(t) {
					c.errorf(e, "args->%s has different types in the probes of this clause", e.Field)
					return nil
				}
				ft = t
				continue
			}
			f := ap.Format.Field(e.Field)
			if f == nil {
				names := []string{}
				for _, f := range ap.Format.Fields {
					if !f.Common {
						names = append(names, f.Name)
					}
				}
				c.errorf(e, "tracepoint %s has no field '%s'%s (it has: %s)", ap.Name, e.Field,
					didYouMean(e.Field, names), strings.Join(names, ", "))
				return nil
			}
			t, err := c.fieldType(f, c.env.strLen(), ap.Category == "syscalls")
			if err != nil {
				c.errorf(e, "%s: %v", ap.Name, err)
				return nil
			}
			if ft != nil && !ft.Equal(t) {
				c.errorf(e, "args->%s has different types in the probes of this clause", e.Field)
				return nil
			}
			ft = t
		}
		return ft
	case KindRecord:
		return c.kernelField(e, t)
	case KindTuple:
		i, err := strconv.Atoi(e.Field)
		if err != nil || i < 0 || i >= len(t.Elems) {
			c.errorf(e, "tuple %s has no element .%s (it has %d)", t, e.Field, len(t.Elems))
			return nil
		}
		return t.Elems[i]
	}
	if t.Kind == KindInt && t.Ptr {
		return c.kernelField(e, t)
	}
	if _, ok := e.X.(*IntLit); ok && !e.Arrow && strings.Trim(e.Field, "0123456789") == "" {
		c.errorf(e, "floating-point numbers are not supported: use integers (e.g. scale by 10)")
		return nil
	}
	c.errorf(e, "%s is %s, which has no field '%s'", e.X, t, e.Field)
	return nil
}

// paramType types args->name in fentry/fexit: the parameter's BTF type.
func (c *checker) paramType(e *FieldExpr, ap *AttachPoint) *Type {
	i := ParamIndex(ap.Proto, e.Field)
	if i < 0 {
		names := make([]string, len(ap.Proto.Params))
		for j, p := range ap.Proto.Params {
			names[j] = p.Name
		}
		c.errorf(e, "%s has no parameter '%s'%s (it has: %s)", ap.Func, e.Field, didYouMean(e.Field, names), strings.Join(names, ", "))
		return nil
	}
	t, err := fromBTF(ap.Proto.Params[i].Type, false)
	if err != nil || t.Kind == KindRecord || t.Kind == KindString {
		c.errorf(e, "parameter %s of %s cannot be read as a value", e.Field, ap.Func)
		return nil
	}
	if t.Kind == KindInt && !t.Ptr {
		t.Size = min(t.Size, 8)
	}
	return t
}

// pointerCast types (T *)x: integer pointers, or pointers to kernel types.
func (c *checker) pointerCast(tn *TypeName) *Type {
	user := false
	for _, ap := range c.probe.Attach {
		if ap.Kind == "uprobe" || ap.Kind == "uretprobe" || ap.Kind == "usdt" {
			user = true
		}
	}
	if _, _, ok := intTypeName(&TypeName{Name: tn.Name}); ok || tn.Name == "void" {
		if tn.Pointers == 1 && tn.Name != "void" {
			size, signed, _ := intTypeName(&TypeName{Name: tn.Name})
			return &Type{Kind: KindInt, Size: 8, Ptr: true, User: user, BTF: &btf.Int{Name: tn.Name, Size: uint32(size), Encoding: map[bool]btf.IntEncoding{true: btf.Signed}[signed]}}
		}
		return &Type{Kind: KindInt, Size: 8, Ptr: true, User: user}
	}
	bt, err := c.btfNamed(tn.Name)
	if err != nil {
		c.errorf(tn, "%v", err)
		return nil
	}
	for i := 1; i < tn.Pointers; i++ {
		bt = &btf.Pointer{Target: bt}
	}
	return ptrTo(bt, user)
}

// pointerIndex types p[i], which reads *(p + i) as in C.
func (c *checker) pointerIndex(e *IndexExpr) *Type {
	t := c.expr(e.X)
	if t == nil {
		return nil
	}
	if t.Kind != KindInt || !t.Ptr {
		c.errorf(e, "only pointers and tracepoint array fields can be indexed, e.g. args->args[0], not %s", t)
		return nil
	}
	if it := c.expr(e.Index); it == nil || it.Kind != KindInt {
		if it != nil {
			c.errorf(e.Index, "an array index must be an integer")
		}
		return nil
	}
	elem := TypeInt64
	if t.BTF != nil {
		pt, err := fromBTF(t.BTF, t.User)
		if err != nil || pt.Kind == KindRecord {
			c.errorf(e, "cannot index %s: its elements are not integers", t)
			return nil
		}
		elem = pt
	}
	c.info.Scales[e] = pointeeSize(t)
	return elem
}

// index types args->array[i] for fixed arrays of integers in tracepoints.
func (c *checker) index(e *IndexExpr) *Type {
	fe, ok := e.X.(*FieldExpr)
	if ok {
		if t := c.expr(fe.X); t == nil {
			return nil
		} else if t.Kind != KindCtx {
			ok = false
		}
	}
	if !ok {
		return c.pointerIndex(e)
	}
	if it := c.expr(e.Index); it == nil || it.Kind != KindInt {
		if it != nil {
			c.errorf(e.Index, "an array index must be an integer")
		}
		return nil
	}
	var out *Type
	for _, ap := range c.probe.Attach {
		f := ap.Format.Field(fe.Field)
		if f == nil {
			c.errorf(fe, "tracepoint %s has no field '%s'", ap.Name, fe.Field)
			return nil
		}
		if f.ArrayLen == 0 || f.Kind != kernel.KindArray {
			c.errorf(e, "args->%s is not an array of integers", fe.Field)
			return nil
		}
		size := f.Size / f.ArrayLen
		if size != 1 && size != 2 && size != 4 && size != 8 {
			c.errorf(e, "args->%s has %d-byte elements, which cannot be indexed", fe.Field, size)
			return nil
		}
		if n, ok := c.constInt(e.Index); ok && (n < 0 || int(n) >= f.ArrayLen) {
			c.errorf(e.Index, "index %d is out of range for args->%s, which has %d elements", n, fe.Field, f.ArrayLen)
			return nil
		}
		out = IntType(size, f.IntSigned())
	}
	return out
}

// fieldType maps a tracepoint field to a language type.
func (c *checker) fieldType(f *kernel.Field, strLen int, userPointers bool) (*Type, error) {
	switch {
	case f.DataLoc:
		return StringType(strLen), nil
	case f.ArrayLen > 0 && strings.Contains(f.CType, "char"):
		return StringType(f.ArrayLen), nil
	case f.ArrayLen > 0 && f.Size == f.ArrayLen:
		// Byte arrays (u8 saddr[4]): raw bytes, e.g. for ntop().
		return &Type{Kind: KindString, Size: f.ArrayLen, FromArray: true}, nil
	case f.ArrayLen > 0:
		return nil, errorString("args->" + f.Name + " is an array: index it, e.g. args->" + f.Name + "[0]")
	case f.Pointer:
		// A pointer to a kernel struct is typed from BTF (loaded only for
		// such fields), so args->rqtp->tv_sec works. Syscall arguments point
		// into user memory.
		if name, ok := strings.CutSuffix(strings.TrimSpace(strings.TrimPrefix(f.CType, "const ")), "*"); ok {
			name = strings.TrimSpace(name)
			if strings.HasPrefix(name, "struct ") || strings.HasPrefix(name, "union ") {
				if bt, err := c.btfNamed(name); err == nil {
					return ptrTo(bt, userPointers), nil
				}
			}
		}
		return &Type{Kind: KindInt, Size: 8, Ptr: true, User: userPointers}, nil
	case f.Size == 1 || f.Size == 2 || f.Size == 4 || f.Size == 8:
		// Syscall tracepoints widen every argument to 8 bytes; an `int`
		// argument is still an int (so AT_FDCWD reads as -100).
		size := f.Size
		if n, ok := cIntSizes[strings.TrimPrefix(f.CType, "const ")]; ok && n < size {
			size = n
		}
		return IntType(size, f.IntSigned()), nil
	}
	return nil, errorString("field " + f.Name + " of type " + f.CType + " is not supported yet")
}

var cIntSizes = map[string]int{
	"int": 4, "unsigned int": 4, "unsigned": 4, "pid_t": 4, "uid_t": 4, "gid_t": 4, "umode_t": 2,
	"short": 2, "unsigned short": 2, "char": 1, "unsigned char": 1, "u32": 4, "s32": 4, "u16": 2,
	"s16": 2, "u8": 1, "s8": 1, "__u32": 4, "__s32": 4, "key_serial_t": 4, "qid_t": 4, "clockid_t": 4,
	"timer_t": 4, "mqd_t": 4, "rwf_t": 4,
}

// someField names a field of this probe's tracepoint, for examples in
// messages: the first that is not common or internal (__syscall_nr).
func (c *checker) someField() string {
	for _, ap := range c.probe.Attach {
		if ap.Format == nil {
			continue
		}
		for _, f := range ap.Format.Fields {
			if !f.Common && !strings.HasPrefix(f.Name, "__") {
				return f.Name
			}
		}
	}
	return "field"
}

// exampleArgs is "" for a function taking no arguments and "..." otherwise.
func exampleArgs(f *Func) string {
	if f.MinArgs == 0 {
		return ""
	}
	return "..."
}

// constInt evaluates a constant integer expression.
func (c *checker) constInt(e Expr) (int64, bool) {
	switch e := e.(type) {
	case *IntLit:
		return int64(e.Value), true
	case *UnaryExpr:
		if e.Op == "-" {
			v, ok := c.constInt(e.X)
			return -v, ok
		}
	case *PositionalExpr:
		if e.Count {
			return int64(len(c.env.Args)), true
		}
		v, err := strconv.ParseInt(c.positional(e.N), 0, 64)
		return v, err == nil
	}
	return 0, false
}

// intTypeName maps integer type names in casts to size and signedness.
func intTypeName(t *TypeName) (int, bool, bool) {
	if t.Pointers > 0 {
		return 8, false, true
	}
	switch strings.Join(strings.Fields(t.Name), " ") {
	case "int8", "s8", "char", "signed char", "__s8":
		return 1, true, true
	case "uint8", "u8", "unsigned char", "bool", "__u8":
		return 1, false, true
	case "int16", "s16", "short", "__s16":
		return 2, true, true
	case "uint16", "u16", "unsigned short", "__u16":
		return 2, false, true
	case "int32", "s32", "int", "__s32":
		return 4, true, true
	case "uint32", "u32", "unsigned int", "unsigned", "__u32":
		return 4, false, true
	case "int64", "s64", "long", "long long", "__s64":
		return 8, true, true
	case "uint64", "u64", "unsigned long", "unsigned long long", "__u64", "size_t":
		return 8, false, true
	}
	return 0, false, false
}

func builtinNames() []string {
	var out []string
	for n := range BuiltinVars {
		out = append(out, n)
	}
	return out
}

func funcNames() []string {
	var out []string
	for n := range Funcs {
		out = append(out, n)
	}
	return out
}

// didYouMean returns " — did you mean 'x'?" for the closest candidate within
// edit distance 2, or "".
func didYouMean(name string, candidates []string) string {
	best, bestD := "", 3
	candidates = append([]string(nil), candidates...) // callers keep their order
	sort.Strings(candidates)
	for _, c := range candidates {
		d := editDistance(name, c)
		// On a tie, a candidate as long as the name is the likelier typo.
		if d < bestD || best != "" && d == bestD && len(c) == len(name) && len(best) != len(name) {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return " — did you mean '" + best + "'?"
}

type errorString string

func (e errorString) Error() string { return string(e) }
