package lang

import (
	"fmt"
	"strings"
)

// This file is the one place that lists every builtin variable and function
// of the language with its type rule. Code generation for each name lives in
// codegen/builtins.go under the same name; a test keeps the two in step.

// BuiltinVar describes a builtin variable such as pid or comm.
type BuiltinVar struct {
	Name string
	Type func(c *checker, id *IdentExpr) *Type
	Doc  string
}

func fixed(t *Type) func(*checker, *IdentExpr) *Type {
	return func(*checker, *IdentExpr) *Type { return t }
}

// BuiltinVars are the identifiers usable as values in any probe (subject to
// the probe's context: args only in tracepoints, retval only in return probes).
var BuiltinVars = map[string]*BuiltinVar{
	"pid":      {Name: "pid", Type: fixed(TypeUint64), Doc: "process id (thread group id) of the current task"},
	"tid":      {Name: "tid", Type: fixed(TypeUint64), Doc: "thread id of the current task"},
	"uid":      {Name: "uid", Type: fixed(TypeUint64), Doc: "user id of the current task"},
	"gid":      {Name: "gid", Type: fixed(TypeUint64), Doc: "group id of the current task"},
	"nsecs":    {Name: "nsecs", Type: fixed(TypeUint64), Doc: "monotonic timestamp in nanoseconds"},
	"elapsed":  {Name: "elapsed", Type: fixed(TypeUint64), Doc: "nanoseconds since gotrace started"},
	"cpu":      {Name: "cpu", Type: fixed(TypeUint64), Doc: "id of the CPU the probe fired on"},
	"comm":     {Name: "comm", Type: fixed(StringType(16)), Doc: "name of the current task"},
	"curtask":  {Name: "curtask", Type: curtaskType, Doc: "the current task_struct (fields from kernel BTF)"},
	"rand":     {Name: "rand", Type: fixed(TypeUint32), Doc: "pseudo-random 32-bit number"},
	"cgroup":   {Name: "cgroup", Type: fixed(TypeUint64), Doc: "cgroup v2 id of the current task"},
	"probe":    {Name: "probe", Type: probeNameType, Doc: "the full name of the probe that fired"},
	"func":     {Name: "func", Type: funcType, Doc: "the traced function's name"},
	"retval":   {Name: "retval", Type: retvalType, Doc: "return value, in kretprobe/uretprobe/tracepoint sys_exit fallbacks"},
	"args":     {Name: "args", Type: argsType, Doc: "tracepoint arguments: args->field"},
	"arg0":     {Name: "arg0", Type: argNType, Doc: "probe argument 0"},
	"arg1":     {Name: "arg1", Type: argNType},
	"arg2":     {Name: "arg2", Type: argNType},
	"arg3":     {Name: "arg3", Type: argNType},
	"arg4":     {Name: "arg4", Type: argNType},
	"arg5":     {Name: "arg5", Type: argNType},
	"arg6":     {Name: "arg6", Type: argNType, Doc: "probe argument 6 (read from the stack in kprobes/uprobes)"},
	"arg7":     {Name: "arg7", Type: argNType},
	"arg8":     {Name: "arg8", Type: argNType},
	"arg9":     {Name: "arg9", Type: argNType},
	"cpid":     {Name: "cpid", Type: cpidType, Doc: "process id of the command run with -c"},
	"numaid":   {Name: "numaid", Type: fixed(TypeUint32), Doc: "id of the NUMA node the probe fired on"},
	"username": {Name: "username", Type: fixed(&Type{Kind: KindUsername, Size: 8}), Doc: "user name of the current task's uid"},
	"kstack":   {Name: "kstack", Type: fixed(&Type{Kind: KindStack, Size: 8}), Doc: "kernel stack of the current task, symbolized when printed"},
	"ustack":   {Name: "ustack", Type: fixed(&Type{Kind: KindStack, Size: 8, User: true}), Doc: "user stack of the current task, symbolized when printed"},
}

