package stdlib

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// mkdirs creates directories under root and returns root.
func mkdirs(t *testing.T, root string, dirs ...string) string {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// idOf is the cgroup ID a directory would have: its inode number.
func idOf(t *testing.T, path string) uint64 {
	t.Helper()
	id, err := cgroupID(path)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// The lookup only needs directories and their inode numbers, so ordinary
// directories stand in for cgroup hierarchies.
func TestCgroupTreePath(t *testing.T) {
	v2 := mkdirs(t, t.TempDir(), "a/b", "c", "d")
	v1 := mkdirs(t, t.TempDir(), "x")
	tree := &cgroupTree{mounted: true, hierarchies: []*cgroupHierarchy{
		newCgroupHierarchy("unified", v2),
		newCgroupHierarchy("memory", v1),
		// The same directory again: an ID found in several hierarchies
		// lists each, in order.
		newCgroupHierarchy("pids", v2),
	}}
	ab, x := idOf(t, filepath.Join(v2, "a/b")), idOf(t, filepath.Join(v1, "x"))
	tests := []struct {
		id     uint64
		filter string
		want   string
	}{
		{idOf(t, v2), "*", "unified:/,pids:/"},
		{idOf(t, v2), "unified", "unified:/"},
		{ab, "*", "unified:/a/b,pids:/a/b"},
		{ab, "p*", "pids:/a/b"},
		{ab, "memory", ""},
		{x, "*", "memory:/x"},
		{x, "uni*", ""},
		{1 << 63, "*", ""}, // no directory has this inode number
	}
	for _, tt := range tests {
		if got := tree.path(tt.id, tt.filter); got != tt.want {
			t.Errorf("path(%d, %q) = %q, want %q", tt.id, tt.filter, got, tt.want)
		}
	}

	// A cgroup created after the last walk is found by walking again.
	mkdirs(t, v2, "a/new")
	if got, want := tree.path(idOf(t, filepath.Join(v2, "a/new")), "unified"), "unified:/a/new"; got != want {
		t.Errorf("new cgroup: got %q, want %q", got, want)
	}
	// A renamed cgroup is found at its new path, not the remembered one.
	if err := os.Rename(filepath.Join(v2, "a/b"), filepath.Join(v2, "a/renamed")); err != nil {
		t.Fatal(err)
	}
	if got, want := tree.path(ab, "unified"), "unified:/a/renamed"; got != want {
		t.Errorf("renamed cgroup: got %q, want %q", got, want)
	}
	// A removed one is not found, and asking again does not walk again.
	gone := idOf(t, filepath.Join(v2, "c"))
	if err := os.Remove(filepath.Join(v2, "c")); err != nil {
		t.Fatal(err)
	}
	if got := tree.path(gone, "unified"); got != "" {
		t.Errorf("removed cgroup: got %q, want none", got)
	}
	h := tree.hierarchies[0]
	if !h.missing[gone] {
		t.Errorf("the removed cgroup's ID is not remembered as missing")
	}
	// A remembered path that is still right is used without a walk: the
	// walk would have seen this directory, created after the last one.
	mkdirs(t, v2, "later")
	if got, want := tree.path(idOf(t, filepath.Join(v2, "d")), "unified"), "unified:/d"; got != want {
		t.Errorf("cached cgroup: got %q, want %q", got, want)
	}
	if _, walked := h.paths[idOf(t, filepath.Join(v2, "later"))]; walked {
		t.Errorf("a cached lookup walked the hierarchy again")
	}
}

// cgroupHierarchies on the machine's /sys/fs/cgroup: whatever its layout,
// cgroup v2 is listed first as "unified" and the others follow by name.
func TestCgroupHierarchies(t *testing.T) {
	hs := cgroupHierarchies(cgroupRoot)
	if len(hs) == 0 {
		t.Skipf("no cgroup hierarchy is mounted at %s", cgroupRoot)
	}
	var names []string
	for i, h := range hs {
		if h.name == unifiedHierarchy && i != 0 {
			t.Errorf("%s (%s) is not listed first", h.name, h.dir)
		}
		if h.name != unifiedHierarchy {
			names = append(names, h.name)
			if filepath.Base(h.dir) != h.name {
				t.Errorf("cgroup v1 hierarchy at %s is named %q, not after its directory", h.dir, h.name)
			}
		}
		if _, err := os.Stat(h.dir); err != nil {
			t.Error(err)
		}
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("cgroup v1 hierarchies are not in order of name: %v", names)
	}
}
