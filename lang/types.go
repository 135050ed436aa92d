package lang

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// Kind classifies a value's type.
type Kind uint8

const (
	KindNone   Kind = iota // no value: printf(), statements
	KindInt                // integer of Size bytes, Signed or not; pointers too (Ptr)
	KindString             // NUL-padded byte array of Size bytes
	KindTuple              // Elems laid out at Offsets
	KindStack              // kstack/ustack: a stack id
	KindCtx                // `args` of a tracepoint: only ->field is allowed
	KindRecord             // a kernel struct/union in memory, reached by its address

	// Values kept raw in BPF and turned into text by user space.
	KindKsym      // kernel address, printed as a symbol: ksym()
	KindUsym      // user address and pid, printed as a symbol: usym()
	KindUsername  // uid, printed as a user name
	KindInet      // address family and 16 address bytes: ntop()
	KindTimestamp // nanoseconds and a format index: strftime()
	KindBuf       // length and bytes: buf()

	// Aggregation values: what a map holds after @x = count() and friends.
	KindCount
	KindSum
	KindAvg
	KindMin
	KindMax
	KindStats
	KindHist
	KindLhist
)

var kindNames = [...]string{"none", "int", "string", "tuple", "stack", "args", "record",
	"ksym", "usym", "username", "inet", "timestamp", "buffer",
	"count", "sum", "avg", "min", "max", "stats", "hist", "lhist"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// IsAgg reports whether a map of this kind holds an aggregation.
func (k Kind) IsAgg() bool { return k >= KindCount }

// Type is the type of a value. Types are compared structurally with Equal.
type Type struct {
	Kind   Kind
	Size   int  // bytes in memory (ints 1/2/4/8, string capacity, tuple total)
	Signed bool // ints, sum/min/max
	Ptr    bool // an int that is a pointer (printed with %p, read with probe_read)
	User   bool // KindStack: a user stack
	Limit  int  // KindStack: frames to print (0: all)
	Perf   bool // KindStack: print in perf's format

	// BTF is the kernel type a pointer points to (Ptr) or a record is.
	BTF btf.Type
	// FromArray marks a string that is a fixed char array in kernel memory.
	FromArray bool

	Elems   []*Type // KindTuple
	Offsets []int   // KindTuple: byte offset of each element

	// KindLhist: the bucket layout, fixed by the first lhist() call.
	LhistMin, LhistMax, LhistStep int64
}

var (
	TypeNone   = &Type{Kind: KindNone}
	TypeInt64  = &Type{Kind: KindInt, Size: 8, Signed: true}
	TypeUint64 = &Type{Kind: KindInt, Size: 8}
	TypeUint32 = &Type{Kind: KindInt, Size: 4}
	TypeCtx    = &Type{Kind: KindCtx}
)

// IntType returns the integer type of the given size and signedness.
func IntType(size int, signed bool) *Type {
	return &Type{Kind: KindInt, Size: size, Signed: signed}
}

// StringType returns a string type with room for size bytes including the NUL.
func StringType(size int) *Type { return &Type{Kind: KindString, Size: size} }

// TupleType lays out elems the way map keys and printf arguments are laid out:
// each element starts on an 8-byte boundary, so the BPF side can store
// integers with aligned 64-bit stores.
func TupleType(elems []*Type) *Type {
	t := &Type{Kind: KindTuple, Elems: elems, Offsets: make([]int, len(elems))}
	off := 0
	for i, e := range elems {
		t.Offsets[i] = off
		off += align8(e.StorageSize())
	}
	t.Size = off
	return t
}

// widest is t or u, whichever holds more: for types that are Equal, the
// one with the larger strings, element by element in tuples, so that a
// map keyed by ("a", 1) and then ("hellolongstr", 2) holds both whole.
func widest(t, u *Type) *Type {
	switch {
	case t.Kind == KindString && u.Kind == KindString:
		if u.Size > t.Size {
			return u
		}
	case t.Kind == KindTuple && u.Kind == KindTuple && len(t.Elems) == len(u.Elems):
		elems := make([]*Type, len(t.Elems))
		changed := false
		for i := range t.Elems {
			elems[i] = widest(t.Elems[i], u.Elems[i])
			changed = changed || elems[i] != t.Elems[i]
		}
		if changed {
			return TupleType(elems)
		}
	}
	return t
}

// StorageSize is how many bytes a value of t takes in a map, a tuple or an
// event. Integers always take 8: they are widened to 64 bits when read.
func (t *Type) StorageSize() int {
	switch t.Kind {
	case KindInt, KindStack, KindKsym, KindUsername:
		return 8
	case KindUsym, KindTimestamp:
		return 16
	case KindInet:
		return 24
	case KindBuf:
		return 8 + align8(t.Size)
	case KindString:
		return align8(t.Size)
	case KindTuple:
		return t.Size
	}
	return 8
}

func align8(n int) int { return (n + 7) &^ 7 }

// Equal reports whether two types are the same for assignment purposes.
// Integers of any size are compatible; strings of any capacity are too.
func (t *Type) Equal(u *Type) bool {
	if t.Kind != u.Kind {
		return false
	}
	if t.Kind == KindTuple {
		if len(t.Elems) != len(u.Elems) {
			return false
		}
		for i := range t.Elems {
			if !t.Elems[i].Equal(u.Elems[i]) {
				return false
			}
		}
	}
	if t.Kind == KindLhist {
		return t.LhistMin == u.LhistMin && t.LhistMax == u.LhistMax && t.LhistStep == u.LhistStep
	}
	return true
}

func (t *Type) String() string {
	switch t.Kind {
	case KindInt:
		if t.Ptr && t.BTF != nil {
			return btfName(t.BTF) + " *"
		}
		if t.Ptr {
			return "pointer"
		}
		if t.Signed {
			return fmt.Sprintf("int%d", t.Size*8)
		}
		return fmt.Sprintf("uint%d", t.Size*8)
	case KindString:
		return fmt.Sprintf("string[%d]", t.Size)
	case KindTuple:
		parts := make([]string, len(t.Elems))
		for i, e := range t.Elems {
			parts[i] = e.String()
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case KindStack:
		if t.User {
			return "ustack"
		}
		return "kstack"
	case KindRecord:
		return btfName(t.BTF)
	case KindCount, KindSum, KindAvg, KindMin, KindMax, KindStats, KindHist, KindLhist:
		return t.Kind.String() + "()"
	}
	return t.Kind.String()
}

// pointeeSize is how far p + 1 is from p, for a pointer type p: the size of
// what it points to, or 1 for void * and pointers of unknown target.
func pointeeSize(p *Type) int64 {
	if p.BTF == nil {
		return 1
	}
	n, err := btf.Sizeof(p.BTF)
	if err != nil || n <= 0 {
		return 1
	}
	return int64(n)
}