// curtaskType is a pointer to struct task_struct when the kernel has BTF
// (loaded lazily: only scripts that use curtask pay for it), else a plain
// address.
func curtaskType(c *checker, id *IdentExpr) *Type {
	if t, err := c.btfNamed("struct task_struct"); err == nil {
		return ptrTo(t, false)
	}
	return &Type{Kind: KindInt, Size: 8, Ptr: true}
}

func probeNameType(c *checker, id *IdentExpr) *Type {
	return StringType(c.env.strLen())
}

// funcType types func, which names the traced function: bpftrace allows it
// only where there is one.
func funcType(c *checker, id *IdentExpr) *Type {
	for _, ap := range c.probe.Attach {
		switch ap.Kind {
		case "kprobe", "kretprobe", "uprobe", "uretprobe", "fentry", "fexit":
		default:
			if !ap.SyscallArgs {
				c.errorf(id, "func is only available in kprobe, kretprobe, uprobe, uretprobe, fentry and fexit probes, not in %s; probe names the probe that fired", ap.Name)
				return nil
			}
		}
	}
	return probeNameType(c, id)
}

// userName is the probe as the user wrote it: a kprobe:sys_X that fell
// back to a syscall tracepoint is still kprobe:sys_X in messages.
func userName(ap *AttachPoint) string {
	if ap.SyscallArgs && ap.Spec != nil {
		return ap.Spec.Raw
	}
	return ap.Name
}

func retvalType(c *checker, id *IdentExpr) *Type {
	for _, ap := range c.probe.Attach {
		if ap.HasRetval() {
			continue
		}
		hint := ""
		switch {
		case ap.SyscallArgs:
			hint = "; use kretprobe:sys_" + strings.TrimPrefix(ap.Event, "sys_enter_")
		case ap.Kind == "tracepoint" && strings.HasPrefix(ap.Event, "sys_exit_"):
			hint = "; in a syscall exit tracepoint the return value is args->ret"
		case ap.Kind == "tracepoint":
			hint = "; tracepoints pass their values as fields, e.g. args->" + c.someField()
		case ap.Kind == "kprobe":
			hint = "; use kretprobe:" + ap.Func
		case ap.Kind == "uprobe":
			hint = "; use uretprobe:" + ap.Path + ":" + ap.Func
		case ap.Kind == "fentry":
			hint = "; use fexit:" + ap.Func
		}
		c.errorf(id, "retval is only available in return probes (kretprobe, uretprobe, fexit), not in %s%s", userName(ap), hint)
		return nil
	}
	return TypeInt64
}

func argsType(c *checker, id *IdentExpr) *Type {
	for _, ap := range c.probe.Attach {
		if ap.Kind == "fentry" || ap.Kind == "fexit" {
			// The traced function's parameters, from its BTF prototype.
			if ap.Proto == nil {
				proto, err := c.kernelFuncProto(ap.Func)
				if err != nil {
					c.errorf(id, "%s: %v", ap.Name, err)
					return nil
				}
				ap.Proto = proto
			}
			continue
		}
		if ap.Format == nil {
			hint := ""
			if ap.HasArgN() {
				hint = "; use arg0..arg5"
			}
			c.errorf(id, "args is only available in tracepoint probes, not in %s%s", userName(ap), hint)
			return nil
		}
	}
	return TypeCtx
}

func argNType(c *checker, id *IdentExpr) *Type {
	for _, ap := range c.probe.Attach {
		if !ap.HasArgN() {
			hint := "; arg0..arg5 exist in kprobe, uprobe, rawtracepoint and usdt probes"
			switch {
			case ap.SyscallArgs || ap.Kind == "kretprobe" || ap.Kind == "uretprobe":
				hint = "; a return probe has only retval"
			case ap.Kind == "tracepoint":
				hint = "; tracepoints name their arguments, e.g. args->" + c.someField() + " (gotrace -lv '" + ap.Name + "' lists them)"
			}
			c.errorf(id, "%s is not available in %s%s", id.Name, userName(ap), hint)
			return nil
		}
		if ap.USDT != nil && int(id.Name[3]-'0') >= len(ap.USDT.Args) {
			c.errorf(id, "%s: %s has %d argument(s)", id.Name, ap.Name, len(ap.USDT.Args))
			return nil
		}
		if id.Name >= "arg6" && ap.Kind == "tracepoint" {
			c.errorf(id, "%s is not available in %s: syscalls have at most 6 arguments (arg0..arg5)", id.Name, ap.Name)
			return nil
		}
	}
	return TypeUint64
}

