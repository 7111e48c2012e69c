package tracefs

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"sys_enter_*", "sys_enter_openat", true},
		{"sys_enter_*", "sys_enter_", true},
		{"sys_enter_*", "sys_exit_openat", false},
		{"sys_*_open*", "sys_enter_open", true},
		{"sys_*_open*", "sys_exit_openat2", true},
		{"sys_*_open*", "sys_enter_mq_open", true}, // '*' spans "enter_mq"
		{"sys_*_open*", "sys_enter_read", false},
		{"sys_*_open*", "sys_open", false},
		{"*", "anything", true},
		{"*", "", true},
		{"sched_switch", "sched_switch", true},
		{"sched_switch", "sched_switch2", false},
		{"sys_enter_read?", "sys_enter_readv", true},
		{"sys_enter_read?", "sys_enter_read", false},
		{"sched_[ws]*", "sched_wakeup", true},
		{"sched_[ws]*", "sched_switch", true},
		{"sched_[^w]*", "sched_wakeup", false},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
	}
	for _, tt := range tests {
		got, err := Glob(tt.pattern, tt.name)
		if err != nil || got != tt.want {
			t.Errorf("Glob(%q, %q) = %v, %v; want %v", tt.pattern, tt.name, got, err, tt.want)
		}
	}
}

func TestHasWildcard(t *testing.T) {
	for s, want := range map[string]bool{
		"sys_enter_openat": false, "sys_enter_*": true, "read?": true, "[ab]": true, "": false,
	} {
		if got := HasWildcard(s); got != want {
			t.Errorf("HasWildcard(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestFilter(t *testing.T) {
	all := []Tracepoint{
		{"raw_syscalls", "sys_enter"},
		{"raw_syscalls", "sys_exit"},
		{"sched", "sched_process_exec"},
		{"sched", "sched_switch"},
		{"syscalls", "sys_enter_mq_open"},
		{"syscalls", "sys_enter_open"},
		{"syscalls", "sys_enter_openat"},
		{"syscalls", "sys_enter_read"},
		{"syscalls", "sys_exit_openat"},
		{"xen", "sched_switch"}, // a second category with the same name
	}
	tests := []struct {
		category, name string
		want           []string
		wantErr        string
	}{
		{category: "syscalls", name: "sys_enter_*",
			want: []string{"syscalls:sys_enter_mq_open", "syscalls:sys_enter_open", "syscalls:sys_enter_openat", "syscalls:sys_enter_read"}},
		{category: "syscalls", name: "sys_*_open*",
			want: []string{"syscalls:sys_enter_mq_open", "syscalls:sys_enter_open", "syscalls:sys_enter_openat", "syscalls:sys_exit_openat"}},
		{category: "*", name: "sched_switch", want: []string{"sched:sched_switch", "xen:sched_switch"}},
		{category: "*", name: "sys_enter*",
			want: []string{"raw_syscalls:sys_enter", "syscalls:sys_enter_mq_open", "syscalls:sys_enter_open", "syscalls:sys_enter_openat", "syscalls:sys_enter_read"}},
		{category: "sched", name: "sched_switch", want: []string{"sched:sched_switch"}},
		{category: "sched", name: "nope", wantErr: `tracepoint "sched:nope" not found`},
		{category: "sched", name: "nope*", wantErr: `no tracepoint matches "sched:nope*"`},
		{category: "syscalls", name: "sys_[enter", wantErr: `invalid tracepoint pattern "syscalls:sys_[enter"`},
		// The syntax error lies after the point where matching fails.
		{category: "zzz[", name: "*", wantErr: "invalid tracepoint pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.category+":"+tt.name, func(t *testing.T) {
			got, err := Filter(all, tt.category, tt.name)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tp := range got {
				names = append(names, tp.String())
			}
			if !reflect.DeepEqual(names, tt.want) {
				t.Errorf("got %q\nwant %q", names, tt.want)
			}
		})
	}
}

// TestLookup checks that a name without wildcards, looked up by its
// directory, resolves as matching it against the list of all tracepoints
// does, and that Match, which tries Lookup first, gives what Filter gives.
func TestLookup(t *testing.T) {
	fs, err := OpenAt(testdataRoot)
	if err != nil {
		t.Fatal(err)
	}
	all, err := fs.Tracepoints()
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range all {
		got, ok := fs.Lookup(tp.Category, tp.Name)
		if !ok || !reflect.DeepEqual(got, []Tracepoint{tp}) {
			t.Errorf("Lookup(%q, %q) = %v, %v", tp.Category, tp.Name, got, ok)
		}
	}
	// ftrace:print has a directory and a format but is not listed (it has
	// no enable file); the others do not exist or are patterns.
	for _, p := range [][2]string{
		{"ftrace", "print"}, {"sched", "nope"}, {"nope", "sched_switch"}, {"sched", ".."}, {"..", "sched"},
		{"sched", "sched_*"}, {"*", "sys_enter"}, {"sched", "sched_switc?"}, {"sched", `sched\_switch`}, {"s[c]hed", "sched_switch"},
	} {
		if got, ok := fs.Lookup(p[0], p[1]); ok {
			t.Errorf("Lookup(%q, %q) found %v", p[0], p[1], got)
		}
	}
	for _, p := range [][2]string{
		{"sched", "sched_switch"}, {"raw_syscalls", "sys_exit"}, {"ftrace", "print"}, {"sched", "nope"},
		{"sched", "sched_*"}, {"sched", `sched\_switch`}, {"s[c]hed", "sched_switch"}, {"sched", ".."},
	} {
		got, err := fs.Match(p[0], p[1])
		want, wantErr := Filter(all, p[0], p[1])
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
			t.Errorf("Match(%q, %q) = %v, %v; Filter gives %v, %v", p[0], p[1], got, err, want, wantErr)
		}
	}
}
