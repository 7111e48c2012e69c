package runtime_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// TestCgroupPath checks cgroup_path() against /proc/self/cgroup (BEGIN runs
// in the test process) and against cgroups the test creates.
func TestCgroupPath(t *testing.T) {
	kerneltest.Require(t)
	unified := unifiedMount(t)
	own := ownCgroupV2(t)
	dir := filepath.Join(unified, fmt.Sprintf("gotrace-test-%d", os.Getpid()))
	child := filepath.Join(dir, "child")
	if err := os.MkdirAll(child, 0o755); err != nil {
		t.Skipf("cannot create a cgroup: %v", err)
	}
	t.Cleanup(func() {
		os.Remove(child)
		os.Remove(dir)
	})
	script := fmt.Sprintf(`BEGIN {
	printf("%%s\n", cgroup_path(cgroup, "unified"));
	printf("%%s\n", cgroup_path(cgroup));
	printf("%%s\n", cgroup_path(cgroupid(%q), "unified"));
	printf("%%s\n", cgroup_path(cgroupid(%q), "uni*"));
	printf("[%%s]\n", cgroup_path(cgroup, "no-such-hierarchy"));
	exit();
}`, child, dir)
	out, _, _ := runScript(t, "cgroup_path.gt", script, nil, "", 5*time.Second)
	lines := strings.Split(out, "\n")
	if len(lines) < 5 {
		t.Fatalf("got %q, want 5 lines", out)
	}
	rel := "/" + filepath.Base(dir)
	want := []string{"unified:" + own, "", "unified:" + rel + "/child", "unified:" + rel, "[]"}
	for i, w := range want {
		if i == 1 {
			// Without a filter, the cgroup v1 hierarchies (if any) that
			// have a cgroup with the same inode number follow.
			if l := lines[1]; l != want[0] && !strings.HasPrefix(l, want[0]+",") {
				t.Errorf("cgroup_path(cgroup) = %q, want %q first", l, want[0])
			}
			continue
		}
		if lines[i] != w {
			t.Errorf("line %d: got %q, want %q", i+1, lines[i], w)
		}
	}
}

// unifiedMount is where cgroup v2 is mounted, for cgroup_path(): at
// /sys/fs/cgroup, or at /sys/fs/cgroup/unified next to v1 hierarchies.
func unifiedMount(t *testing.T) string {
	t.Helper()
	for _, dir := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var st unix.Statfs_t
		if unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return dir
		}
	}
	t.Skip("cgroup v2 is not mounted at /sys/fs/cgroup or /sys/fs/cgroup/unified")
	return ""
}

// ownCgroupV2 is the test process's cgroup v2 path, from /proc/self/cgroup.
func ownCgroupV2(t *testing.T) string {
	t.Helper()
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "0::/user.slice/session-1.scope": hierarchy 0, no controllers.
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return p
		}
	}
	t.Skip("the test process has no cgroup v2 line in /proc/self/cgroup")
	return ""
}
