package lang

import (
	"fmt"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"
)

// Kernel types come from the kernel's BTF (/sys/kernel/btf/vmlinux). It is
// loaded once, and only when a script names a kernel type: curtask->...,
// a cast to a struct pointer, sizeof(struct ...).

var kernelBTF struct {
	once sync.Once
	spec *btf.Spec
	err  error
}

func loadKernelBTF() (*btf.Spec, error) {
	kernelBTF.once.Do(func() {
		kernelBTF.spec, kernelBTF.err = btf.LoadKernelSpec()
		if kernelBTF.err != nil {
			kernelBTF.err = fmt.Errorf("kernel types need BTF (/sys/kernel/btf/vmlinux): %v", kernelBTF.err)
		}
	})
	return kernelBTF.spec, kernelBTF.err
}

// btfNamed finds "struct X", "union X", "enum X" or a typedef name.
func btfNamed(name string) (btf.Type, error) {
	spec, err := loadKernelBTF()
	if err != nil {
		return nil, err
	}
	kind, bare, ok := strings.Cut(name, " ")
	if !ok {
		bare, kind = name, ""
	}
	types, err := spec.AnyTypesByName(bare)
	if err != nil {
		return nil, fmt.Errorf("unknown kernel type '%s'", name)
	}
	for _, t := range types {
		switch t.(type) {
		case *btf.Struct:
			if kind == "struct" || kind == "" {
				return t, nil
			}
		case *btf.Union:
			if kind == "union" || kind == "" {
				return t, nil
			}
		case *btf.Enum:
			if kind == "enum" || kind == "" {
				return t, nil
			}
		case *btf.Typedef:
			if kind == "" {
				return t, nil
			}
		}
	}
	return nil, fmt.Errorf("unknown kernel type '%s'", name)
}

// ptrTo is the type of a pointer to the kernel type t. User pointers are
// read with bpf_probe_read_user.
func ptrTo(t btf.Type, user bool) *Type {
	return &Type{Kind: KindInt, Size: 8, Ptr: true, BTF: t, User: user}
}

// fromBTF maps a kernel type to a language type. Structs and unions become
// records: values that live in kernel memory and are reached by address.
func fromBTF(t btf.Type, user bool) (*Type, error) {
	switch u := btf.UnderlyingType(t).(type) {
	case *btf.Int:
		return IntType(int(u.Size), u.Encoding == btf.Signed), nil
	case *btf.Enum:
		return IntType(int(u.Size), u.Signed), nil
	case *btf.Pointer:
		return ptrTo(u.Target, user), nil
	case *btf.Array:
		if el, ok := btf.UnderlyingType(u.Type).(*btf.Int); ok && el.Size == 1 {
			return &Type{Kind: KindString, Size: int(u.Nelems), User: user, FromArray: true}, nil
		}
		return nil, fmt.Errorf("arrays of %s are not supported yet", btfName(u.Type))
	case *btf.Struct, *btf.Union:
		size, _ := btf.Sizeof(u)
		return &Type{Kind: KindRecord, Size: size, BTF: u, User: user}, nil
	}
	return nil, fmt.Errorf("kernel type %s is not supported yet", btfName(t))
}

// btfName renders a kernel type the way C names it.
func btfName(t btf.Type) string {
	switch u := t.(type) {
	case *btf.Pointer:
		return btfName(u.Target) + " *"
	case *btf.Struct:
		return "struct " + u.Name
	case *btf.Union:
		return "union " + u.Name
	case *btf.Enum:
		return "enum " + u.Name
	case *btf.Const:
		return "const " + btfName(u.Type)
	case *btf.Volatile:
		return btfName(u.Type)
	case nil:
		return "void"
	}
	if n := t.TypeName(); n != "" {
		return n
	}
	return fmt.Sprintf("%T", t)
}

// Member is a field of a kernel struct, found through anonymous members.
type Member struct {
	Type         btf.Type
	Offset       int // bytes from the start of the struct
	BitOffset    int // bits from Offset, for bitfields
	BitfieldSize int // 0 for ordinary members
}

// findMember looks up field name in struct/union t.
func findMember(t btf.Type, name string) (Member, bool) {
	var members []btf.Member
	switch u := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		members = u.Members
	case *btf.Union:
		members = u.Members
	default:
		return Member{}, false
	}
	for _, m := range members {
		if m.Name == name {
			bits := int(m.Offset)
			mb := Member{Type: m.Type, Offset: bits / 8}
			if m.BitfieldSize > 0 {
				size, _ := btf.Sizeof(m.Type)
				// Read the whole storage unit the bitfield lives in.
				unit := size * 8
				mb.Offset = (bits / unit) * size
				mb.BitOffset = bits - mb.Offset*8
				mb.BitfieldSize = int(m.BitfieldSize)
			}
			return mb, true
		}
		if m.Name == "" {
			if inner, ok := findMember(m.Type, name); ok {
				inner.Offset += int(m.Offset) / 8
				return inner, true
			}
		}
	}
	return Member{}, false
}

// memberNames lists a struct's field names (for did-you-mean).
func memberNames(t btf.Type) []string {
	var out []string
	var members []btf.Member
	switch u := btf.UnderlyingType(t).(type) {
	case *btf.Struct:
		members = u.Members
	case *btf.Union:
		members = u.Members
	}
	for _, m := range members {
		if m.Name == "" {
			out = append(out, memberNames(m.Type)...)
		} else {
			out = append(out, m.Name)
		}
	}
	return out
}

// kernelField types ptr->name (arrow) or rec.name on a kernel type.
func (c *checker) kernelField(e *FieldExpr, t *Type) *Type {
	target := t.BTF
	if t.Kind == KindInt {
		if !e.Arrow {
			c.errorf(e, "%s is a pointer: use ->%s", e.X, e.Field)
			return nil
		}
		if target == nil {
			c.errorf(e, "%s is a plain pointer; cast it to a kernel type first, e.g. ((struct task_struct *)%s)->%s", e.X, e.X, e.Field)
			return nil
		}
	} else if e.Arrow {
		c.errorf(e, "%s is not a pointer: use .%s", e.X, e.Field)
		return nil
	}
	m, ok := findMember(target, e.Field)
	if !ok {
		c.errorf(e, "%s has no field '%s'%s", btfName(btf.UnderlyingType(target)), e.Field, didYouMean(e.Field, memberNames(target)))
		return nil
	}
	ft, err := fromBTF(m.Type, t.User)
	if err != nil {
		c.errorf(e, "%s.%s: %v", btfName(btf.UnderlyingType(target)), e.Field, err)
		return nil
	}
	c.info.Fields[e] = m
	return ft
}

// KernelTypeSize is sizeof(name) for a kernel type such as "struct file".
func KernelTypeSize(name string) (int, error) {
	t, err := btfNamed(name)
	if err != nil {
		return 0, err
	}
	return btf.Sizeof(t)
}