func init() {
	for i := 0; i < 10; i++ {
		name := fmt.Sprintf("sarg%d", i)
		v := &BuiltinVar{Name: name, Type: sargNType}
		if i == 0 {
			v.Doc = "argument N passed on the stack (kprobe, uprobe): sarg0 is the first"
		}
		BuiltinVars[name] = v
	}
}

func cpidType(c *checker, id *IdentExpr) *Type {
	if !c.env.Command {
		c.errorf(id, "cpid cannot be used without child command (-c 'COMMAND')")
		return nil
	}
	return TypeUint64
}

// sargNType types sarg0..sarg9, the arguments a function was passed on
// the stack, read at function entry above the return address.
func sargNType(c *checker, id *IdentExpr) *Type {
	for _, ap := range c.probe.Attach {
		if ap.Kind != "kprobe" && ap.Kind != "uprobe" {
			c.errorf(id, "%s is only available in kprobe and uprobe probes, not in %s", id.Name, userName(ap))
			return nil
		}
	}
	return TypeUint64
}

// Func describes a builtin function.
type Func struct {
	Name             string
	MinArgs, MaxArgs int
	// Agg functions may only be assigned to a map: @x = count().
	Agg bool
	// RawArgs functions type their own arguments (Type sees nil types):
	// clear(@x) and delete(@x[k]) take a map itself, kstack(perf) a mode.
	RawArgs bool
	// Type checks the arguments (already typed) and returns the result type.
	Type func(c *checker, call *CallExpr, args []*Type) *Type
	Doc  string
}

// Funcs are all builtin functions, by name.
var Funcs = map[string]*Func{}

