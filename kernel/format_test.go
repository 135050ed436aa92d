package kernel

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireTracefs skips as a normal user (tracefs is root's) and fails as
// root when tracefs cannot be found (testenv's rule).
func requireTracefs(t *testing.T) string {
	t.Helper()
	testenv.RequireTracefs(t)
	dir, err := TracefsDir()
	require.NoError(t, err)
	return dir
}

func TestTracefsDir(t *testing.T) {
	dir := requireTracefs(t)
	assert.Contains(t, []string{tracefsPath, debugTracefsPath}, dir)
	st, err := os.Stat(filepath.Join(dir, "events"))
	require.NoError(t, err)
	assert.True(t, st.IsDir())
	again, err := TracefsDir()
	require.NoError(t, err)
	assert.Equal(t, dir, again)
}

func TestSysEnterOpenatFormat(t *testing.T) {
	requireTracefs(t)
	tf, err := ReadTracepointFormat("syscalls", "sys_enter_openat")
	require.NoError(t, err)
	assert.Equal(t, "syscalls", tf.Category)
	assert.Equal(t, "sys_enter_openat", tf.Name)
	assert.NotZero(t, tf.ID)

	type want struct {
		name, ctype    string
		offset, size   int
		signed, common bool
		kind           FieldKind
		intSigned      bool
	}
	wants := []want{
		{"common_type", "unsigned short", 0, 2, false, true, KindInt, false},
		{"common_flags", "unsigned char", 2, 1, false, true, KindInt, false},
		{"common_preempt_count", "unsigned char", 3, 1, false, true, KindInt, false},
		{"common_pid", "int", 4, 4, true, true, KindInt, true},
		{"__syscall_nr", "int", 8, 4, true, false, KindInt, true},
		{"dfd", "int", 16, 8, false, false, KindInt, true},
		{"filename", "const char *", 24, 8, false, false, KindPointer, false},
		{"flags", "int", 32, 8, false, false, KindInt, true},
		{"mode", "umode_t", 40, 8, false, false, KindInt, false},
	}
	require.Len(t, tf.Fields, len(wants))
	for i, w := range wants {
		f := tf.Fields[i]
		assert.Equal(t, w.name, f.Name, "field %d", i)
		assert.Equal(t, w.ctype, f.CType, f.Name)
		assert.Equal(t, w.offset, f.Offset, f.Name)
		assert.Equal(t, w.size, f.Size, f.Name)
		assert.Equal(t, w.signed, f.Signed, f.Name)
		assert.Equal(t, w.common, f.Common, f.Name)
		assert.Equal(t, w.kind, f.Kind, f.Name)
		assert.Equal(t, w.kind == KindPointer, f.Pointer, f.Name)
		assert.False(t, f.DataLoc, f.Name)
		assert.Zero(t, f.ArrayLen, f.Name)
		if w.kind == KindInt {
			assert.Equal(t, w.intSigned, f.IntSigned(), f.Name)
		}
	}
	assert.Equal(t, "const char * filename", tf.Field("filename").Decl)
	assert.Nil(t, tf.Field("nope"))
	assert.Len(t, tf.ArgFields(), 5)
	assert.Equal(t, 48, tf.RecordSize())

	// Read anew, it is the same (the compiler's target keeps it).
	again, err := ReadTracepointFormat("syscalls", "sys_enter_openat")
	require.NoError(t, err)
	assert.Equal(t, tf, again)
}

func TestSchedFormats(t *testing.T) {
	requireTracefs(t)
	sw, err := ReadTracepointFormat("sched", "sched_switch")
	require.NoError(t, err)
	comm := sw.Field("prev_comm")
	require.NotNil(t, comm)
	assert.Equal(t, KindCharArray, comm.Kind)
	assert.Equal(t, 16, comm.ArrayLen)
	assert.Equal(t, 16, comm.Size)
	assert.Equal(t, "char", comm.CType)
	assert.Equal(t, "char prev_comm[16]", comm.Decl)
	pid := sw.Field("next_pid")
	require.NotNil(t, pid)
	assert.Equal(t, KindInt, pid.Kind)
	assert.True(t, pid.Signed)
	assert.True(t, pid.IntSigned())

	exec, err := ReadTracepointFormat("sched", "sched_process_exec")
	require.NoError(t, err)
	fn := exec.Field("filename")
	require.NotNil(t, fn)
	assert.True(t, fn.DataLoc)
	assert.False(t, fn.RelLoc)
	assert.Equal(t, KindDataLocString, fn.Kind)
	assert.Equal(t, "char", fn.CType)
	assert.Equal(t, 4, fn.Size)
	assert.Equal(t, 8, fn.Offset)
	assert.Equal(t, "__data_loc char[] filename", fn.Decl)

	raw, err := ReadTracepointFormat("raw_syscalls", "sys_enter")
	require.NoError(t, err)
	args := raw.Field("args")
	require.NotNil(t, args)
	assert.Equal(t, KindArray, args.Kind)
	assert.Equal(t, 6, args.ArrayLen)
	assert.Equal(t, 48, args.Size)
	assert.Equal(t, "unsigned long", args.CType)
	id := raw.Field("id")
	require.NotNil(t, id)
	assert.Equal(t, KindInt, id.Kind)
	assert.True(t, id.IntSigned())
}

// Every format file the kernel has must parse, and the result must be
// self-consistent.
func TestParseEveryFormatFile(t *testing.T) {
	dir := requireTracefs(t)
	files, err := filepath.Glob(filepath.Join(dir, "events", "*", "*", "format"))
	require.NoError(t, err)
	require.Greater(t, len(files), 1000, "expected many tracepoints")
	kinds := map[FieldKind]int{}
	for _, path := range files {
		name := filepath.Base(filepath.Dir(path))
		cat := filepath.Base(filepath.Dir(filepath.Dir(path)))
		data, err := os.ReadFile(path)
		require.NoError(t, err, path)
		tf, err := ParseTracepointFormat(cat, name, string(data))
		if !assert.NoError(t, err, path) {
			continue
		}
		assert.Equal(t, name, tf.Name, path)
		assert.NotZero(t, tf.ID, path)
		require.GreaterOrEqual(t, len(tf.Fields), 4, path)
		for i, c := range []string{"common_type", "common_flags", "common_preempt_count", "common_pid"} {
			assert.Equal(t, c, tf.Fields[i].Name, path)
			assert.True(t, tf.Fields[i].Common, path)
		}
		seen := map[string]bool{}
		for _, f := range tf.Fields {
			kinds[f.Kind]++
			assert.NotEmpty(t, f.Name, "%s: %q", path, f.Decl)
			for j := 0; j < len(f.Name); j++ {
				assert.True(t, isIdentByte(f.Name[j]), "%s: name %q", path, f.Name)
			}
			assert.False(t, seen[f.Name], "%s: duplicate field %s", path, f.Name)
			seen[f.Name] = true
			assert.NotEmpty(t, f.CType, "%s: %q", path, f.Decl)
			assert.Contains(t, f.Decl, f.Name, path)
			assert.GreaterOrEqual(t, f.Offset, 0, path)
			if !f.Common {
				assert.GreaterOrEqual(t, f.Offset, 8, "%s: %s overlaps the header", path, f.Name)
				assert.False(t, strings.HasPrefix(f.Name, "common_"), path)
			}
			switch f.Kind {
			case KindDataLocString, KindDataLoc:
				assert.True(t, f.DataLoc, path)
				assert.Equal(t, 4, f.Size, "%s: %s", path, f.Name)
			case KindCharArray:
				// char buf[] (ftrace:print) is a flexible array: length 0.
				assert.Equal(t, f.ArrayLen, f.Size, "%s: %s", path, f.Name)
			case KindPointer:
				assert.True(t, f.Pointer, path)
				assert.Equal(t, 8, f.Size, "%s: %s", path, f.Name)
			case KindInt:
				assert.Contains(t, []int{1, 2, 4, 8}, f.Size, "%s: %s", path, f.Name)
				assert.False(t, f.Pointer, path)
			case KindArray:
				if f.ArrayLen > 0 {
					assert.Zero(t, f.Size%f.ArrayLen, "%s: %s", path, f.Name)
				}
			}
		}
	}
	// The machine's formats exercise every kind but "other".
	for _, k := range []FieldKind{KindInt, KindPointer, KindCharArray, KindDataLocString, KindArray, KindDataLoc} {
		assert.Positive(t, kinds[k], "no field of kind %s", k)
	}
}

// Every tracepoint that listing reports has a readable format.
func TestEveryListedTracepointHasFormat(t *testing.T) {
	requireTracefs(t)
	all, err := Tracepoints()
	require.NoError(t, err)
	require.Greater(t, len(all), 1000)
	for _, ev := range all {
		cat, name, ok := strings.Cut(ev, ":")
		require.True(t, ok, ev)
		_, err := ReadTracepointFormat(cat, name)
		assert.NoError(t, err, ev)
	}
}

func TestTracepointNotFound(t *testing.T) {
	requireTracefs(t)
	_, err := ReadTracepointFormat("syscalls", "sys_enter_opnat")
	require.Error(t, err)
	assert.Equal(t, "tracepoint not found: syscalls:sys_enter_opnat; list them with: gotrace -l 'tracepoint:syscalls:*'", err.Error())
	assert.True(t, errors.Is(err, ErrTracepointNotFound))

	_, err = ReadTracepointFormat("nosuchcat", "foo")
	require.Error(t, err)
	assert.Equal(t, "tracepoint not found: nosuchcat:foo; list them with: gotrace -l 'tracepoint:*'", err.Error())
	assert.True(t, errors.Is(err, ErrTracepointNotFound))

	for _, bad := range [][2]string{{"..", "syscalls"}, {"syscalls", "../sched"}, {"", "x"}, {"x", ""}} {
		_, err = ReadTracepointFormat(bad[0], bad[1])
		assert.ErrorIs(t, err, ErrTracepointNotFound, "%q", bad)
	}
	assert.True(t, TracepointExists("syscalls", "sys_enter_openat"))
	assert.False(t, TracepointExists("syscalls", "sys_enter_opnat"))
}

const syntheticFormat = `name: synthetic
ID: 4242
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:__data_loc char[] name;	offset:8;	size:4;	signed:0;
	field:char comm[16];	offset:12;	size:16;	signed:0;
	field:unsigned long args[6];	offset:32;	size:48;	signed:0;
	field:unsigned long rest[];	offset:80;	size:0;	signed:0;
	field:__data_loc cpumask_t mask;	offset:80;	size:4;	signed:0;
	field:const char *const * argv;	offset:88;	size:8;	signed:0;
	field:__rel_loc char[] rel;	offset:96;	size:4;	signed:0;
	field:char task[TASK_COMM_LEN];	offset:100;	size:16;	signed:0;
	field:struct foo_s  value;	offset:120;	size:24;	signed:0;
	field:void __seg_gs * pcpu;	offset:144;	size:8;	signed:0;
	field:int matrix[2][3];	offset:152;	size:24;	signed:1;
	field:  s64   delta ;	offset:176;	size:8;	signed:1;
	field:__data_loc u8[] blob;	offset:184;	size:4;	signed:0;
	field:bool ok;	offset:188;	size:1;	signed:0;

print fmt: "name=%s", __get_str(name)
`

func TestParseSyntheticFormat(t *testing.T) {
	tf, err := ParseTracepointFormat("test", "ignored", syntheticFormat)
	require.NoError(t, err)
	assert.Equal(t, "synthetic", tf.Name)
	assert.Equal(t, "test", tf.Category)
	assert.Equal(t, uint32(4242), tf.ID)
	assert.Len(t, tf.ArgFields(), 14)

	check := func(name string, kind FieldKind, ctype string, arrayLen int, dataLoc, pointer bool) *Field {
		t.Helper()
		f := tf.Field(name)
		require.NotNil(t, f, name)
		assert.Equal(t, kind, f.Kind, name)
		assert.Equal(t, ctype, f.CType, name)
		assert.Equal(t, arrayLen, f.ArrayLen, name)
		assert.Equal(t, dataLoc, f.DataLoc, name)
		assert.Equal(t, pointer, f.Pointer, name)
		assert.False(t, f.Common, name)
		return f
	}
	check("name", KindDataLocString, "char", 0, true, false)
	check("comm", KindCharArray, "char", 16, false, false)
	check("args", KindArray, "unsigned long", 6, false, false)
	check("rest", KindArray, "unsigned long", 0, false, false)
	check("mask", KindDataLoc, "cpumask_t", 0, true, false)
	check("argv", KindPointer, "const char *const *", 0, false, true)
	rel := check("rel", KindDataLocString, "char", 0, true, false)
	assert.True(t, rel.RelLoc)
	check("task", KindCharArray, "char", 16, false, false)
	check("value", KindOther, "struct foo_s", 0, false, false)
	check("pcpu", KindPointer, "void __seg_gs *", 0, false, true)
	check("matrix", KindArray, "int", 6, false, false)
	d := check("delta", KindInt, "s64", 0, false, false)
	assert.Equal(t, "  s64   delta ", d.Decl)
	assert.True(t, d.IntSigned())
	check("blob", KindDataLoc, "u8", 0, true, false)
	ok := check("ok", KindInt, "bool", 0, false, false)
	assert.False(t, ok.IntSigned())
	assert.Equal(t, 189, tf.RecordSize())
}

func TestParseFormatErrors(t *testing.T) {
	_, err := ParseTracepointFormat("c", "n", "name: n\nformat:\n\tfield:int x;\toffset:0;\tsize:4;\tsigned:1;\n")
	assert.Error(t, err, "no ID")
	_, err = ParseTracepointFormat("c", "n", "name: n\nID: 1\nformat:\n")
	assert.Error(t, err, "no fields")
	_, err = ParseTracepointFormat("c", "n", "name: n\nID: 1\nformat:\n\tfield:int x;\toffset:zz;\tsize:4;\tsigned:1;\n")
	assert.Error(t, err, "bad offset")
	_, err = ParseTracepointFormat("c", "n", "name: n\nID: 1\nformat:\n\tfield:int x\n")
	assert.Error(t, err, "no ';'")
	_, err = ParseTracepointFormat("c", "n", "name: n\nID: 1\nformat:\n\tfield:x;\toffset:0;\tsize:4;\tsigned:1;\n")
	assert.Error(t, err, "no type")
}

func TestFieldKindString(t *testing.T) {
	assert.Equal(t, "data_loc string", KindDataLocString.String())
	assert.Equal(t, "FieldKind(99)", FieldKind(99).String())
}
