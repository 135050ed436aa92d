package lang

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// Kernel types come from the target's BTF. The target loads it only when a
// script names a kernel type: curtask->..., a cast to a struct pointer,
// sizeof(struct ...).

func (c *checker) kernelBTF() (*btf.Spec, error) {
	spec, err := c.env.target().BTF()
	if err != nil {
		return nil, fmt.Errorf("kernel types need BTF (/sys/kernel/btf/vmlinux): %v", err)
	}
	return spec, nil
}

// btfNamed finds "struct X", "union X", "enum X" or a typedef name.
func (c *checker) btfNamed(name string) (btf.Type, error) {
	spec, err := c.kernelBTF()
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

// kernelField types ptr->name or rec.name on a kernel type. As in today's
// bpftrace, ptr.name is ptr->name: '.' follows pointers.
func (c *checker) kernelField(e *FieldExpr, t *Type) *Type {
	target := t.BTF
	if t.Kind == KindInt {
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

// kernelTypeSize is sizeof(name) for a kernel type such as "struct file".
func (c *checker) kernelTypeSize(name string) (int, error) {
	t, err := c.btfNamed(name)
	if err != nil {
		return 0, err
	}
	return btf.Sizeof(t)
}

// wellKnownMacros are kernel #defines that bpftrace tools use and BTF does
// not record (BTF has enums, not macros).
var wellKnownMacros = map[string]int64{
	"TASK_RUNNING": 0, "TASK_INTERRUPTIBLE": 1, "TASK_UNINTERRUPTIBLE": 2, "__TASK_STOPPED": 4,
	"__TASK_TRACED": 8, "EXIT_DEAD": 16, "EXIT_ZOMBIE": 32, "TASK_PARKED": 64, "TASK_DEAD": 128,
	"TASK_WAKEKILL": 256, "TASK_WAKING": 512, "TASK_NOLOAD": 1024, "TASK_NEW": 2048,
	"AF_UNSPEC": 0, "AF_UNIX": 1, "AF_LOCAL": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16, "AF_PACKET": 17,
	"SOCK_STREAM": 1, "SOCK_DGRAM": 2, "SOCK_RAW": 3,
	"IPPROTO_IP": 0, "IPPROTO_ICMP": 1, "IPPROTO_TCP": 6, "IPPROTO_UDP": 17, "IPPROTO_IPV6": 41,
	"O_RDONLY": 0, "O_WRONLY": 1, "O_RDWR": 2, "O_CREAT": 0o100, "O_EXCL": 0o200, "O_TRUNC": 0o1000,
	"O_APPEND": 0o2000, "O_NONBLOCK": 0o4000, "O_DIRECTORY": 0o200000, "O_CLOEXEC": 0o2000000,
	"PAGE_SIZE": 4096, "PAGE_SHIFT": 12, "NSEC_PER_SEC": 1000000000, "NSEC_PER_MSEC": 1000000,
	"NSEC_PER_USEC": 1000, "USEC_PER_SEC": 1000000, "MSEC_PER_SEC": 1000, "FSHIFT": 11,
	"FIXED_1": 1 << 11, "PF_KTHREAD": 0x00200000, "PF_EXITING": 0x00000004,
	"SIGKILL": 9, "SIGTERM": 15, "SIGINT": 2, "SIGHUP": 1, "SIGSTOP": 19, "SIGCONT": 18,
}

// kernelConstant resolves a name that is not a builtin: a well-known kernel
// macro, or an enumerator from the kernel's BTF (TCP_ESTABLISHED, ...).
func (c *checker) kernelConstant(name string) (int64, bool) {
	if v, ok := wellKnownMacros[name]; ok {
		return v, true
	}
	// Enumerators are upper case by convention; do not load BTF for typos
	// of builtins.
	if strings.ToUpper(name) != name {
		return 0, false
	}
	return c.env.target().Enumerator(name)
}

// kernelFuncProto finds a kernel function's prototype in BTF.
func (c *checker) kernelFuncProto(name string) (*btf.FuncProto, error) {
	spec, err := c.kernelBTF()
	if err != nil {
		return nil, err
	}
	var fn *btf.Func
	if err := spec.TypeByName(name, &fn); err != nil {
		return nil, fmt.Errorf("kernel function %s is not in BTF; list them with: gotrace -l 'fentry:*'", name)
	}
	proto, ok := fn.Type.(*btf.FuncProto)
	if !ok {
		return nil, fmt.Errorf("kernel function %s has no prototype in BTF", name)
	}
	return proto, nil
}

// ParamIndex is the position of parameter name in proto (-1: none).
func ParamIndex(proto *btf.FuncProto, name string) int {
	for i, p := range proto.Params {
		if p.Name == name {
			return i
		}
	}
	return -1
}