func init() {
	for _, f := range []*Func{
		{Name: "printf", MinArgs: 1, MaxArgs: 64, Type: checkPrintf, Doc: "formatted output"},
		{Name: "exit", MinArgs: 0, MaxArgs: 0, Type: checkExit, Doc: "stop tracing, print maps, exit"},
		{Name: "str", MinArgs: 1, MaxArgs: 2, Type: checkStr, Doc: "read a NUL-terminated string"},
		{Name: "count", MinArgs: 0, MaxArgs: 0, Agg: true, Type: aggOf(KindCount, 0), Doc: "count events"},
		{Name: "sum", MinArgs: 1, MaxArgs: 1, Agg: true, Type: aggOf(KindSum, 1), Doc: "sum of values"},
		{Name: "avg", MinArgs: 1, MaxArgs: 1, Agg: true, Type: aggOf(KindAvg, 1), Doc: "average of values"},
		{Name: "min", MinArgs: 1, MaxArgs: 1, Agg: true, Type: aggOf(KindMin, 1), Doc: "minimum value"},
		{Name: "max", MinArgs: 1, MaxArgs: 1, Agg: true, Type: aggOf(KindMax, 1), Doc: "maximum value"},
		{Name: "stats", MinArgs: 1, MaxArgs: 1, Agg: true, Type: aggOf(KindStats, 1), Doc: "count, average and total"},
		{Name: "hist", MinArgs: 1, MaxArgs: 1, Agg: true, Type: aggOf(KindHist, 1), Doc: "power-of-two histogram"},
		{Name: "lhist", MinArgs: 4, MaxArgs: 4, Agg: true, Type: checkLhist, Doc: "linear histogram"},
		{Name: "delete", MinArgs: 1, MaxArgs: 1, RawArgs: true, Type: checkDelete, Doc: "delete one map entry"},
		{Name: "clear", MinArgs: 1, MaxArgs: 1, RawArgs: true, Type: checkWholeMap, Doc: "delete every entry of a map"},
		{Name: "zero", MinArgs: 1, MaxArgs: 1, RawArgs: true, Type: checkWholeMap, Doc: "set every value of a map to zero"},
		{Name: "print", MinArgs: 1, MaxArgs: 3, RawArgs: true, Type: checkPrint, Doc: "print a map now, or a value"},
		{Name: "kstack", MinArgs: 0, MaxArgs: 2, RawArgs: true, Type: checkStackCall, Doc: "kernel stack, at most N frames"},
		{Name: "ustack", MinArgs: 0, MaxArgs: 2, RawArgs: true, Type: checkStackCall, Doc: "user stack, at most N frames"},
		{Name: "ksym", MinArgs: 1, MaxArgs: 1, Type: intTo(&Type{Kind: KindKsym, Size: 8}), Doc: "kernel symbol of an address"},
		{Name: "usym", MinArgs: 1, MaxArgs: 1, Type: intTo(&Type{Kind: KindUsym, Size: 16}), Doc: "user symbol of an address in the current process"},
		{Name: "kaddr", MinArgs: 1, MaxArgs: 1, Type: checkKaddr, Doc: "address of a kernel symbol"},
		{Name: "uaddr", MinArgs: 1, MaxArgs: 1, Type: checkUaddr, Doc: "address of a symbol in the probed binary"},
		{Name: "ntop", MinArgs: 1, MaxArgs: 2, Type: checkNtop, Doc: "IPv4/IPv6 address as text"},
		{Name: "reg", MinArgs: 1, MaxArgs: 1, Type: checkReg, Doc: "value of a CPU register at the probe"},
		{Name: "time", MinArgs: 0, MaxArgs: 1, Type: checkTime, Doc: "print the current time"},
		{Name: "strftime", MinArgs: 2, MaxArgs: 2, Type: checkStrftime, Doc: "format a nsecs timestamp"},
		{Name: "join", MinArgs: 1, MaxArgs: 2, Type: checkJoin, Doc: "print a NULL-terminated array of strings (argv)"},
		{Name: "buf", MinArgs: 1, MaxArgs: 2, Type: checkBuf, Doc: "read bytes, printed hex-escaped"},
		{Name: "cat", MinArgs: 1, MaxArgs: 8, Type: checkCat, Doc: "print a file's contents"},
		{Name: "system", MinArgs: 1, MaxArgs: 8, Type: checkSystem, Doc: "run a shell command (--unsafe)"},
		{Name: "bswap", MinArgs: 1, MaxArgs: 1, Type: checkBswap, Doc: "reverse the byte order of an integer"},
		{Name: "signal", MinArgs: 1, MaxArgs: 1, Type: checkSignal, Doc: "send a signal to the current task (--unsafe)"},
	} {
		Funcs[f.Name] = f
	}
}

// mapArg returns the map a RawArgs function names, checking it is known.
func mapArg(c *checker, call *CallExpr) (*MapExpr, *MapInfo) {
	m, ok := call.Args[0].(*MapExpr)
	if !ok {
		c.errorf(call.Args[0], "%s() expects a map such as @x, got %s", call.Name, call.Args[0])
		return nil, nil
	}
	mi := c.info.Maps[m.Name]
	if mi == nil {
		c.errorf(m, "map %s is never assigned", m.Name)
		return nil, nil
	}
	return m, mi
}

func checkDelete(c *checker, call *CallExpr, _ []*Type) *Type {
	m, mi := mapArg(c, call)
	if m == nil {
		return nil
	}
	if mi.Value.Kind == KindHist || mi.Value.Kind == KindLhist {
		c.errorf(m, "delete() of one hist/lhist entry is not supported; clear(%s) clears the map", m.Name)
		return nil
	}
	if len(m.Keys) == 0 && mi.Key != nil {
		c.errorf(m, "delete() needs a key: delete(%s[...])", m.Name)
		return nil
	}
	if len(m.Keys) > 0 && c.mapKey(m) == nil {
		return nil
	}
	return TypeNone
}

