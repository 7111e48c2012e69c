package tracefs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testdataRoot is a miniature tracefs copied from a 6.18 kernel: a few
// events/CAT/NAME/{format,id,enable} and an available_events listing them.
const testdataRoot = "../../testdata/tracefs"

// commonFields is the header every record on this kernel starts with.
var commonFields = []Field{
	{Name: "common_type", Type: "unsigned short", Offset: 0, Size: 2},
	{Name: "common_flags", Type: "unsigned char", Offset: 2, Size: 1},
	{Name: "common_preempt_count", Type: "unsigned char", Offset: 3, Size: 1},
	{Name: "common_pid", Type: "int", Offset: 4, Size: 4, Signed: true},
}

func TestParseFormatFiles(t *testing.T) {
	tests := []struct {
		event   string // CAT/NAME under testdata/tracefs/events
		name    string
		id      uint64
		nfields int
		size    int
		want    []Field // a selection of fields, compared exactly
		// printFmt, if set, must occur in PrintFmt.
		printFmt string
	}{
		{
			event: "syscalls/sys_enter_openat", name: "sys_enter_openat", id: 782, nfields: 5, size: 48,
			want: []Field{
				{Name: "__syscall_nr", Type: "int", Offset: 8, Size: 4, Signed: true},
				// The syscall wrappers declare every argument 8 bytes wide,
				// whatever its C type.
				{Name: "dfd", Type: "int", Offset: 16, Size: 8},
				{Name: "filename", Type: "const char *", Offset: 24, Size: 8, Pointer: true},
				{Name: "mode", Type: "umode_t", Offset: 40, Size: 8},
			},
		},
		{
			event: "syscalls/sys_exit_read", name: "sys_exit_read", id: 841, nfields: 2, size: 24,
			want: []Field{{Name: "ret", Type: "long", Offset: 16, Size: 8, Signed: true}},
		},
		{
			event: "sched/sched_switch", name: "sched_switch", id: 372, nfields: 7, size: 64,
			want: []Field{
				{Name: "prev_comm", Type: "char", Offset: 8, Size: 16, ArrayLen: 16},
				{Name: "prev_pid", Type: "pid_t", Offset: 24, Size: 4, Signed: true},
				{Name: "prev_state", Type: "long", Offset: 32, Size: 8, Signed: true},
				{Name: "next_comm", Type: "char", Offset: 40, Size: 16, ArrayLen: 16},
				{Name: "next_prio", Type: "int", Offset: 60, Size: 4, Signed: true},
			},
		},
		{
			event: "sched/sched_process_exec", name: "sched_process_exec", id: 365, nfields: 3, size: 20,
			want: []Field{
				{Name: "filename", Type: "__data_loc char[]", Offset: 8, Size: 4, DataLoc: true},
				{Name: "old_pid", Type: "pid_t", Offset: 16, Size: 4, Signed: true},
			},
		},
		{
			event: "raw_syscalls/sys_enter", name: "sys_enter", id: 443, nfields: 2, size: 64,
			want: []Field{
				{Name: "id", Type: "long", Offset: 8, Size: 8, Signed: true},
				{Name: "args", Type: "unsigned long", Offset: 16, Size: 48, ArrayLen: 6},
			},
		},
		{
			event: "sock/inet_sock_set_state", name: "inet_sock_set_state", id: 2287, nfields: 11, size: 72,
			want: []Field{
				{Name: "skaddr", Type: "const void *", Offset: 8, Size: 8, Pointer: true},
				{Name: "saddr", Type: "__u8", Offset: 32, Size: 4, ArrayLen: 4},
				{Name: "daddr_v6", Type: "__u8", Offset: 56, Size: 16, ArrayLen: 16},
			},
		},
		{
			event: "dma/dma_map_sg", name: "dma_map_sg", id: 431, nfields: 9, size: 48,
			want: []Field{
				{Name: "device", Type: "__data_loc char[]", Offset: 8, Size: 4, DataLoc: true},
				{Name: "truncated", Type: "bool", Offset: 20, Size: 1},
				{Name: "phys_addrs", Type: "__data_loc u64[]", Offset: 24, Size: 4, DataLoc: true},
				{Name: "lengths", Type: "__data_loc unsigned int[]", Offset: 32, Size: 4, DataLoc: true},
				{Name: "dir", Type: "enum dma_data_direction", Offset: 36, Size: 4},
			},
		},
		{
			event: "ipi/ipi_send_cpumask", name: "ipi_send_cpumask", id: 353, nfields: 3, size: 32,
			want: []Field{
				{Name: "cpumask", Type: "__data_loc cpumask_t", Offset: 8, Size: 4, DataLoc: true},
				{Name: "callsite", Type: "void *", Offset: 16, Size: 8, Pointer: true},
			},
		},
		{
			event: "percpu/percpu_alloc_percpu", name: "percpu_alloc_percpu", id: 645, nfields: 10, size: 80,
			want: []Field{
				{Name: "ptr", Type: "void __seg_gs *", Offset: 56, Size: 8, Pointer: true},
				{Name: "gfp_flags", Type: "unsigned long", Offset: 72, Size: 8},
			},
		},
		{
			// The format string contains a newline, so the print fmt
			// spans two lines.
			event: "ext4/ext4_fsmap_low_key", name: "ext4_fsmap_low_key", id: 1173, nfields: 6, size: 48,
			printFmt: "owner %lld\n\", ((unsigned int) ((REC->dev) >> 20))",
			want:     []Field{{Name: "owner", Type: "u64", Offset: 40, Size: 8}},
		},
		{
			// Not in available_events (ftrace-internal), but its format
			// has the one flexible array on this kernel.
			event: "ftrace/print", name: "print", id: 5, nfields: 2, size: 16,
			want: []Field{{Name: "buf", Type: "char", Offset: 16, Size: 0, FlexArray: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			f, err := os.Open(filepath.Join(testdataRoot, "events", tt.event, "format"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := ParseFormat(f)
			if err != nil {
				t.Fatalf("ParseFormat: %v", err)
			}
			if got.Name != tt.name || got.ID != tt.id || got.Category != "" {
				t.Errorf("name, ID, category = %q, %d, %q; want %q, %d, \"\"", got.Name, got.ID, got.Category, tt.name, tt.id)
			}
			if !reflect.DeepEqual(got.Common, commonFields) {
				t.Errorf("Common = %+v\nwant %+v", got.Common, commonFields)
			}
			if len(got.Fields) != tt.nfields {
				t.Errorf("%d fields, want %d: %+v", len(got.Fields), tt.nfields, got.Fields)
			}
			if got.Size != tt.size {
				t.Errorf("Size = %d, want %d", got.Size, tt.size)
			}
			if !strings.HasPrefix(got.PrintFmt, `"`) {
				t.Errorf("PrintFmt = %.40q, want a quoted format", got.PrintFmt)
			}
			if !strings.Contains(got.PrintFmt, tt.printFmt) || strings.HasSuffix(got.PrintFmt, "\n") {
				t.Errorf("PrintFmt = %q, want it to contain %q", got.PrintFmt, tt.printFmt)
			}
			for _, want := range tt.want {
				fl, ok := got.Field(want.Name)
				if !ok {
					t.Errorf("no field %q", want.Name)
					continue
				}
				if fl != want {
					t.Errorf("field %s = %+v\nwant %+v", want.Name, fl, want)
				}
			}
		})
	}
}

func TestParseFormatEdgeCases(t *testing.T) {
	const header = "name: ev\nID: 7\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n"
	tests := []struct {
		name  string
		field string // one field line
		want  Field
	}{
		{"symbolic array length", "field:char comm[TASK_COMM_LEN];\toffset:8;\tsize:16;\tsigned:0;",
			Field{Name: "comm", Type: "char", Offset: 8, Size: 16, ArrayLen: 16}},
		{"symbolic length of u32 array", "field:u32 regs[NR_REGS];\toffset:8;\tsize:24;\tsigned:0;",
			Field{Name: "regs", Type: "u32", Offset: 8, Size: 24, ArrayLen: 6}},
		{"two dimensions", "field:u8 m[2][3];\toffset:8;\tsize:6;\tsigned:0;",
			Field{Name: "m", Type: "u8", Offset: 8, Size: 6, ArrayLen: 6}},
		{"array of pointers", "field:const char * argv[4];\toffset:8;\tsize:32;\tsigned:0;",
			Field{Name: "argv", Type: "const char *", Offset: 8, Size: 32, ArrayLen: 4, Pointer: true}},
		{"pointer without space", "field:char *name;\toffset:8;\tsize:8;\tsigned:0;",
			Field{Name: "name", Type: "char *", Offset: 8, Size: 8, Pointer: true}},
		{"rel_loc", "field:__rel_loc char[] name;\toffset:8;\tsize:4;\tsigned:0;",
			Field{Name: "name", Type: "__rel_loc char[]", Offset: 8, Size: 4, RelLoc: true}},
		{"no signed attribute (old kernels)", "field:int x;\toffset:8;\tsize:4;",
			Field{Name: "x", Type: "int", Offset: 8, Size: 4}},
		{"extra blanks", "field: unsigned  long\tval ;  offset:8; size:8; signed:0;",
			Field{Name: "val", Type: "unsigned long", Offset: 8, Size: 8}},
		{"unknown attribute ignored", "field:int x;\toffset:8;\tsize:4;\tsigned:1;\tfuture:3;",
			Field{Name: "x", Type: "int", Offset: 8, Size: 4, Signed: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFormat(strings.NewReader(header + "\t" + tt.field + "\n\nprint fmt: \"x\"\n"))
			if err != nil {
				t.Fatalf("ParseFormat: %v", err)
			}
			if len(got.Fields) != 1 || got.Fields[0] != tt.want {
				t.Fatalf("Fields = %+v\nwant [%+v]", got.Fields, tt.want)
			}
			if got.Size != tt.want.Offset+tt.want.Size {
				t.Errorf("Size = %d, want %d", got.Size, tt.want.Offset+tt.want.Size)
			}
		})
	}
}

func TestParseFormatErrors(t *testing.T) {
	tests := []struct {
		name, input, wantErr string
	}{
		{"empty", "", "no name"},
		{"no ID", "name: x\nformat:\n", "no ID"},
		{"bad ID", "name: x\nID: seven\n", "bad ID"},
		{"missing offset", "name: x\nID: 1\nformat:\n\tfield:int a;\tsize:4;\tsigned:1;\n", "missing offset"},
		{"bad size", "name: x\nID: 1\nformat:\n\tfield:int a;\toffset:8;\tsize:four;\n", "bad size"},
		{"no name in decl", "name: x\nID: 1\nformat:\n\tfield:int;\toffset:8;\tsize:4;\n", "cannot split"},
		{"unknown array length", "name: x\nID: 1\nformat:\n\tfield:struct foo a[N];\toffset:8;\tsize:12;\n", "cannot determine length"},
		{"garbage line", "name: x\nID: 1\nhello world\n", "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFormat(strings.NewReader(tt.input))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFieldElemType(t *testing.T) {
	tests := []struct {
		f    Field
		want string
	}{
		{Field{Type: "__data_loc char[]", DataLoc: true}, "char"},
		{Field{Type: "__data_loc unsigned int[]", DataLoc: true}, "unsigned int"},
		{Field{Type: "__rel_loc u8[]", RelLoc: true}, "u8"},
		{Field{Type: "__data_loc cpumask_t", DataLoc: true}, "cpumask_t"},
		{Field{Type: "const char *", Pointer: true}, "const char *"},
	}
	for _, tt := range tests {
		if got := tt.f.ElemType(); got != tt.want {
			t.Errorf("ElemType(%q) = %q, want %q", tt.f.Type, got, tt.want)
		}
	}
}
