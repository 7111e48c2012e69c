package probes

import (
	"errors"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/perf"
	"github.com/gotrace/gotrace/runtime/tracefs"
)

// testEnv resolves kernel functions against testdata: a copy of a real
// available_filter_functions and the matching lines of kallsyms.
func testEnv(t *testing.T) *Env {
	t.Helper()
	fs, err := tracefs.OpenAt("../../testdata/tracefs")
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Tracepoints: fs, Functions: &MachineFunctions{Tracefs: fs, KallsymsPath: "../../testdata/kallsyms"}}
}

func TestResolveKprobes(t *testing.T) {
	regs, ok := RegsFor(goruntime.GOARCH)
	if !ok {
		t.Skipf("no kprobes on %s", goruntime.GOARCH)
	}
	cases := []struct {
		spec   string
		names  []string
		module string
		offset uint64
		ret    bool
	}{
		{spec: "kprobe:vfs_read", names: []string{"kprobe:vfs_read"}},
		{spec: "k:vfs_read+0x10", names: []string{"kprobe:vfs_read+16"}, offset: 16},
		{spec: "kprobe:vmlinux:vfs_read", names: []string{"kprobe:vfs_read"}},
		{spec: "kprobe:kvm:kvm_vcpu_ioctl", names: []string{"kprobe:kvm:kvm_vcpu_ioctl"}, module: "kvm"},
		{spec: "kprobe:tcp_c*", names: []string{"kprobe:tcp_close", "kprobe:tcp_connect"}},
		{spec: "kr:vfs_write", names: []string{"kretprobe:vfs_write"}, ret: true},
		// Not traceable by ftrace, but kprobes reach it.
		{spec: "kprobe:exc_nmi", names: []string{"kprobe:exc_nmi"}},
	}
	reg := NewRegistry()
	for _, c := range cases {
		t.Run(c.spec, func(t *testing.T) {
			ts, err := reg.Resolve(testEnv(t), c.spec)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tg := range ts {
				names = append(names, tg.Name)
				if tg.Spec != c.spec || tg.Offset != c.offset || tg.Module != c.module || tg.Regs != nil && tg.Regs.Arch != goruntime.GOARCH {
					t.Errorf("%s: spec %q offset %d module %q", tg.Name, tg.Spec, tg.Offset, tg.Module)
				}
				wantArgs, wantRet := len(regs.Args), (*types.Type)(nil)
				if c.ret {
					wantArgs, wantRet = 0, types.Uint64
				}
				if tg.NumArgs != wantArgs || tg.Retval != wantRet || (c.ret && tg.RetvalOffset != regs.Ret) {
					t.Errorf("%s: %d args, retval %v at %d", tg.Name, tg.NumArgs, tg.Retval, tg.RetvalOffset)
				}
			}
			if strings.Join(names, " ") != strings.Join(c.names, " ") {
				t.Errorf("targets %q, want %q", names, c.names)
			}
		})
	}
}

// fentry and fexit targets type args from BTF: each argument at its slot,
// retval in the slot after them.
func TestResolveFentry(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("no kernel BTF")
	}
	ts, err := NewRegistry().Resolve(testEnv(t), "fexit:vfs_read")
	if err != nil {
		t.Fatal(err)
	}
	tg := ts[0]
	var fields []string
	for _, f := range tg.Args.FieldList() {
		fields = append(fields, f.Name+"@"+string(rune('0'+f.Offset/8)))
	}
	if got := strings.Join(fields, " "); got != "file@0 buf@1 count@2 pos@3" {
		t.Errorf("args fields %s", got)
	}
	if tg.Retval == nil || tg.Retval.String() != "int64" || tg.RetvalOffset != 32 || tg.AttachTo != "vfs_read" {
		t.Errorf("retval %v at %d, attach to %q", tg.Retval, tg.RetvalOffset, tg.AttachTo)
	}
}

// Without ftrace's list (a kernel in lockdown refuses it), functions come
// from the symbol table, without padding and .cold symbols.
func TestFunctionsFallBackToKallsyms(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "events"), 0o755); err != nil {
		t.Fatal(err)
	}
	fs, err := tracefs.OpenAt(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := &MachineFunctions{Tracefs: fs, KallsymsPath: "../../testdata/kallsyms"}
	fns, exact, err := src.Traceable()
	if err != nil || exact {
		t.Fatalf("Traceable() = %d functions, exact %v, %v; want the symbol table's", len(fns), exact, err)
	}
	var names []string
	for _, f := range fns {
		names = append(names, f.Name)
		if strings.HasPrefix(f.Name, "__pfx_") {
			t.Errorf("padding symbol %s listed", f.Name)
		}
	}
	if !strings.Contains(strings.Join(names, " "), "exc_nmi") {
		t.Errorf("exc_nmi missing from %q", names)
	}
}

