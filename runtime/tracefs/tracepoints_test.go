package tracefs

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// testdataEvents are the events listed in testdata's available_events, in
// sorted order (ftrace:print is in events/ but, as on the kernel, not
// listed and without an enable file).
var testdataEvents = []string{
	"dma:dma_map_sg",
	"ext4:ext4_fsmap_low_key",
	"ipi:ipi_send_cpumask",
	"percpu:percpu_alloc_percpu",
	"raw_syscalls:sys_enter",
	"raw_syscalls:sys_exit",
	"sched:sched_process_exec",
	"sched:sched_switch",
	"sched:sched_wakeup",
	"sock:inet_sock_set_state",
	"syscalls:sys_enter_mq_open",
	"syscalls:sys_enter_open",
	"syscalls:sys_enter_openat",
	"syscalls:sys_enter_openat2",
	"syscalls:sys_enter_read",
	"syscalls:sys_exit_open",
	"syscalls:sys_exit_openat",
	"syscalls:sys_exit_read",
}

func tracepointStrings(tps []Tracepoint) []string {
	out := make([]string, len(tps))
	for i, tp := range tps {
		out[i] = tp.String()
	}
	return out
}

// copyTree copies the directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTracepointsFromTestdata(t *testing.T) {
	// The same tree read two ways: through available_events, and by
	// walking events/ once available_events is removed.
	walkRoot := t.TempDir()
	copyTree(t, testdataRoot, walkRoot)
	if err := os.Remove(filepath.Join(walkRoot, "available_events")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, root string }{
		{"available_events", testdataRoot},
		{"walk events", walkRoot},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := OpenAt(tt.root)
			if err != nil {
				t.Fatal(err)
			}
			tps, err := fs.Tracepoints()
			if err != nil {
				t.Fatal(err)
			}
			if got := tracepointStrings(tps); !reflect.DeepEqual(got, testdataEvents) {
				t.Errorf("Tracepoints() =\n%q\nwant\n%q", got, testdataEvents)
			}
		})
	}
}

func TestMatchTestdata(t *testing.T) {
	fs, err := OpenAt(testdataRoot)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		category, name string
		want           []string
	}{
		{"syscalls", "sys_enter_*", []string{
			"syscalls:sys_enter_mq_open", "syscalls:sys_enter_open", "syscalls:sys_enter_openat",
			"syscalls:sys_enter_openat2", "syscalls:sys_enter_read"}},
		{"syscalls", "sys_*_open*", []string{
			"syscalls:sys_enter_mq_open", "syscalls:sys_enter_open", "syscalls:sys_enter_openat",
			"syscalls:sys_enter_openat2", "syscalls:sys_exit_open", "syscalls:sys_exit_openat"}},
		{"*", "sched_switch", []string{"sched:sched_switch"}},
		{"*", "sys_e*", []string{
			"raw_syscalls:sys_enter", "raw_syscalls:sys_exit",
			"syscalls:sys_enter_mq_open", "syscalls:sys_enter_open", "syscalls:sys_enter_openat",
			"syscalls:sys_enter_openat2", "syscalls:sys_enter_read",
			"syscalls:sys_exit_open", "syscalls:sys_exit_openat", "syscalls:sys_exit_read"}},
		{"sched", "sched_process_exec", []string{"sched:sched_process_exec"}},
	}
	for _, tt := range tests {
		t.Run(tt.category+":"+tt.name, func(t *testing.T) {
			got, err := fs.Match(tt.category, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if s := tracepointStrings(got); !reflect.DeepEqual(s, tt.want) {
				t.Errorf("got %q\nwant %q", s, tt.want)
			}
		})
	}
	if _, err := fs.Match("ftrace", "*"); err == nil || !strings.Contains(err.Error(), `"ftrace:*"`) {
		t.Errorf("Match(ftrace:*) err = %v, want no-match error naming the pattern", err)
	}
}

func TestFormatAndIDFromTestdata(t *testing.T) {
	fs, err := OpenAt(testdataRoot)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fs.Format("syscalls", "sys_enter_openat")
	if err != nil {
		t.Fatal(err)
	}
	if f.Category != "syscalls" || f.Name != "sys_enter_openat" || f.ID != 782 {
		t.Errorf("Format = %s:%s id %d", f.Category, f.Name, f.ID)
	}
	id, err := fs.ID("syscalls", "sys_enter_openat")
	if err != nil || id != 782 {
		t.Errorf("ID = %d, %v; want 782", id, err)
	}
	if !fs.Exists("sched", "sched_switch") || fs.Exists("sched", "nope") || fs.Exists("..", "sched") {
		t.Error("Exists gives wrong answers")
	}

	errTests := []struct {
		category, name, wantErr string
	}{
		{"sched", "nope", "tracepoint sched:nope not found"},
		{"..", "x", "invalid tracepoint category"},
		{"sched", "../../x", "invalid tracepoint name"},
		{"", "x", "invalid tracepoint category"},
	}
	for _, tt := range errTests {
		if _, err := fs.Format(tt.category, tt.name); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Format(%q, %q) err = %v, want %q", tt.category, tt.name, err, tt.wantErr)
		}
		if _, err := fs.ID(tt.category, tt.name); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ID(%q, %q) err = %v, want %q", tt.category, tt.name, err, tt.wantErr)
		}
	}
}

// Every format in testdata parses, and the ID in the format file agrees with
// the id file.
func TestTestdataFormatsConsistent(t *testing.T) {
	fs, err := OpenAt(testdataRoot)
	if err != nil {
		t.Fatal(err)
	}
	tps, err := fs.Tracepoints()
	if err != nil {
		t.Fatal(err)
	}
	tps = append(tps, Tracepoint{"ftrace", "print"})
	for _, tp := range tps {
		f, err := fs.Format(tp.Category, tp.Name)
		if err != nil {
			t.Errorf("%s: %v", tp, err)
			continue
		}
		id, err := fs.ID(tp.Category, tp.Name)
		if err != nil || id != f.ID {
			t.Errorf("%s: ID() = %d, %v; format says %d", tp, id, err, f.ID)
		}
		if !slices.Equal(f.Common, commonFields) {
			t.Errorf("%s: unexpected common fields %+v", tp, f.Common)
		}
	}
}

func TestOpenAtRejectsNonTracefs(t *testing.T) {
	if _, err := OpenAt(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a tracing filesystem") {
		t.Fatalf("err = %v", err)
	}
}
