package output

import (
	"strconv"
	"strings"
)

// Kind is the kind of a decoded Value. See the package documentation.
type Kind int

const (
	KindNone Kind = iota
	KindInt
	KindStr
	KindSym
	KindBuf
	KindStack
	KindTuple
	KindRaw
)

// TypeName is the bpftrace type name used in printf type errors:
// "integer", "string", "buffer", "tuple" or "none".
func (k Kind) TypeName() string {
	switch k {
	case KindInt:
		return "integer"
	case KindStr, KindSym, KindStack, KindRaw:
		// symbols, stacks, timestamps... print as strings
		return "string"
	case KindBuf:
		return "buffer"
	case KindTuple:
		return "tuple"
	}
	return "none"
}

// Value is one decoded bpftrace value.
type Value struct {
	Kind      Kind
	Int       int64    // KindInt: the 64-bit pattern; unsigned when !Signed
	Signed    bool     // KindInt: print as signed
	Str       string   // KindStr, KindSym, KindRaw: text; KindBuf: raw bytes
	Elems     []Value  // KindTuple
	Frames    []string // KindStack: symbolized frames, innermost first
	StackPerf bool     // KindStack: perf stack mode ("\t" + frame per line)
}

// Int returns a signed integer value.
func Int(v int64) Value { return Value{Kind: KindInt, Int: v, Signed: true} }

// Uint returns an unsigned integer value.
func Uint(v uint64) Value { return Value{Kind: KindInt, Int: int64(v)} }

// Str returns a string value.
func Str(s string) Value { return Value{Kind: KindStr, Str: s} }

// Sym returns a ksym/usym/ntop value.
func Sym(s string) Value { return Value{Kind: KindSym, Str: s} }

// Buf returns a buf() value holding raw bytes.
func Buf(b []byte) Value { return Value{Kind: KindBuf, Str: string(b)} }

// Stack returns a kstack/ustack value (bpftrace stack mode).
func Stack(frames ...string) Value { return Value{Kind: KindStack, Frames: frames} }

// Tuple returns a tuple value.
func Tuple(elems ...Value) Value { return Value{Kind: KindTuple, Elems: elems} }

// Raw returns preformatted text printed as is, unquoted even in JSON.
func Raw(s string) Value { return Value{Kind: KindRaw, Str: s} }

// Ptr returns a pointer as bpftrace prints pointer map keys: "0x10".
func Ptr(addr uint64) Value { return Raw("0x" + strconv.FormatUint(addr, 16)) }

// cstr cuts s at its first NUL, like a C string.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// Indentation of stack frames: map keys use 4 spaces, everything else 8.
const (
	keyIndent   = 4
	valueIndent = 8
)

func stackText(v Value, indent int) string {
	if len(v.Frames) == 0 {
		// bpftrace prints nothing for a stack it could not read (EFAULT,
		// e.g. kstack in a user-space sample): "@[]: 5".
		return ""
	}
	var b strings.Builder
	b.WriteByte('\n')
	pad := strings.Repeat(" ", indent)
	for _, f := range v.Frames {
		if v.StackPerf {
			b.WriteByte('\t')
		} else {
			b.WriteString(pad)
		}
		b.WriteString(f)
		b.WriteByte('\n')
	}
	return b.String()
}

func intText(v Value) string {
	if v.Signed {
		return strconv.FormatInt(v.Int, 10)
	}
	return strconv.FormatUint(uint64(v.Int), 10)
}

// text renders v as bpftrace's text output does.
func (v Value) text(indent int) string {
	switch v.Kind {
	case KindInt:
		return intText(v)
	case KindStr:
		return cstr(v.Str)
	case KindSym, KindRaw:
		return v.Str
	case KindBuf:
		return FormatBuffer([]byte(v.Str), true)
	case KindStack:
		return stackText(v, indent)
	case KindTuple:
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = e.text(indent)
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return ""
}

// String renders v as text, as print(v) shows it (without the newline).
func (v Value) String() string { return v.text(valueIndent) }

// keyText renders one part of a map key. Integer keys always print as
// signed 64-bit numbers in bpftrace 0.17 (@x[(uint64)-1] shows "-1").
func (v Value) keyText() string {
	if v.Kind == KindInt {
		return strconv.FormatInt(v.Int, 10)
	}
	return v.text(keyIndent)
}

// json renders v as a JSON value like bpftrace 0.17: strings, symbols,
// buffers and stacks quoted; tuples as arrays without spaces; KindRaw
// unquoted.
func (v Value) json() string {
	switch v.Kind {
	case KindInt:
		return intText(v)
	case KindStr, KindSym, KindBuf, KindStack:
		return `"` + jsonEscape(v.text(valueIndent)) + `"`
	case KindRaw:
		return v.Str
	case KindTuple:
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = e.json()
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return ""
}

const hexDigits = "0123456789abcdef"

// jsonEscape escapes s like bpftrace 0.17. Bytes >= 0x80 go through a
// signed char, so "é" (c3 a9) becomes \uffffffc3\uffffffa9.
func jsonEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c <= 0x1f:
			b.WriteString(`\u00`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		case c >= 0x80:
			b.WriteString(`\uffffff`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// FormatBuffer renders buf() bytes like bpftrace: printable ASCII as is
// (when keepASCII), everything else as \xNN. printf's %r keeps ASCII,
// %rx does not.
func FormatBuffer(b []byte, keepASCII bool) string {
	var sb strings.Builder
	for _, c := range b {
		if keepASCII && c >= 32 && c <= 126 {
			sb.WriteByte(c)
			continue
		}
		sb.WriteString(`\x`)
		sb.WriteByte(hexDigits[c>>4])
		sb.WriteByte(hexDigits[c&15])
	}
	return sb.String()
}

// JoinArgs joins join()'s arguments like bpftrace: it stops at the first
// empty argument.
func JoinArgs(args []string, sep string) string {
	var b strings.Builder
	for i, a := range args {
		a = cstr(a)
		if a == "" {
			break
		}
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(a)
	}
	return b.String()
}
