package runtime

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/lang/check"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib/format"
)

// Session runs scripts one after another and keeps their maps between
// runs, as an interactive session does: one can trace for a while, stop,
// look at the maps with a later script (`BEGIN { print(@x); exit(); }`),
// and trace again, adding to the same counts.
//
// The maps live in user space between runs. When a run ends (after END,
// when the maps are printed), the session takes a copy of every map of
// the script: its raw entries, one value per CPU for aggregations, and its
// contents decoded for printing. When a later script of the session is
// loaded, every map of it that has the name and the same layout (key and
// value types, aggregation and its parameters) as a kept one is filled
// with the kept entries before BEGIN runs and anything is attached; a
// per-CPU value goes back to the CPU it came from. A script that uses a
// kept map without assigning it (print(@x), clear(@x), @y = @x[k]) is
// compiled with the kept map's types (Session.Compile). A map that a
// script gives another layout starts empty in that run and replaces the
// kept one when the run ends.
//
// Maps whose keys or values hold probe names are printed by Maps but not
// carried into later runs: the name is stored as a number that means
// something only to the script that wrote it.
//
// A Session is not safe for concurrent use; runs are one at a time.
type Session struct {
	maps map[string]*savedMap
	// stacks are the stacks the runs stored (see stacks.go): the kept
	// maps' stack values are IDs that name them.
	stacks savedStacks
}

// savedMap is a map as a run left it.
type savedMap struct {
	key, value *types.Type
	// layout describes the map's storage; contents go back only into a
	// map of the same layout.
	layout  string
	entries []entryRaw
	// keyless is set for an aggregation without keys (a per-CPU array
	// whose only key is 0).
	keyless bool
	// portable is false when the contents hold probe numbers.
	portable bool
	printed  *format.Map
}

// NewSession returns a session that keeps no maps yet.
func NewSession() *Session { return &Session{maps: map[string]*savedMap{}, stacks: savedStacks{}} }

// Compile compiles a script as the package's Compile does, with the
// session's maps known to the checker: a map the script uses but never
// assigns has the type of the session's map of that name.
func (s *Session) Compile(name, text string, opts CompileOptions) (*Script, error) {
	opts.knownMaps = map[string]check.KnownMap{}
	for n, m := range s.maps {
		opts.knownMaps[n] = check.KnownMap{Key: m.key, Value: m.value}
	}
	return Compile(name, text, opts)
}

// Run runs script as Script.Run does, first filling its maps with the
// session's, and keeps its maps in the session when it ends. A run that
// fails before its END probes leaves the session's maps as they were.
func (s *Session) Run(ctx context.Context, script *Script, opts RunOptions) (int, error) {
	opts.session = s
	return script.Run(ctx, opts)
}

