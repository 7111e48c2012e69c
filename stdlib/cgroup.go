package stdlib

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/lang/types"
)

// cgroupRoot is where cgroup_path() looks cgroups up, as in bpftrace: a
// cgroup outside it (in a container's own cgroup namespace mount) is not
// found.
const cgroupRoot = "/sys/fs/cgroup"

// unifiedHierarchy is the name cgroup_path() gives the cgroup v2 hierarchy,
// wherever it is mounted, as bpftrace does.
const unifiedHierarchy = "unified"

// cgroupPathFunc is cgroup_path(id[, "filter"]). Only the ID is moved from
// the kernel: the path is found when the value is printed, so it may differ
// between two prints if the cgroup is renamed or its ID reused. The filter,
// a wildcard on hierarchy names, is the type's Param ("*" when omitted).
func cgroupPathFunc() *Func {
	return &Func{
		Name: "cgroup_path", Help: `cgroup_path(id[, "filter"]): the cgroup with that ID, as "hierarchy:path" for each hierarchy (filtered by a wildcard on their names) under /sys/fs/cgroup that has it`,
		Kind: Value, MinArgs: 1, MaxArgs: 2,
		Check: func(a *Args) (*types.Type, error) {
			if !a.Types[0].IsInt() {
				return nil, argErr(0, "cgroup_path() takes a cgroup ID (an integer such as cgroup), not %s", a.Types[0])
			}
			filter := "*"
			if len(a.Types) == 2 {
				if a.Strs[1] == nil {
					return nil, argErr(1, `cgroup_path()'s filter must be a string literal, e.g. "unified" or "cpu*"`)
				}
				filter = *a.Strs[1]
				if _, err := path.Match(filter, ""); err != nil {
					return nil, argErr(1, "cgroup_path(): invalid filter %q: %v", filter, err)
				}
			}
			return types.NewSpecial("cgroup_path", filter), nil
		},
		Emit: passValue,
	}
}

func cgroupPathFormatter() *Formatter {
	return &Formatter{Name: "cgroup_path", Format: func(l *Library, id uint64, filter string) string {
		return l.machine.cgroups.path(id, filter)
	}}
}

// cgroupTree finds cgroups by ID in the hierarchies mounted under
// /sys/fs/cgroup. A cgroup's ID is the inode number of its directory, so
// finding one means walking the directories; each hierarchy remembers its
// last walk and walks again only when asked for an ID the walk did not see.
// The zero value is ready to use: hierarchies are looked for on first use.
type cgroupTree struct {
	hierarchies []*cgroupHierarchy
	mounted     bool // hierarchies has been filled in
}

// cgroupHierarchy is one cgroup hierarchy and what is known of its cgroups.
type cgroupHierarchy struct {
	name string // "unified" for cgroup v2, else its directory's name
	dir  string
	// paths maps the IDs the last walk found to their path from dir ("/"
	// for the root). A path is checked before it is used, since the
	// cgroup may have been renamed or removed since.
	paths map[uint64]string
	// missing holds the IDs a walk looked for and did not find, so that
	// printing the ID of a removed cgroup again does not walk again. The
	// kernel does not reuse cgroup IDs, so the answer does not go stale.
	missing map[uint64]bool
}

func newCgroupHierarchy(name, dir string) *cgroupHierarchy {
	return &cgroupHierarchy{name: name, dir: dir, missing: map[uint64]bool{}}
}

// path renders the cgroup with the given ID as "hierarchy:path" for each
// hierarchy whose name matches filter and that has the cgroup, joined by
// commas: "unified:/system.slice/cron.service". It is "" if none has it.
func (t *cgroupTree) path(id uint64, filter string) string {
	if !t.mounted {
		t.mounted = true
		t.hierarchies = cgroupHierarchies(cgroupRoot)
	}
	var found []string
	for _, h := range t.hierarchies {
		if ok, _ := path.Match(filter, h.name); !ok {
			continue
		}
		if p, ok := h.lookup(id); ok {
			found = append(found, h.name+":"+p)
		}
	}
	return strings.Join(found, ",")
}

// cgroupHierarchies lists the hierarchies at root: root itself when it is a
// cgroup v2 mount, else the cgroup mounts in its directories (the layout of
// systems with cgroup v1, where v2 may be mounted at root/unified). The v2
// hierarchy comes first, the others in order of name. Symbolic links (cpu
// -> cpu,cpuacct) are left out, as their target is listed under its own name.
func cgroupHierarchies(root string) []*cgroupHierarchy {
	var st unix.Statfs_t
	if unix.Statfs(root, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return []*cgroupHierarchy{newCgroupHierarchy(unifiedHierarchy, root)}
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var hs []*cgroupHierarchy
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if unix.Statfs(dir, &st) != nil {
			continue
		}
		switch st.Type {
		case unix.CGROUP2_SUPER_MAGIC:
			hs = append(hs, newCgroupHierarchy(unifiedHierarchy, dir))
		case unix.CGROUP_SUPER_MAGIC:
			hs = append(hs, newCgroupHierarchy(e.Name(), dir))
		}
	}
	sort.SliceStable(hs, func(i, j int) bool {
		if ui, uj := hs[i].name == unifiedHierarchy, hs[j].name == unifiedHierarchy; ui != uj {
			return ui
		}
		return hs[i].name < hs[j].name
	})
	return hs
}

// lookup finds the path of the cgroup with the given ID, walking the
// hierarchy again when the last walk did not see the ID or saw it at a path
// that no longer has it.
func (h *cgroupHierarchy) lookup(id uint64) (string, bool) {
	if p, ok := h.paths[id]; ok {
		if now, err := cgroupID(filepath.Join(h.dir, p)); err == nil && now == id {
			return p, true
		}
	}
	if h.missing[id] {
		return "", false
	}
	h.walk()
	if p, ok := h.paths[id]; ok {
		return p, true
	}
	h.missing[id] = true
	return "", false
}

// walk records the path of every cgroup in the hierarchy. Directories that
// vanish or cannot be read during the walk are skipped.
func (h *cgroupHierarchy) walk() {
	h.paths = map[uint64]string{}
	_ = filepath.WalkDir(h.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		rel, err := filepath.Rel(h.dir, p)
		if err != nil {
			return nil
		}
		if rel == "." {
			rel = ""
		}
		h.paths[st.Ino] = "/" + filepath.ToSlash(rel)
		return nil
	})
}
