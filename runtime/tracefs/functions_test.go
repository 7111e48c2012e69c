package tracefs

import (
	"reflect"
	"testing"
)

func TestParseFunctions(t *testing.T) {
	data := []byte(`vfs_read
__ftrace_invalid_address___84
tcp_connect
dup_static
dup_static
mod_func [mymod]
dup_static [mymod]

`)
	want := []Function{
		{Name: "dup_static"},
		{Name: "dup_static", Module: "mymod"},
		{Name: "mod_func", Module: "mymod"},
		{Name: "tcp_connect"},
		{Name: "vfs_read"},
	}
	if got := ParseFunctions(data); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestFunctionsFromTestdata(t *testing.T) {
	fs, err := OpenAt("../../testdata/tracefs")
	if err != nil {
		t.Fatal(err)
	}
	fns, err := fs.Functions()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range fns {
		found = found || (f.Name == "vfs_read" && f.Module == "")
	}
	if !found {
		t.Errorf("testdata's available_filter_functions has no vfs_read: %v", fns)
	}
	if fs.HasKprobeEvents() {
		t.Error("testdata has no kprobe_events, yet HasKprobeEvents says yes")
	}
}
