package format

import (
	"strings"
	"testing"
)

// A stack prints one frame per line after a newline, indented by eight
// spaces as a value and four as a map key, by a tab in perf mode: the
// layout of bpftrace 0.17, whose runtime tests compare gotrace's kstack
// output with the real bpftrace's (runtime TestKstackSameAsBpftrace).
func TestStackLayout(t *testing.T) {
	st := Stack{Frames: []string{"vfs_read+5", "ksys_read+103"}}
	perf := Stack{Frames: []string{"ffffffff816b89f5 vfs_read+5"}, Tab: true}
	cases := []struct {
		name, got, want string
	}{
		{"value", FormatValue(st), "\n        vfs_read+5\n        ksys_read+103\n"},
		{"perf value", FormatValue(perf), "\n\tffffffff816b89f5 vfs_read+5\n"},
		{"in a tuple", FormatValue(TupleValue{int64(1), st}), "(1, \n        vfs_read+5\n        ksys_read+103\n)"},
		{"key", FormatKey(Key{st}), "[\n    vfs_read+5\n    ksys_read+103\n]"},
		{"key with another element", FormatKey(Key{st, "cat"}), "[\n    vfs_read+5\n    ksys_read+103\n, cat]"},
		{"perf key", FormatKey(Key{perf}), "[\n\tffffffff816b89f5 vfs_read+5\n]"},
		{"empty", FormatValue(Stack{}), "\n"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	var b strings.Builder
	if err := WriteMap(&b, &Map{Name: "@", Kind: Scalar, Unsigned: true, Entries: []Entry{{Key: Key{st}, Int: 3}}}); err != nil {
		t.Fatal(err)
	}
	if want := "@[\n    vfs_read+5\n    ksys_read+103\n]: 3\n"; b.String() != want {
		t.Errorf("map: got %q, want %q", b.String(), want)
	}
	p, err := ParsePrintf(`%s|`)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Render([]Value{st}); got != "\n        vfs_read+5\n        ksys_read+103\n|" {
		t.Errorf("printf %%s: got %q", got)
	}
}