func checkWholeMap(c *checker, call *CallExpr, _ []*Type) *Type {
	m, _ := mapArg(c, call)
	if m == nil {
		return nil
	}
	if len(m.Keys) > 0 {
		c.errorf(m, "%s() takes the whole map: %s(%s)", call.Name, call.Name, m.Name)
		return nil
	}
	return TypeNone
}

// checkPrint accepts print(@map[, top[, div]]) and print(value).
func checkPrint(c *checker, call *CallExpr, _ []*Type) *Type {
	if m, ok := call.Args[0].(*MapExpr); ok && len(m.Keys) == 0 {
		if mi := c.info.Maps[m.Name]; mi != nil {
			for _, a := range call.Args[1:] {
				if t := c.expr(a); t != nil && t.Kind != KindInt {
					c.errorf(a, "print() top and div must be integers")
					return nil
				}
			}
			return TypeNone
		}
	}
	if len(call.Args) > 1 {
		c.errorf(call, "print() of a value takes one argument")
		return nil
	}
	t := c.expr(call.Args[0])
	if t == nil {
		return nil
	}
	if t.Kind == KindNone || t.Kind == KindCtx {
		c.errorf(call.Args[0], "print() cannot print %s", t)
		return nil
	}
	return TypeNone
}

func checkStackCall(c *checker, call *CallExpr, args []*Type) *Type {
	limit, perf := 0, false
	for _, a := range call.Args {
		if id, ok := a.(*IdentExpr); ok && (id.Name == "perf" || id.Name == "bpftrace") {
			perf = id.Name == "perf"
			continue
		}
		n, ok := c.constInt(a)
		if !ok || n < 1 || n > 127 {
			c.errorf(a, "%s() takes a frame limit (an integer literal from 1 to 127) and/or a mode (perf, bpftrace)", call.Name)
			return nil
		}
		limit = int(n)
	}
	return &Type{Kind: KindStack, Size: 8, User: call.Name == "ustack", Limit: limit, Perf: perf}
}

// intTo types functions of one integer argument.
func intTo(t *Type) func(*checker, *CallExpr, []*Type) *Type {
	return func(c *checker, call *CallExpr, args []*Type) *Type {
		if args[0].Kind != KindInt {
			c.errorf(call.Args[0], "%s() expects an integer address, got %s", call.Name, args[0])
			return nil
		}
		return t
	}
}

func stringLiteralArg(c *checker, call *CallExpr, i int, what string) (string, bool) {
	lit, ok := call.Args[i].(*StrLit)
	if !ok {
		c.errorf(call.Args[i], "%s() expects %s as a string literal", call.Name, what)
		return "", false
	}
	return lit.Value, true
}

func checkBswap(c *checker, call *CallExpr, args []*Type) *Type {
	if args[0].Kind != KindInt {
		c.errorf(call.Args[0], "bswap() expects an integer, got %s", args[0])
		return nil
	}
	return IntType(args[0].Size, false)
}

func checkKaddr(c *checker, call *CallExpr, _ []*Type) *Type {
	name, ok := stringLiteralArg(c, call, 0, "a kernel symbol name")
	if !ok {
		return nil
	}
	// The symbol is resolved now, once: code generation reads the address
	// from Info.Addrs.
	addr, found, err := c.env.target().KernelSymbol(name)
	if err != nil {
		c.errorf(call, "kaddr: %v", err)
		return nil
	}
	if !found {
		c.errorf(call.Args[0], "Failed to resolve kernel symbol: %s (kaddr: no such symbol in /proc/kallsyms)", name)
		return nil
	}
	c.info.Addrs[call] = map[string]uint64{"": addr}
	return TypeUint64
}