// MapNames lists the names of the maps the session keeps, sorted.
func (s *Session) MapNames() []string {
	names := make([]string, 0, len(s.maps))
	for n := range s.maps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// PrintMaps writes the session's maps as a run prints them at exit
// (without the blank lines that start that dump): those named, or all of
// them when names is empty. It returns an error naming a map the session
// does not have.
func (s *Session) PrintMaps(w io.Writer, names ...string) error {
	if len(names) == 0 {
		names = s.MapNames()
	}
	var maps []*format.Map
	for _, n := range names {
		m := s.maps[n]
		if m == nil {
			return fmt.Errorf("the session has no map %s", n)
		}
		maps = append(maps, m.printed)
	}
	return format.WriteMaps(w, maps)
}

// Clear forgets the maps named, or every map when names is empty. It
// returns an error naming a map the session does not have, after
// forgetting the others.
func (s *Session) Clear(names ...string) error {
	if len(names) == 0 {
		clear(s.maps)
		clear(s.stacks)
		return nil
	}
	var missing []string
	for _, n := range names {
		if s.maps[n] == nil {
			missing = append(missing, n)
		}
		delete(s.maps, n)
	}
	if len(missing) > 0 {
		return fmt.Errorf("the session has no map %s", strings.Join(missing, ", "))
	}
	return nil
}

// restore fills the loaded script's maps with the session's entries of
// the same name and layout. Entries that do not fit (a smaller
// max_map_keys) are reported on w and left out. A nil session does
// nothing.
func (s *Session) restore(script *Script, l *loaded, w io.Writer) {
	if s == nil {
		return
	}
	for _, m := range script.Code.Maps {
		sm := s.maps[m.Name]
		if sm == nil {
			continue
		}
		if !sm.portable {
			fmt.Fprintf(w, "note: %s holds probe names, which do not carry over from one script to another: it starts empty\n", m.Name)
			continue
		}
		if sm.layout != mapLayout(m) {
			fmt.Fprintf(w, "note: %s is %s in this script, %s in the session: it starts empty, and replaces the session's when the run ends\n",
				m.Name, describeMap(m.Key, m.Value), describeMap(sm.key, sm.value))
			continue
		}
		km := l.coll.Maps[m.Ref]
		for _, e := range sm.entries {
			var key any = e.key
			if sm.keyless {
				key = m.Slot
			}
			var value any = e.values[0]
			if m.Agg != nil {
				vals := make([]rawValue, len(e.values))
				for i, v := range e.values {
					vals[i] = v
				}
				value = vals
			}
			if err := km.Update(key, value, ebpf.UpdateAny); err != nil {
				fmt.Fprintf(w, "WARNING: %s: could not restore the session's entries: %v\n", m.Name, err)
				break
			}
		}
	}
}

// save keeps a copy of every map of the run's script. A nil session does
// nothing.
func (s *Session) save(r *run) error {
	if s == nil {
		return nil
	}
	if err := s.saveStacks(r); err != nil {
		return err
	}
	for _, m := range r.script.Code.Maps {
		raws, err := r.readRaw(m)
		if err != nil {
			return err
		}
		printed, err := r.readMap(m)
		if err != nil {
			return err
		}
		s.maps[m.Name] = &savedMap{
			key:      m.Key,
			value:    m.Value,
			layout:   mapLayout(m),
			entries:  raws,
			keyless:  m.Keyless(),
			portable: !hasProbe(m.Key) && !hasProbe(m.Value),
			printed:  printed,
		}
	}
	return nil
}

// describeMap names a map's types for messages: "count()", "int64",
// "string[16] -> int64".
func describeMap(key, value *types.Type) string {
	if key == nil {
		return value.String()
	}
	return key.String() + " -> " + value.String()
}

// mapLayout describes everything about a map's storage that must agree
// for entries of one script's map to mean the same in another's.
func mapLayout(m *codegen.Map) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %d %d %d ", m.Spec.Type, m.Spec.KeySize, m.Spec.ValueSize, m.KeySize)
	if m.Agg != nil {
		fmt.Fprintf(&b, "agg=%s/%d ", m.Agg.Kind, m.Agg.ValueSize)
	}
	typeLayout(&b, m.Key)
	b.WriteString(" -> ")
	typeLayout(&b, m.Value)
	return b.String()
}

// typeLayout writes what identifies t's storage.
func typeLayout(b *strings.Builder, t *types.Type) {
	if t == nil {
		b.WriteString("none")
		return
	}
	fmt.Fprintf(b, "{%d %d %t %d %q %q %q %d %d %d %d %d", t.Kind, t.Size, t.Signed, t.Len, t.Name, t.Agg, t.Param, t.Frames, t.HistBits, t.LhistMin, t.LhistMax, t.LhistStep)
	for _, n := range t.Names {
		fmt.Fprintf(b, " .%s", n)
	}
	for _, e := range t.Elems {
		b.WriteByte(' ')
		typeLayout(b, e)
	}
	switch t.Kind {
	case types.Array:
		b.WriteByte(' ')
		typeLayout(b, t.Elem)
	case types.Pointer:
		// Pointed-to types can be recursive; their names are enough.
		fmt.Fprintf(b, " *%s", t.Elem)
	}
	b.WriteByte('}')
}

// hasProbe reports whether t holds a probe name anywhere.
func hasProbe(t *types.Type) bool {
	if t == nil {
		return false
	}
	if t.Kind == types.Probe {
		return true
	}
	for _, e := range t.Elems {
		if hasProbe(e) {
			return true
		}
	}
	return t.Kind == types.Array && hasProbe(t.Elem)
}
