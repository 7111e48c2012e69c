package probes

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/gotrace/gotrace/runtime/tracefs"
)

// TestListedTracepoints checks that the source the zero Env uses, which
// reads the list of tracepoints and their formats once, resolves what
// tracefs itself does: the same tracepoints or the same error for names
// and for wildcards, and the same formats.
func TestListedTracepoints(t *testing.T) {
	fs, err := tracefs.OpenAt("../../testdata/tracefs")
	if err != nil {
		t.Fatal(err)
	}
	l := &listedTracepoints{FS: fs}
	for _, p := range [][2]string{
		{"sched", "sched_switch"}, {"sched", "nope"}, {"ftrace", "print"},
		{"sched", "sched_*"}, {"*", "sys_enter*"}, {"sched", "nope*"},
		{"raw_syscalls", "sys_enter"}, {"sched", "sched_switch"},
	} {
		got, err := l.Match(p[0], p[1])
		want, wantErr := fs.Match(p[0], p[1])
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
			t.Errorf("Match(%q, %q) = %v, %v; tracefs gives %v, %v", p[0], p[1], got, err, want, wantErr)
		}
	}
	for range 2 {
		for _, tp := range [][2]string{{"sched", "sched_switch"}, {"raw_syscalls", "sys_enter"}, {"sched", "nope"}} {
			got, err := l.Format(tp[0], tp[1])
			want, wantErr := fs.Format(tp[0], tp[1])
			if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
				t.Errorf("Format(%q, %q) = %+v, %v; tracefs gives %+v, %v", tp[0], tp[1], got, err, want, wantErr)
			}
		}
	}
}
