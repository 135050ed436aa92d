package target

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/kernel"
)

// Request says what to record of a machine. Globs are kernel.Glob patterns.
type Request struct {
	// Tracepoints whose formats are recorded, as "CAT:EVENT" globs. The
	// list of every tracepoint's name is always recorded.
	Tracepoints []string
	// Types are kernel type names ("struct task_struct", "pid_t") and
	// Funcs kernel functions whose prototypes are recorded in BTF, with
	// what they point to up to Depth pointers away (further structs and
	// unions become forward declarations). Every enum is recorded: the
	// checker resolves enumerators by name.
	Types, Funcs []string
	Depth        int
	// Symbols are globs of kernel symbols recorded from kallsyms, and
	// Functions globs of available_filter_functions.
	Symbols, Functions []string
	// Binaries are uprobe targets (paths, short names); each resolves and
	// its ELF file is copied.
	Binaries []string
}

// Record writes what req asks for of machine t into dir (see recorded.go
// for the layout). t is normally a *Live.
func Record(t Target, dir string, req Request) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	man := manifest{Release: t.Release(), Features: map[string]bool{}, Binaries: map[string][]string{}, ELF: map[string]string{}}
	for _, f := range Features() {
		man.Features[f.String()] = t.Has(f)
	}

	events, err := t.MatchTracepoints("*", "*")
	if err != nil {
		return fmt.Errorf("listing tracepoints: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "events"), []byte(strings.Join(events, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	for _, ev := range events {
		if !anyGlob(req.Tracepoints, ev) {
			continue
		}
		cat, name, _ := strings.Cut(ev, ":")
		text, err := kernel.ReadTracepointFormatText(cat, name)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, "formats", cat), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "formats", cat, name), text, 0o644); err != nil {
			return err
		}
	}

	if len(req.Types)+len(req.Funcs) > 0 {
		spec, err := t.BTF()
		if err != nil {
			return err
		}
		raw, err := btfSubset(spec, req.Types, req.Funcs, req.Depth)
		if err != nil {
			return fmt.Errorf("BTF subset: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "vmlinux.btf"), raw, 0o644); err != nil {
			return err
		}
	}

	if len(req.Symbols) > 0 {
		ks, err := kernel.ReadKallsyms()
		if err != nil {
			return err
		}
		var b strings.Builder
		for _, s := range ks.Symbols() {
			if anyGlob(req.Symbols, s.Name) {
				fmt.Fprintf(&b, "%016x %c %s\n", s.Addr, s.Type, s.Name)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "kallsyms"), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}

	funcs, err := t.TraceableFunctions()
	if err != nil {
		return err
	}
	var fb strings.Builder
	for _, f := range funcs {
		if anyGlob(req.Functions, f) {
			fb.WriteString(f + "\n")
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "functions"), []byte(fb.String()), 0o644); err != nil {
		return err
	}

	for _, bin := range req.Binaries {
		paths, err := t.ResolveBinary(bin, 0)
		if err != nil {
			return err
		}
		man.Binaries[bin] = paths
		for _, p := range paths {
			if _, ok := man.ELF[p]; ok {
				continue
			}
			name := filepath.Base(p)
			for n := 2; used(man.ELF, name); n++ {
				name = fmt.Sprintf("%s.%d", filepath.Base(p), n)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Join(dir, "elf"), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, "elf", name), data, 0o644); err != nil {
				return err
			}
			man.ELF[p] = name
		}
	}

	data, err := json.MarshalIndent(man, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "target.json"), append(data, '\n'), 0o644)
}

func used(m map[string]string, name string) bool {
	for _, v := range m {
		if v == name {
			return true
		}
	}
	return false
}

func anyGlob(globs []string, s string) bool {
	for _, g := range globs {
		if kernel.Glob(g, s) {
			return true
		}
	}
	return false
}

// btfSubset marshals the named types and functions of spec, what they
// contain, and what they point to up to depth pointers away, plus every
// enum. Beyond depth, a pointed-to struct or union is a forward
// declaration of the same name.
func btfSubset(spec *btf.Spec, types, funcs []string, depth int) ([]byte, error) {
	s := &subsetter{copies: map[btf.Type]map[int]btf.Type{}}
	var roots []btf.Type
	for _, name := range types {
		kind, bare, ok := strings.Cut(name, " ")
		if !ok {
			kind, bare = "", name
		}
		cands, err := spec.AnyTypesByName(bare)
		if err != nil {
			return nil, fmt.Errorf("type %q: %v", name, err)
		}
		for _, c := range cands {
			switch c.(type) {
			case *btf.Struct:
				ok = kind == "struct"
			case *btf.Union:
				ok = kind == "union"
			case *btf.Enum:
				ok = kind == "enum" || kind == ""
			case *btf.Typedef, *btf.Int:
				ok = kind == ""
			default:
				ok = false
			}
			if ok {
				roots = append(roots, s.copy(c, depth))
			}
		}
	}
	for _, name := range funcs {
		var fn *btf.Func
		if err := spec.TypeByName(name, &fn); err != nil {
			return nil, fmt.Errorf("function %q: %v", name, err)
		}
		roots = append(roots, s.copy(fn, depth))
	}
	for t, err := range spec.All() {
		if err != nil {
			return nil, err
		}
		if e, ok := t.(*btf.Enum); ok && e.Name != "" {
			roots = append(roots, s.copy(e, 0))
		}
	}
	b, err := btf.NewBuilder(nil, nil)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(roots, func(i, j int) bool { return roots[i].TypeName() < roots[j].TypeName() })
	for _, t := range roots {
		if _, err := b.Add(t); err != nil {
			return nil, err
		}
	}
	return b.Marshal(nil, nil)
}

