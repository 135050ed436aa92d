package kernel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// FieldKind classifies a tracepoint field by how a program reads it.
type FieldKind int

const (
	// KindInt is an integer (or enum, bool, typedef of one) of 1, 2, 4 or
	// 8 bytes stored in the record.
	KindInt FieldKind = iota
	// KindPointer is a pointer stored in the record (8 bytes on 64-bit).
	KindPointer
	// KindCharArray is a fixed char array holding a string, e.g. char comm[16].
	KindCharArray
	// KindDataLocString is a __data_loc char[] field: the u32 at Offset holds
	// len<<16 | offset of a NUL-terminated string within the record.
	KindDataLocString
	// KindArray is a fixed array of non-char elements, e.g. u8 saddr[4] or
	// unsigned long args[6] (ArrayLen 0 for a flexible array member).
	KindArray
	// KindDataLoc is a __data_loc field of anything but char (u8[], cpumask_t,
	// ...): the u32 at Offset holds len<<16 | offset of the data.
	KindDataLoc
	// KindOther is anything else, e.g. a struct stored by value.
	KindOther
)

func (k FieldKind) String() string {
	switch k {
	case KindInt:
		return "int"
	case KindPointer:
		return "pointer"
	case KindCharArray:
		return "char array"
	case KindDataLocString:
		return "data_loc string"
	case KindArray:
		return "array"
	case KindDataLoc:
		return "data_loc"
	case KindOther:
		return "other"
	}
	return fmt.Sprintf("FieldKind(%d)", int(k))
}

// Field is one field of a tracepoint record, as described by its format file.
type Field struct {
	// Name is the field name ("filename", "comm", "args").
	Name string
	// CType is the C type without the name, array suffix and __data_loc:
	// "const char *" for `const char * filename`, "char" for
	// `char comm[16]` and for `__data_loc char[] name`, "unsigned long" for
	// `unsigned long args[6]` (the element type for arrays).
	CType string
	// Decl is the declaration exactly as the format file has it between
	// "field:" and ';', e.g. "const char * filename" or
	// "__data_loc char[] name" (what `bpftrace -lv` prints).
	Decl string
	// Offset and Size are in bytes within the record (Size is the size of
	// the whole field: 4 for a __data_loc, 16 for char comm[16]).
	Offset, Size int
	// Signed is the format file's signed flag. Note that syscall
	// tracepoints store every argument in 8 bytes with signed:0 even for
	// `int dfd`; see IntSigned for the signedness of the declared C type.
	Signed bool
	// Common is true for the common_* header fields every record starts with.
	Common bool
	// DataLoc is true for __data_loc (and __rel_loc) fields: the u32 at
	// Offset holds len<<16 | offset. For __rel_loc the offset is relative
	// to the end of this field (Offset+Size) rather than to the record.
	DataLoc bool
	RelLoc  bool
	// ArrayLen is the declared element count of a fixed array (16 for
	// char comm[16]); 0 for non-arrays, flexible arrays and __data_loc.
	ArrayLen int
	// Pointer is true when CType is a pointer type.
	Pointer bool
	Kind    FieldKind
}

// IntSigned reports whether an integer field should be treated as signed. It
// follows the declared C type when that is a known integer type (so
// `int dfd` of a syscall tracepoint, which the format marks signed:0 because
// it is stored widened to 8 bytes, is signed) and falls back to the format
// file's signed flag for typedefs it does not know.
func (f *Field) IntSigned() bool {
	t := strings.TrimSpace(f.CType)
	for _, q := range []string{"const ", "volatile "} {
		t = strings.TrimPrefix(t, q)
	}
	t = strings.TrimSpace(t)
	if s, ok := knownIntSignedness[t]; ok {
		if t == "char" {
			return charIsSigned()
		}
		return s
	}
	if strings.HasPrefix(t, "unsigned ") {
		return false
	}
	if strings.HasPrefix(t, "signed ") {
		return true
	}
	return f.Signed
}

func charIsSigned() bool {
	switch runtime.GOARCH {
	case "arm", "arm64", "ppc64", "ppc64le", "s390x", "riscv64":
		return false
	}
	return true
}

var knownIntSignedness = map[string]bool{
	"char": true, "short": true, "int": true, "long": true, "long long": true,
	"short int": true, "long int": true, "long long int": true, "signed": true,
	"s8": true, "s16": true, "s32": true, "s64": true,
	"__s8": true, "__s16": true, "__s32": true, "__s64": true,
	"int8_t": true, "int16_t": true, "int32_t": true, "int64_t": true,
	"pid_t": true, "tid_t": false, "ssize_t": true, "loff_t": true, "off_t": true,
	"time_t": true, "time64_t": true, "clockid_t": true, "key_serial_t": true,
	"mqd_t": true, "rwf_t": true, "timer_t": true, "key_t": true, "ktime_t": true,
	"unsigned": false, "bool": false, "_Bool": false,
	"u8": false, "u16": false, "u32": false, "u64": false,
	"__u8": false, "__u16": false, "__u32": false, "__u64": false,
	"uint8_t": false, "uint16_t": false, "uint32_t": false, "uint64_t": false,
	"size_t": false, "uid_t": false, "gid_t": false, "umode_t": false,
	"dev_t": false, "ino_t": false, "gfp_t": false, "uint": false,
	"aio_context_t": false, "qid_t": false,
}

