package runtime

import (
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/gotrace/gotrace/runtime/kerneltest"
	"github.com/gotrace/gotrace/runtime/tracefs"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// testdataEnv resolves kernel functions against testdata (a copy of a real
// available_filter_functions and kallsyms), so that compiling needs no
// tracefs access; tracepoints and kernel types are the machine's.
func testdataEnv(t *testing.T) *probes.Env {
	t.Helper()
	fs, err := tracefs.OpenAt("../testdata/tracefs")
	if err != nil {
		t.Fatal(err)
	}
	return &probes.Env{Functions: &probes.MachineFunctions{Tracefs: fs, KallsymsPath: "../testdata/kallsyms"}}
}

// The programs of kernel function probes load into the running kernel's
// verifier. Loading needs no kprobes, so kprobe programs are checked on
// any kernel; fentry and fexit programs are checked where the kernel loads
// tracing programs, and elsewhere must fail to load (and are still checked
// for what they are loaded as).
func TestKernelFunctionProgramsLoad(t *testing.T) {
	kerneltest.Require(t)
	tracing := kerneltest.HasFeature(kerneltest.Fentry) == nil
	cases := []struct {
		name, script string
		progType     ebpf.ProgramType
		attachType   ebpf.AttachType
		programs     int // distinct kernel programs (identical ones are shared)
	}{
		{"kprobe argN, probe, func", `kprobe:vfs_read { @[arg0, arg1, arg5] = count(); printf("%d %s %s\n", arg2, probe, func); }`, ebpf.Kprobe, 0, 1},
		{"kprobe struct through a cast argument", `kprobe:vfs_read { @[str(((struct file *)arg0)->f_path.dentry->d_name.name)] = count(); }`, ebpf.Kprobe, 0, 1},
		{"kprobe curtask and predicate", `kprobe:vfs_read /curtask->pid == 1 && arg2 > 10/ { @[comm, curtask->real_parent->comm] = count(); }`, ebpf.Kprobe, 0, 1},
		{"kprobe at an offset", `kprobe:vfs_read+4 { @ = count(); }`, ebpf.Kprobe, 0, 1},
		{"kretprobe retval and func", `kretprobe:vfs_read { @[retval, func] = count(); @h = hist(retval); }`, ebpf.Kprobe, 0, 1},
		{"kprobe wildcard shares one program", `kprobe:tcp_* { @[probe] = count(); @f[func] = count(); }`, ebpf.Kprobe, 0, 1},
		{"kprobe alias and module", `k:kvm:kvm_vcpu_ioctl, kr:vfs_write { @[probe] = count(); }`, ebpf.Kprobe, 0, 1},
		{"kstack in a kprobe", `kprobe:vfs_read { @[kstack] = count(); @p[kstack(perf, 5)] = count(); printf("%s\n", kstack(raw, 3)); }`, ebpf.Kprobe, 0, 1},
		{"fentry typed args", `fentry:vfs_read { @[args.count, str(args.file->f_path.dentry->d_name.name)] = count(); @b = (uint64)args.buf & 0xfff; }`, ebpf.Tracing, ebpf.AttachTraceFEntry, 1},
		{"fexit retval", `fexit:vfs_read { @[retval, args.count, func, probe] = count(); }`, ebpf.Tracing, ebpf.AttachTraceFExit, 1},
		{"fexit pointer retval", `fexit:fget { @[str(retval->f_path.dentry->d_name.name)] = count(); }`, ebpf.Tracing, ebpf.AttachTraceFExit, 1},
		{"fentry wildcard: one program per function", `f:tcp_connect, kfunc:tcp_close { @[func] = count(); }`, ebpf.Tracing, ebpf.AttachTraceFEntry, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Compile(c.name, c.script, CompileOptions{Env: testdataEnv(t)})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			for _, p := range s.Code.Programs {
				if p.Spec.Type != c.progType || p.Spec.AttachType != c.attachType {
					t.Errorf("%s: program type %v, attach type %v; want %v, %v", p.Target.Name, p.Spec.Type, p.Spec.AttachType, c.progType, c.attachType)
				}
				if c.progType == ebpf.Tracing && p.Spec.AttachTo != p.Target.Func {
					t.Errorf("%s: attaches to %q, want %q", p.Target.Name, p.Spec.AttachTo, p.Target.Func)
				}
			}
			l, err := s.load(loadConfig{})
			if c.progType == ebpf.Tracing && !tracing {
				if err == nil {
					l.close()
					t.Fatal("a tracing program loaded on a kernel whose tracing programs do not load")
				}
				return
			}
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			defer l.close()
			if n := len(slices.Compact(slices.Clone(l.names))); n != c.programs {
				t.Errorf("%d distinct programs loaded for %d targets, want %d", n, len(l.names), c.programs)
			}
		})
	}
}

// Under kprobe-multi, programs that serve several functions are loaded for
// one multi link; without it, one program still serves them all through
// single links (each target has its cookie).
func TestKprobeWildcardLoadsForMultiLink(t *testing.T) {
	kerneltest.Require(t)
	s, err := Compile("multi.gt", `kprobe:tcp_c* { @[func] = count(); } kprobe:vfs_read+4, kprobe:kvm_vcpu_ioctl { @n = count(); }`, CompileOptions{Env: testdataEnv(t)})
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.load(loadConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	multi := kerneltest.HasFeature(kerneltest.KprobeMulti) == nil
	for i, p := range s.Code.Programs {
		// tcp_close and tcp_connect share a program; an offset and a
		// module function never go on a multi link.
		want := multi && strings.HasPrefix(p.Target.Func, "tcp_c")
		if got := l.multi[l.names[i]]; got != want {
			t.Errorf("%s: loaded for a multi link: %v, want %v", p.Target.Name, got, want)
		}
	}
}
