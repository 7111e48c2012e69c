package runtime

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/runtime/kerneltest"
	"github.com/gotrace/gotrace/runtime/perf"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// fakeFeatures is a kernel that has kprobes, fentry and hardware
// counters, or lacks them.
type fakeFeatures struct{ missing error }

func (f fakeFeatures) Kprobes() error                    { return f.missing }
func (f fakeFeatures) Tracing() error                    { return f.missing }
func (f fakeFeatures) KprobeMulti() error                { return f.missing }
func (f fakeFeatures) Hardware(perf.HardwareEvent) error { return f.missing }

// Listing kernel function probes, against testdata's function list and the
// running kernel's BTF, on a kernel that has kprobes and fentry (faked: the
// machine running the test may not), and on one that lacks them.
func TestListKernelFunctions(t *testing.T) {
	kerneltest.Require(t) // tracefs for tracepoints, BTF for prototypes
	kernelOnly := func(ps []ListedProbe) []ListedProbe {
		var out []ListedProbe
		for _, p := range ps {
			if !strings.HasPrefix(p.Name, "tracepoint:") {
				out = append(out, p)
			}
		}
		return out
	}
	names := func(ns ...string) []ListedProbe {
		var out []ListedProbe
		for _, n := range ns {
			out = append(out, ListedProbe{Name: n})
		}
		return out
	}
	vfsRead := []string{"struct file * file", "char * buf", "size_t count", "loff_t * pos"}
	missing := &probes.MissingFeature{What: "attach kprobes", Why: "CONFIG_KPROBES is not set"}
	cases := []struct {
		name    string
		pattern string
		verbose bool
		missing error
		want    []ListedProbe
		err     string
	}{
		{name: "kprobe glob", pattern: "kprobe:tcp_*",
			want: names("kprobe:tcp_close", "kprobe:tcp_connect", "kprobe:tcp_reset", "kprobe:tcp_sendmsg", "kprobe:tcp_v4_connect")},
		{name: "alias and module", pattern: "k:kvm:*",
			want: names("kprobe:kvm:kvm_arch_vcpu_ioctl", "kprobe:kvm:kvm_vcpu_ioctl")},
		{name: "kretprobe when named", pattern: "kr:vfs_*",
			want: names("kretprobe:vfs_open", "kretprobe:vfs_read", "kretprobe:vfs_write")},
		// Module functions need the module's BTF, which testdata's made-up
		// kvm functions do not have.
		{name: "fentry glob", pattern: "fentry:vfs_*",
			want: names("fentry:vfs_open", "fentry:vfs_read", "fentry:vfs_write")},
		// A substring lists entry probes; the return probes only when
		// named.
		{name: "substring", pattern: "vfs_read", want: names("kprobe:vfs_read", "fentry:vfs_read")},
		{name: "fentry verbose", pattern: "f:vfs_rea?", verbose: true,
			want: []ListedProbe{{Name: "fentry:vfs_read", Args: vfsRead}}},
		{name: "fexit verbose", pattern: "fexit:vfs_read", verbose: true,
			want: []ListedProbe{{Name: "fexit:vfs_read", Args: append(vfsRead, "ssize_t retval")}}},
		{name: "kprobe verbose has no args", pattern: "kprobe:vfs_read", verbose: true,
			want: names("kprobe:vfs_read")},
		{name: "missing kprobes, named", pattern: "kprobe:tcp_*", missing: missing,
			err: "kprobe:tcp_*: this kernel cannot attach kprobes (CONFIG_KPROBES is not set); tracepoints and rawtracepoints work: try gotrace -l 'tracepoint:*tcp*'"},
		{name: "missing kprobes, substring", pattern: "tcp_connect", missing: missing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := testdataEnv(t)
			env.Features = fakeFeatures{c.missing}
			got, err := listProbes(c.pattern, c.verbose, env)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("got error %v, want %s", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := kernelOnly(got); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}