// TracepointFormat is a parsed events/CAT/NAME/format file.
type TracepointFormat struct {
	Category, Name string
	ID             uint32
	Fields         []Field
}

// Field returns the field called name, or nil.
func (t *TracepointFormat) Field(name string) *Field {
	for i := range t.Fields {
		if t.Fields[i].Name == name {
			return &t.Fields[i]
		}
	}
	return nil
}

// ArgFields returns the fields after the common_* header, the ones
// `args->...` can name and `bpftrace -lv` lists.
func (t *TracepointFormat) ArgFields() []Field {
	var out []Field
	for _, f := range t.Fields {
		if !f.Common {
			out = append(out, f)
		}
	}
	return out
}

// RecordSize is the end of the last field (the size of the fixed part of
// the record; __data_loc payloads follow it).
func (t *TracepointFormat) RecordSize() int {
	end := 0
	for _, f := range t.Fields {
		if e := f.Offset + f.Size; e > end {
			end = e
		}
	}
	return end
}

// ErrTracepointNotFound is matched (errors.Is) by the error
// ReadTracepointFormat returns for a tracepoint that does not exist.
var ErrTracepointNotFound = errors.New("tracepoint does not exist")

type tracepointNotFoundError struct {
	cat, name string
	catExists bool
}

func (e *tracepointNotFoundError) Error() string {
	list := "tracepoint:*"
	if e.catExists {
		list = "tracepoint:" + e.cat + ":*"
	}
	// bpftrace's words, then how to list the ones that exist.
	return fmt.Sprintf("tracepoint not found: %s:%s; list them with: gotrace -l '%s'", e.cat, e.name, list)
}

func (e *tracepointNotFoundError) Is(target error) bool { return target == ErrTracepointNotFound }

// TracepointNotFound is the error for a tracepoint cat:name that does not
// exist; catExists says whether its category does (the hint lists it).
func TracepointNotFound(cat, name string, catExists bool) error {
	return &tracepointNotFoundError{cat: cat, name: name, catExists: catExists}
}

// ReadTracepointFormat reads and parses the format of tracepoint cat:name.
// It reads tracefs every time: callers that ask often (the compiler's
// target) keep what they read.
func ReadTracepointFormat(cat, name string) (*TracepointFormat, error) {
	key := cat + ":" + name
	if cat == "" || name == "" || strings.ContainsAny(key, "/\x00") || cat == "." || cat == ".." || name == "." || name == ".." {
		return nil, &tracepointNotFoundError{cat: cat, name: name}
	}
	dir, err := TracefsDir()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "events", cat, name, "format")
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			_, cerr := os.Stat(filepath.Join(dir, "events", cat))
			return nil, &tracepointNotFoundError{cat: cat, name: name, catExists: cerr == nil}
		}
		return nil, fmt.Errorf("cannot read the format of tracepoint %s:%s: %v", cat, name, err)
	}
	tf, err := ParseTracepointFormat(cat, name, string(data))
	if err != nil {
		return nil, fmt.Errorf("cannot parse %s: %v", path, err)
	}
	return tf, nil
}

// ParseTracepointFormat parses the text of a tracepoint format file. The
// category is not in the file, so it is passed in; name is used when the
// file has no "name:" line.
func ParseTracepointFormat(cat, name, text string) (*TracepointFormat, error) {
	tf := &TracepointFormat{Category: cat, Name: name}
	inFormat := false
	common := true // fields before the first blank line of the format section
	sawID := false
	for lineNo, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !inFormat && strings.HasPrefix(trimmed, "name:"):
			if n := strings.TrimSpace(strings.TrimPrefix(trimmed, "name:")); n != "" {
				tf.Name = n
			}
		case !inFormat && strings.HasPrefix(trimmed, "ID:"):
			id, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(trimmed, "ID:")), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("line %d: bad ID: %q", lineNo+1, trimmed)
			}
			tf.ID = uint32(id)
			sawID = true
		case trimmed == "format:":
			inFormat = true
		case strings.HasPrefix(trimmed, "print fmt:"):
			inFormat = false
		case trimmed == "":
			if inFormat && len(tf.Fields) > 0 {
				common = false
			}
		case strings.HasPrefix(trimmed, "field:"):
			f, err := parseFieldLine(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", lineNo+1, err)
			}
			f.Common = common && strings.HasPrefix(f.Name, "common_")
			tf.Fields = append(tf.Fields, f)
		}
	}
	if !sawID {
		return nil, errors.New("no ID line")
	}
	if len(tf.Fields) == 0 {
		return nil, errors.New("no fields")
	}
	return tf, nil
}

