package tracefs

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestUnescapeMount(t *testing.T) {
	tests := map[string]string{
		"/sys/kernel/tracing":   "/sys/kernel/tracing",
		`/mnt/with\040space`:    "/mnt/with space",
		`/a\011b\012c\134d`:     "/a\tb\nc\\d",
		`/trailing\04`:          `/trailing\04`,
		`/not\999octal`:         `/not\999octal`,
		`\040`:                  " ",
		`/x\040\040y`:           "/x  y",
		`/already\\backslash`:   `/already\\backslash`,
		`/ends-with-backslash\`: `/ends-with-backslash\`,
	}
	for in, want := range tests {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadMounts(t *testing.T) {
	p := writeFile(t, t.TempDir(), "mounts",
		"proc /proc proc rw,relatime 0 0\n"+
			"nodev /sys/kernel/tracing tracefs rw,relatime 0 0\n"+
			"\n"+
			"debugfs /sys/kernel/debug debugfs rw 0 0\n"+
			`nodev /mnt/my\040trace tracefs rw 0 0`+"\n")
	got, err := readMounts(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []mount{
		{"proc", "/proc", "proc"},
		{"nodev", "/sys/kernel/tracing", "tracefs"},
		{"debugfs", "/sys/kernel/debug", "debugfs"},
		{"nodev", "/mnt/my trace", "tracefs"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("readMounts = %+v\nwant %+v", got, want)
	}
	if _, err := readMounts(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("readMounts of a missing file succeeded")
	}
}

// open() finds existing mounts from the mount table without mounting
// anything. The "mount points" here are copies of testdata.
func TestOpenFindsExistingMount(t *testing.T) {
	abs, err := filepath.Abs(testdataRoot)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	spaced := filepath.Join(tmp, "my trace")
	copyTree(t, abs, spaced)
	debugfs := filepath.Join(tmp, "debug")
	copyTree(t, abs, filepath.Join(debugfs, "tracing"))
	empty := filepath.Join(tmp, "empty") // mounted, but no events/
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	escaped := strings.ReplaceAll(spaced, " ", `\040`)

	tests := []struct {
		name, mounts string
		cfgTracefs   string
		want         string
	}{
		{"the one tracefs mount", "nodev " + escaped + " tracefs rw 0 0\n", filepath.Join(tmp, "not-mounted"), spaced},
		{"preferred location first", "nodev " + escaped + " tracefs rw 0 0\nnodev " + abs + " tracefs rw 0 0\n", abs, abs},
		{"skip tracefs without events", "nodev " + empty + " tracefs rw 0 0\nnodev " + abs + " tracefs rw 0 0\n", empty, abs},
		{"tracefs before debugfs", "debugfs " + debugfs + " debugfs rw 0 0\nnodev " + abs + " tracefs rw 0 0\n", "/x", abs},
		{"debugfs/tracing", "debugfs " + debugfs + " debugfs rw 0 0\n", "/x", filepath.Join(debugfs, "tracing")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mountConfig{
				mounts:  writeFile(t, t.TempDir(), "mounts", tt.mounts),
				tracefs: tt.cfgTracefs,
				debugfs: "/nonexistent-debugfs",
			}
			fs, err := open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if fs.Root() != tt.want {
				t.Errorf("Root() = %q, want %q", fs.Root(), tt.want)
			}
		})
	}
}

// With nothing mounted and nowhere to mount, the error tells the user what
// to run.
func TestOpenErrorSaysWhatToDo(t *testing.T) {
	tmp := t.TempDir()
	cfg := mountConfig{
		mounts:  writeFile(t, tmp, "mounts", "proc /proc proc rw 0 0\n"),
		tracefs: filepath.Join(tmp, "no-such-dir", "tracing"),
		debugfs: filepath.Join(tmp, "no-such-dir", "debug"),
	}
	_, err := open(cfg)
	if err == nil {
		t.Fatal("open succeeded")
	}
	for _, want := range []string{
		"tracefs is not mounted",
		"mount -t tracefs nodev " + cfg.tracefs,
		"mount -t debugfs nodev " + cfg.debugfs,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