func checkUaddr(c *checker, call *CallExpr, _ []*Type) *Type {
	name, ok := stringLiteralArg(c, call, 0, "a symbol name")
	if !ok {
		return nil
	}
	addrs := map[string]uint64{}
	for _, ap := range c.probe.Attach {
		if ap.Kind != "uprobe" && ap.Kind != "uretprobe" {
			c.errorf(call, "uaddr() is only available in uprobe and uretprobe probes, not in %s", ap.Name)
			return nil
		}
		// Each binary the probe attaches to has its own address.
		bin, err := c.env.target().ELF(ap.Path)
		if err != nil {
			c.errorf(call.Args[0], "uaddr: %v", err)
			return nil
		}
		addr, found := bin.SymbolAddress(name)
		if !found {
			c.errorf(call.Args[0], "uaddr: %v", bin.NotFound(name))
			return nil
		}
		addrs[ap.Path] = addr
	}
	c.info.Addrs[call] = addrs
	return TypeUint64
}

func checkNtop(c *checker, call *CallExpr, args []*Type) *Type {
	last := args[len(args)-1]
	if len(args) == 2 && args[0].Kind != KindInt {
		c.errorf(call.Args[0], "ntop() address family must be an integer (AF_INET is 2, AF_INET6 is 10)")
		return nil
	}
	switch {
	case last.Kind == KindInt:
	case last.Kind == KindString && (last.Size == 4 || last.Size == 16):
	default:
		c.errorf(call.Args[len(args)-1], "ntop() expects an IPv4 address as an integer or a 4 or 16 byte array, got %s", last)
		return nil
	}
	return &Type{Kind: KindInet, Size: 24}
}

// Registers reg() knows, as x86-64 struct pt_regs offsets.
var PtRegs = map[string]int{
	"r15": 0, "r14": 8, "r13": 16, "r12": 24, "bp": 32, "bx": 40, "r11": 48, "r10": 56,
	"r9": 64, "r8": 72, "ax": 80, "cx": 88, "dx": 96, "si": 104, "di": 112, "orig_ax": 120,
	"ip": 128, "cs": 136, "flags": 144, "sp": 152, "ss": 160,
}

func checkReg(c *checker, call *CallExpr, _ []*Type) *Type {
	name, ok := stringLiteralArg(c, call, 0, "a register name")
	if !ok {
		return nil
	}
	if _, ok := PtRegs[name]; !ok {
		names := make([]string, 0, len(PtRegs))
		for n := range PtRegs {
			names = append(names, n)
		}
		c.errorf(call.Args[0], "unknown register '%s'%s", name, didYouMean(name, names))
		return nil
	}
	for _, ap := range c.probe.Attach {
		switch ap.Kind {
		case "kprobe", "kretprobe", "uprobe", "uretprobe", "profile", "interval", "software", "hardware":
		default:
			c.errorf(call, "reg() needs a probe with registers (kprobe, uprobe, profile...), not %s", ap.Name)
			return nil
		}
	}
	return TypeUint64
}

func checkTime(c *checker, call *CallExpr, _ []*Type) *Type {
	if len(call.Args) == 1 {
		if _, ok := stringLiteralArg(c, call, 0, "a strftime format"); !ok {
			return nil
		}
	}
	return TypeNone
}

func checkStrftime(c *checker, call *CallExpr, args []*Type) *Type {
	if _, ok := stringLiteralArg(c, call, 0, "a strftime format"); !ok {
		return nil
	}
	if args[1].Kind != KindInt {
		c.errorf(call.Args[1], "strftime() expects a timestamp in nanoseconds (nsecs), got %s", args[1])
		return nil
	}
	return &Type{Kind: KindTimestamp, Size: 16}
}

func checkJoin(c *checker, call *CallExpr, args []*Type) *Type {
	if args[0].Kind != KindInt {
		c.errorf(call.Args[0], "join() expects a pointer to an array of strings (like args->argv), got %s", args[0])
		return nil
	}
	if len(args) == 2 {
		if _, ok := stringLiteralArg(c, call, 1, "a separator"); !ok {
			return nil
		}
	}
	return TypeNone
}

