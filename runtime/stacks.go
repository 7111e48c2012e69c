package runtime

import (
	"fmt"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/stdlib"
)

// Stack values (kstack, ustack) are IDs; the programs store each stack's
// frames once in a side map of its layout (codegen/stacks.go), from which
// the library reads them when it prints a stack (stdlib/stackid.go). A
// session keeps the stacks of its runs, since the maps it carries into a
// later run hold IDs that the later run's side maps may not have.

// readStack is the library's stdlib.StackReader for the run: the stack
// of layout s with the given ID, from the loaded script's side map, or
// from those of the session's earlier runs.
func (r *run) readStack(s stdlib.StackLayout, id uint64) ([]byte, bool) {
	if m := r.loaded.coll.Maps[codegen.StackMapRef(s)]; m != nil {
		b := make([]byte, m.ValueSize())
		if err := m.Lookup(id, &b); err == nil {
			return b, true
		}
	}
	return r.session.stack(s, id)
}

// reportLostStacks warns about stacks that could not be stored because
// their side map was full: they print as lost stacks, and the warning
// says why and how many.
func (r *run) reportLostStacks() {
	n := r.lostCount(codegen.LostStacks)
	if n == 0 || len(r.script.Code.Stacks) == 0 {
		return
	}
	capacity := r.script.Code.Specs[codegen.StackMapRef(r.script.Code.Stacks[0])].MaxEntries
	fmt.Fprintf(r.stderr, "WARNING: the stack map is full (%d stacks): %d stacks were lost, and print as [lost stack ID]\n", capacity, n)
}

// savedStacks are the stacks of a session's runs, by layout name and ID.
type savedStacks map[string]map[uint64][]byte

// saveStacks keeps the stacks of the run's side maps in the session.
func (s *Session) saveStacks(r *run) error {
	for _, layout := range r.script.Code.Stacks {
		m := r.loaded.coll.Maps[codegen.StackMapRef(layout)]
		byID := s.stacks[layout.Name()]
		if byID == nil {
			byID = map[uint64][]byte{}
			s.stacks[layout.Name()] = byID
		}
		var id uint64
		b := make([]byte, m.ValueSize())
		it := m.Iterate()
		for it.Next(&id, &b) {
			byID[id] = append([]byte(nil), b...)
		}
		if err := it.Err(); err != nil {
			return fmt.Errorf("reading the stacks of layout %s: %w", layout.Name(), err)
		}
	}
	return nil
}

// stack returns a stack an earlier run of the session stored. A nil
// session has none.
func (s *Session) stack(layout stdlib.StackLayout, id uint64) ([]byte, bool) {
	if s == nil {
		return nil, false
	}
	b, ok := s.stacks[layout.Name()][id]
	return b, ok
}