// parseFieldLine parses one "\tfield:DECL;\toffset:N;\tsize:N;\tsigned:N;" line.
func parseFieldLine(line string) (Field, error) {
	var f Field
	i := strings.Index(line, "field:")
	rest := line[i+len("field:"):]
	semi := strings.IndexByte(rest, ';')
	if semi < 0 {
		return f, fmt.Errorf("field line without ';': %q", line)
	}
	f.Decl = rest[:semi]
	sawOffset, sawSize := false, false
	for _, part := range strings.Split(rest[semi+1:], ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, ":")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		switch strings.TrimSpace(k) {
		case "offset":
			if err != nil {
				return f, fmt.Errorf("bad offset in %q", line)
			}
			f.Offset, sawOffset = n, true
		case "size":
			if err != nil {
				return f, fmt.Errorf("bad size in %q", line)
			}
			f.Size, sawSize = n, true
		case "signed":
			f.Signed = err == nil && n != 0
		}
	}
	if !sawOffset || !sawSize {
		return f, fmt.Errorf("field without offset or size: %q", line)
	}
	if err := parseDecl(&f); err != nil {
		return f, fmt.Errorf("%v in %q", err, line)
	}
	return f, nil
}

// parseDecl fills Name, CType, DataLoc, ArrayLen, Pointer and Kind from Decl.
func parseDecl(f *Field) error {
	d := strings.Join(strings.Fields(f.Decl), " ")
	for _, p := range []string{"__data_loc ", "__rel_loc "} {
		if strings.HasPrefix(d, p) {
			f.DataLoc = true
			f.RelLoc = p == "__rel_loc "
			d = strings.TrimSpace(d[len(p):])
		}
	}
	// Array suffixes on the name: x[16], x[], x[2][3].
	isArray := false
	arrayLen := 1
	knownLen := true
	for strings.HasSuffix(d, "]") {
		open := strings.LastIndexByte(d, '[')
		if open < 0 {
			return errors.New("unbalanced ']'")
		}
		isArray = true
		inner := strings.TrimSpace(d[open+1 : len(d)-1])
		d = strings.TrimSpace(d[:open])
		if inner == "" {
			arrayLen = 0
			continue
		}
		n, err := strconv.Atoi(inner)
		if err != nil {
			knownLen = false // e.g. [TASK_COMM_LEN] on an old kernel
			continue
		}
		arrayLen *= n
	}
	// A bit-field width "x:3" (not emitted by current kernels).
	if c := strings.LastIndexByte(d, ':'); c >= 0 && !strings.Contains(d[c:], " ") {
		d = strings.TrimSpace(d[:c])
	}
	// The name is the trailing identifier.
	end := len(d)
	start := end
	for start > 0 && isIdentByte(d[start-1]) {
		start--
	}
	if start == end {
		return errors.New("no field name")
	}
	f.Name = d[start:end]
	ctype := strings.TrimSpace(d[:start])
	if ctype == "" {
		return errors.New("no field type")
	}
	if f.DataLoc {
		// __data_loc char[] name: the brackets belong to the type.
		if strings.HasSuffix(ctype, "[]") {
			ctype = strings.TrimSpace(strings.TrimSuffix(ctype, "[]"))
		}
		isArray = false
	}
	f.CType = ctype
	f.Pointer = strings.Contains(ctype, "*")
	base := strings.TrimSpace(strings.TrimPrefix(ctype, "const "))
	switch {
	case f.DataLoc:
		if base == "char" {
			f.Kind = KindDataLocString
		} else {
			f.Kind = KindDataLoc
		}
	case isArray:
		if !knownLen {
			if es := elemSize(base); es > 0 {
				arrayLen = f.Size / es
			} else {
				arrayLen = 0
			}
		}
		f.ArrayLen = arrayLen
		if base == "char" && !f.Pointer {
			f.Kind = KindCharArray
		} else {
			f.Kind = KindArray
		}
	case f.Pointer:
		f.Kind = KindPointer
	case strings.HasPrefix(base, "struct ") || strings.HasPrefix(base, "union "):
		f.Kind = KindOther
	case f.Size == 1 || f.Size == 2 || f.Size == 4 || f.Size == 8:
		f.Kind = KindInt
	default:
		f.Kind = KindOther
	}
	return nil
}

func elemSize(t string) int {
	switch t {
	case "char", "unsigned char", "signed char", "u8", "s8", "__u8", "__s8", "bool":
		return 1
	case "short", "unsigned short", "u16", "s16", "__u16", "__s16":
		return 2
	case "int", "unsigned int", "unsigned", "u32", "s32", "__u32", "__s32":
		return 4
	case "long", "unsigned long", "long long", "unsigned long long", "u64", "s64", "__u64", "__s64":
		return 8
	}
	return 0
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ReadTracepointFormatText is the text of tracepoint cat:name's format
// file, unparsed (a recorded target keeps it).
func ReadTracepointFormatText(cat, name string) ([]byte, error) {
	dir, err := TracefsDir()
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(dir, "events", cat, name, "format"))
}