func checkBuf(c *checker, call *CallExpr, args []*Type) *Type {
	n := 64
	switch {
	case args[0].Kind == KindString:
		n = args[0].Size
	case args[0].Kind != KindInt:
		c.errorf(call.Args[0], "buf() expects a pointer, got %s", args[0])
		return nil
	}
	if len(args) == 2 {
		v, ok := c.constInt(call.Args[1])
		if !ok {
			// A length known only at run time: read up to 64 bytes.
			if args[1].Kind != KindInt {
				c.errorf(call.Args[1], "buf() length must be an integer")
				return nil
			}
			v = 64
		}
		if v < 1 {
			c.errorf(call.Args[1], "buf() length must be a positive integer")
			return nil
		}
		if args[0].Kind != KindString || int(v) < n {
			n = int(v)
		}
	}
	if n > 64 {
		n = 64
	}
	return &Type{Kind: KindBuf, Size: n}
}

func checkCat(c *checker, call *CallExpr, args []*Type) *Type {
	return checkFormatted(c, call, args)
}

func checkSystem(c *checker, call *CallExpr, args []*Type) *Type {
	if !c.env.Unsafe {
		c.errorf(call, "system() runs commands on this machine; run gotrace with --unsafe to allow it")
		return nil
	}
	return checkFormatted(c, call, args)
}

func checkSignal(c *checker, call *CallExpr, args []*Type) *Type {
	if !c.env.Unsafe {
		c.errorf(call, "signal() sends signals to processes; run gotrace with --unsafe to allow it")
		return nil
	}
	if lit, ok := call.Args[0].(*StrLit); ok {
		if SignalNumber(lit.Value) == 0 {
			c.errorf(lit, "unknown signal %q; use a name like SIGKILL or a number", lit.Value)
			return nil
		}
		return TypeNone
	}
	if args[0].Kind != KindInt {
		c.errorf(call.Args[0], "signal() expects a signal name or number")
		return nil
	}
	return TypeNone
}

