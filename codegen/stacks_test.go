package codegen_test

import (
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/tracefs"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// A stack value is an 8-byte ID, so a map keyed by stacks has small keys;
// the frames go to one side map per stack layout (kind and frame limit,
// not mode), which holds MaxStacks stacks, by default 65536 or
// max_map_keys if that is more, allocated as they arrive.
func TestStackSideMaps(t *testing.T) {
	type side struct {
		name       string // the layout's name
		value, max uint32
	}
	tests := []struct {
		name    string
		script  string
		opts    codegen.Options
		keySize uint32 // of the map @
		sides   []side // in order of first use
	}{
		{"kstack", `profile:hz:99 { @[kstack] = count(); }`, codegen.Options{}, 8,
			[]side{{"kstack127", 8 + 127*8, 65536}}},
		{"layouts", `profile:hz:99 { @[kstack, ustack] = count(); @p[kstack(perf)] = count(); @r[kstack(raw, 3)] = count(); printf("%s\n", ustack(perf, 5)); }`,
			codegen.Options{}, 16,
			[]side{{"kstack127", 8 + 127*8, 65536}, {"ustack127", 16 + 127*8, 65536}, {"kstack3", 8 + 3*8, 65536}, {"ustack5", 16 + 5*8, 65536}}},
		{"max_map_keys", `config = { max_map_keys = 100000 } profile:hz:99 { @[kstack(1024)] = count(); }`, codegen.Options{}, 8,
			[]side{{"kstack1024", 8 + 1024*8, 100000}}},
		{"MaxStacks", `profile:hz:99 { @[ustack] = count(); }`, codegen.Options{MaxStacks: 10}, 8,
			[]side{{"ustack127", 16 + 127*8, 10}}},
	}
	fs, err := tracefs.OpenAt("../testdata/tracefs")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := runtime.Compile("test.gt", tt.script, runtime.CompileOptions{Env: &probes.Env{Tracepoints: fs}, Codegen: tt.opts})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			out := s.Code
			for _, m := range out.Maps {
				if m.Name == "@" && m.Spec.KeySize != tt.keySize {
					t.Errorf("@ has %d-byte keys, want %d", m.Spec.KeySize, tt.keySize)
				}
			}
			if len(out.Stacks) != len(tt.sides) {
				t.Fatalf("stack layouts %v, want %d of them", out.Stacks, len(tt.sides))
			}
			for i, want := range tt.sides {
				l := out.Stacks[i]
				if l.Name() != want.name {
					t.Errorf("layout %d is %s, want %s", i, l.Name(), want.name)
				}
				spec := out.Specs[codegen.StackMapRef(l)]
				if spec == nil {
					t.Errorf("no side map for %s", l.Name())
					continue
				}
				if spec.Type != ebpf.Hash || spec.KeySize != 8 || spec.ValueSize != want.value ||
					spec.MaxEntries != want.max || spec.Flags != unix.BPF_F_NO_PREALLOC {
					t.Errorf("side map of %s: %v key %d value %d max %d flags %#x, want Hash key 8 value %d max %d BPF_F_NO_PREALLOC",
						l.Name(), spec.Type, spec.KeySize, spec.ValueSize, spec.MaxEntries, spec.Flags, want.value, want.max)
				}
			}
		})
	}
}