type subsetter struct {
	// copies holds each type's copy per remaining pointer depth.
	copies map[btf.Type]map[int]btf.Type
}

func (s *subsetter) copy(t btf.Type, depth int) btf.Type {
	if m, ok := s.copies[t]; ok {
		if c, ok := m[depth]; ok {
			return c
		}
	} else {
		s.copies[t] = map[int]btf.Type{}
	}
	switch u := t.(type) {
	case *btf.Pointer:
		c := &btf.Pointer{}
		s.copies[t][depth] = c
		if depth <= 0 {
			switch tt := btf.UnderlyingType(u.Target).(type) {
			case *btf.Struct:
				c.Target = &btf.Fwd{Name: tt.Name, Kind: btf.FwdStruct}
				return c
			case *btf.Union:
				c.Target = &btf.Fwd{Name: tt.Name, Kind: btf.FwdUnion}
				return c
			case *btf.FuncProto:
				c.Target = &btf.Void{}
				return c
			}
		}
		c.Target = s.copy(u.Target, depth-1)
		return c
	case *btf.Struct:
		c := &btf.Struct{Name: u.Name, Size: u.Size}
		s.copies[t][depth] = c
		c.Members = s.members(u.Members, depth)
		return c
	case *btf.Union:
		c := &btf.Union{Name: u.Name, Size: u.Size}
		s.copies[t][depth] = c
		c.Members = s.members(u.Members, depth)
		return c
	case *btf.Typedef:
		c := &btf.Typedef{Name: u.Name}
		s.copies[t][depth] = c
		c.Type = s.copy(u.Type, depth)
		return c
	case *btf.Array:
		c := &btf.Array{Nelems: u.Nelems}
		s.copies[t][depth] = c
		c.Index = s.copy(u.Index, depth)
		c.Type = s.copy(u.Type, depth)
		return c
	case *btf.Const:
		c := &btf.Const{}
		s.copies[t][depth] = c
		c.Type = s.copy(u.Type, depth)
		return c
	case *btf.Volatile:
		c := &btf.Volatile{}
		s.copies[t][depth] = c
		c.Type = s.copy(u.Type, depth)
		return c
	case *btf.Restrict:
		c := &btf.Restrict{}
		s.copies[t][depth] = c
		c.Type = s.copy(u.Type, depth)
		return c
	case *btf.TypeTag:
		// Tags say nothing the compiler reads; leave them out.
		c := s.copy(u.Type, depth)
		s.copies[t][depth] = c
		return c
	case *btf.Func:
		c := &btf.Func{Name: u.Name, Linkage: u.Linkage}
		s.copies[t][depth] = c
		c.Type = s.copy(u.Type, depth)
		return c
	case *btf.FuncProto:
		c := &btf.FuncProto{}
		s.copies[t][depth] = c
		c.Return = s.copy(u.Return, depth)
		for _, p := range u.Params {
			c.Params = append(c.Params, btf.FuncParam{Name: p.Name, Type: s.copy(p.Type, depth)})
		}
		return c
	case *btf.Enum:
		c := &btf.Enum{Name: u.Name, Size: u.Size, Signed: u.Signed, Values: append([]btf.EnumValue(nil), u.Values...)}
		s.copies[t][depth] = c
		return c
	case *btf.Int:
		c := &btf.Int{Name: u.Name, Size: u.Size, Encoding: u.Encoding}
		s.copies[t][depth] = c
		return c
	case *btf.Float:
		c := &btf.Float{Name: u.Name, Size: u.Size}
		s.copies[t][depth] = c
		return c
	case *btf.Fwd:
		c := &btf.Fwd{Name: u.Name, Kind: u.Kind}
		s.copies[t][depth] = c
		return c
	case *btf.Void:
		return &btf.Void{}
	}
	// Anything else (declaration tags, variables) is not needed.
	c := &btf.Void{}
	s.copies[t][depth] = c
	return c
}

func (s *subsetter) members(ms []btf.Member, depth int) []btf.Member {
	out := make([]btf.Member, len(ms))
	for i, m := range ms {
		out[i] = btf.Member{Name: m.Name, Type: s.copy(m.Type, depth), Offset: m.Offset, BitfieldSize: m.BitfieldSize}
	}
	return out
}