func TestConfigValue(t *testing.T) {
	config := "CONFIG_BPF=y\n# CONFIG_KPROBES is not set\nCONFIG_LSM=\"a,b\"\n"
	for _, c := range []struct {
		option, value string
		known         bool
	}{
		{"CONFIG_BPF", "y", true},
		{"CONFIG_KPROBES", "", true},
		{"CONFIG_LSM", "a,b", true},
		{"CONFIG_FPROBE", "", true}, // absent: not set
	} {
		v, known := configValue(strings.NewReader(config), c.option)
		if v != c.value || known != c.known {
			t.Errorf("%s = %q, %v; want %q, %v", c.option, v, known, c.value, c.known)
		}
	}
}

// The missing-feature explanation names the kernel option when the
// configuration says it is off, and what was observed otherwise.
func TestMissingFeatureWhy(t *testing.T) {
	off := &MachineFeatures{Config: func(string) (string, bool) { return "", true }}
	unknown := &MachineFeatures{Config: func(string) (string, bool) { return "", false }}
	if got := off.why("CONFIG_KPROBES", "no PMU"); got != "CONFIG_KPROBES is not set" {
		t.Errorf("config off: %q", got)
	}
	if got := unknown.why("CONFIG_KPROBES", "no PMU"); got != "no PMU" {
		t.Errorf("config unknown: %q", got)
	}
	err := error(&MissingFeature{What: "attach kprobes", Why: "CONFIG_KPROBES is not set"})
	var mf *MissingFeature
	if !errors.As(err, &mf) || err.Error() != "this kernel cannot attach kprobes (CONFIG_KPROBES is not set)" {
		t.Errorf("MissingFeature: %v", err)
	}
}

func TestSpecFunction(t *testing.T) {
	for spec, want := range map[string]string{
		"kprobe:vfs_read":    "vfs_read",
		"k:tcp_*":            "tcp_*",
		"kprobe:vfs_read+8":  "vfs_read",
		"fentry:kvm:kvm_run": "kvm_run",
	} {
		if got := specFunction(spec); got != want {
			t.Errorf("specFunction(%q) = %q, want %q", spec, got, want)
		}
	}
}

// kprobeFeatures is a kernel with kprobes and fentry (or without kprobes).
type kprobeFeatures struct{ kprobes error }

func (f kprobeFeatures) Kprobes() error     { return f.kprobes }
func (f kprobeFeatures) Tracing() error     { return nil }
func (f kprobeFeatures) KprobeMulti() error { return errors.New("no kprobe-multi") }
func (f kprobeFeatures) Hardware(perf.HardwareEvent) error {
	return errors.New("no hardware counters")
}

// An fentry on a function that has no BTF prototype, but that kprobes
// reach (it is in the symbol table), says to use a kprobe where the
// kernel has them.
func TestFentryWithoutBTFSuggestsKprobe(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		t.Skip("no kernel BTF")
	}
	syms := filepath.Join(t.TempDir(), "kallsyms")
	if err := os.WriteFile(syms, []byte("ffffffff81000000 T gotrace_no_btf\nffffffff81000100 T gotrace_after\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spec    string
		kprobes error
		want    string
	}{
		{"fentry:gotrace_no_btf", nil, "fentry:gotrace_no_btf: the kernel's BTF has no function gotrace_no_btf; kprobes can attach to it: kprobe:gotrace_no_btf"},
		{"fr:gotrace_no_btf", nil, "fr:gotrace_no_btf: the kernel's BTF has no function gotrace_no_btf; kprobes can attach to it: kretprobe:gotrace_no_btf"},
		{"fentry:gotrace_no_btf", errors.New("no kprobes"), "fentry:gotrace_no_btf: the kernel's BTF has no function gotrace_no_btf"},
	} {
		env := testEnv(t)
		env.Functions = &MachineFunctions{Tracefs: env.Tracepoints.(*tracefs.FS), KallsymsPath: syms}
		env.Features = kprobeFeatures{c.kprobes}
		_, err := NewRegistry().Resolve(env, c.spec)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || (c.kprobes != nil) == strings.Contains(err.Error(), "kprobes can") {
			t.Errorf("%s (kprobes: %v): error %v, want %q", c.spec, c.kprobes, err, c.want)
		}
	}
}