// SignalNumber maps "SIGKILL"/"KILL" to its number (0 if unknown).
func SignalNumber(name string) int {
	n := map[string]int{"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8,
		"KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16,
		"CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24,
		"XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29, "PWR": 30, "SYS": 31}
	return n[strings.TrimPrefix(name, "SIG")]
}

// checkFormatted types printf-like functions (cat, system).
func checkFormatted(c *checker, call *CallExpr, args []*Type) *Type {
	return checkPrintf(c, call, args)
}

func noValue(*checker, *CallExpr, []*Type) *Type { return TypeNone }

func checkExit(c *checker, _ *CallExpr, _ []*Type) *Type {
	c.info.CallsExit = true
	return TypeNone
}

func aggOf(k Kind, intArgs int) func(*checker, *CallExpr, []*Type) *Type {
	return func(c *checker, call *CallExpr, args []*Type) *Type {
		for i := 0; i < intArgs; i++ {
			if args[i].Kind != KindInt {
				c.errorf(call.Args[i], "%s() expects an integer argument, got %s", call.Name, args[i])
				return nil
			}
		}
		return &Type{Kind: k, Size: 8, Signed: true}
	}
}

func checkLhist(c *checker, call *CallExpr, args []*Type) *Type {
	if args[0].Kind != KindInt {
		c.errorf(call.Args[0], "lhist() expects an integer value, got %s", args[0])
		return nil
	}
	var p [3]int64
	for i := 1; i < 4; i++ {
		v, ok := c.constInt(call.Args[i])
		if !ok {
			c.errorf(call.Args[i], "lhist() %s must be an integer literal", [...]string{"", "min", "max", "step"}[i])
			return nil
		}
		p[i-1] = v
	}
	if p[0] < 0 {
		c.errorf(call.Args[1], "lhist() min must not be negative, got %d (values below min are counted in the first bucket)", p[0])
		return nil
	}
	if p[2] <= 0 {
		c.errorf(call.Args[3], "lhist() step must be at least 1")
		return nil
	}
	if p[1] <= p[0] {
		c.errorf(call.Args[2], "lhist() max must be greater than min")
		return nil
	}
	if p[2] > p[1]-p[0] {
		c.errorf(call.Args[3], "lhist() step %d is larger than the range from min to max (%d)", p[2], p[1]-p[0])
		return nil
	}
	if (p[1]-p[0])/p[2] > 1000 {
		c.errorf(call, "lhist() would have more than 1000 buckets; raise step")
		return nil
	}
	return &Type{Kind: KindLhist, Size: 8, LhistMin: p[0], LhistMax: p[1], LhistStep: p[2]}
}

func checkStr(c *checker, call *CallExpr, args []*Type) *Type {
	if args[0].Kind != KindInt && args[0].Kind != KindString {
		c.errorf(call.Args[0], "str() expects a pointer or integer, got %s", args[0])
		return nil
	}
	if args[0].Kind == KindString && !c.strOfString(call.Args[0]) {
		c.errorf(call.Args[0], "str() reads a string from a pointer, but %s is already a string (%s): use it without str()", call.Args[0], args[0])
		return nil
	}
	size := c.env.strLen()
	if len(args) == 2 {
		if args[1].Kind != KindInt {
			c.errorf(call.Args[1], "str() length must be an integer")
			return nil
		}
		if n, ok := c.constInt(call.Args[1]); ok && n > 0 && int(n)+1 < size {
			size = int(n) + 1
		}
	}
	if args[0].Kind == KindString && args[0].Size < size {
		size = args[0].Size
	}
	return StringType(size)
}

func checkPrintf(c *checker, call *CallExpr, args []*Type) *Type {
	lit, ok := call.Args[0].(*StrLit)
	if !ok {
		c.errorf(call.Args[0], "%s() format must be a string literal", call.Name)
		return nil
	}
	names := make([]string, len(args)-1)
	for i, t := range args[1:] {
		names[i] = formatTypeName(t)
	}
	if err := CheckFormat(call.Name, lit.Value, names); err != nil {
		if bad := unknownSpecifier(lit.Value); bad != "" {
			c.errorf(call, "%v: '%s' is not a conversion %s() knows (use %%d %%u %%x %%s %%c %%p; %%%% prints a %%)", err, bad, call.Name)
			return nil
		}
		c.errorf(call, "%v", err)
		return nil
	}
	return TypeNone
}

// unknownSpecifier returns the first %-sequence of format that is not a
// conversion (%f, %k, ...), or "".
func unknownSpecifier(format string) string {
	known := map[int]bool{}
	for _, s := range FormatSpecs(format) {
		known[s.Start] = true
	}
	for i := 0; i < len(format); i++ {
		switch {
		case format[i] != '%' || known[i]:
		case i+1 < len(format) && format[i+1] == '%':
			i++
		default:
			j := i + 1
			for j < len(format) && strings.IndexByte("-0123456789.lhjzt", format[j]) >= 0 {
				j++
			}
			if j < len(format) {
				j++
			}
			return format[i:j]
		}
	}
	return ""
}

// strOfString reports whether str() may take x, a string: a positional
// parameter (str($1)) or a tracepoint's __data_loc string, as in bpftrace.
func (c *checker) strOfString(x Expr) bool {
	switch x := x.(type) {
	case *PositionalExpr:
		return true
	case *FieldExpr:
		if t := c.info.Types[x.X]; t == nil || t.Kind != KindCtx || len(c.probe.Attach) == 0 {
			return false
		}
		for _, ap := range c.probe.Attach {
			if ap.Format == nil {
				return false
			}
			if f := ap.Format.Field(x.Field); f == nil || !f.DataLoc {
				return false
			}
		}
		return true
	}
	return false
}

// formatTypeName is the name CheckFormat uses for a value of type t.
func formatTypeName(t *Type) string {
	switch t.Kind {
	case KindInt:
		return "integer"
	case KindString, KindStack, KindKsym, KindUsym, KindUsername, KindInet, KindTimestamp:
		return "string"
	case KindBuf:
		return "buffer"
	case KindTuple:
		return "tuple"
	}
	return "none"
}
